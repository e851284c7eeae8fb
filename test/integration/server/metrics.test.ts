import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import { AcmeClient } from '../../../src/acme/client.ts';
import { certificateFiles } from '../../../src/lifecycle/certificate-files.ts';
import { autoHttps } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { deactivateStoredAccountAuthorizations } from '../../support/authorizations.ts';
import { startPebble } from '../../support/pebble.ts';
import { closeServer, listen, peek } from './support.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The registry's text exposition, parsed into samples (what Prometheus itself would scrape). */
async function scrape(registry: Registry): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)
    ?.value;
}

test('metrics against Pebble: expiry of the served certificate, obtained and renewed counts, lock waits, and a failed renewal with its reason', async () => {
  const pebble = await startPebble({ authzReuse: 0 });
  cleanups.push(() => pebble.stop());
  const roots = await pebble.roots();
  const registry = new Registry();
  const store = new MemoryStore();
  const id = 'metrics.example.com';
  const tls = await autoHttps({
    domains: [id],
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
    store,
    challenges: ['http-01'],
    metrics: { registry },
  });
  cleanups.push(() => tls.close());
  const http = createHttpServer(tls.httpHandler());
  await listen(http, pebble.httpPort);
  const https = createHttpsServer(tls.serverOptions, (_req, res) => res.end('ok'));
  const port = await listen(https);
  cleanups.push(
    () => closeServer(http),
    () => closeServer(https),
  );
  const servedNotAfter = async (): Promise<number> => {
    const h = await peek(port, { servername: id, ca: roots });
    assert.equal(h.authorized, true, h.authorizationError);
    return Date.parse(h.cert.valid_to) / 1000;
  };
  // The server's account gives up its valid authorization, so the next renewal must validate again
  // (Pebble reuses one about 1 order in 100 even at PEBBLE_AUTHZREUSE=0).
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  cleanups.push(() => client.close());
  const forgetAuthorization = async (): Promise<void> => {
    assert.equal(await deactivateStoredAccountAuthorizations(store, client), 1);
  };

  await tls.ready({ signal: AbortSignal.timeout(30_000) });
  let s = await scrape(registry);
  assert.equal(sample(s, 'acmekit_certificate_expiry_timestamp_seconds', { id }), await servedNotAfter());
  assert.equal(sample(s, 'acmekit_certificates_obtained_total', { on_demand: 'false' }), 1);
  assert.equal(sample(s, 'acmekit_challenges_total', { type: 'http-01', result: 'valid' }), 1);
  assert.equal(sample(s, 'acmekit_lock_wait_seconds_count', { result: 'acquired' }), 1);
  assert.equal(sample(s, 'acmekit_renewals_total', { result: 'success' }), undefined);

  await forgetAuthorization();
  // Another holder keeps the certificate's lease for a moment: the forced renewal waits for it.
  const before = await servedNotAfter();
  const files = certificateFiles(id);
  const held = await store.lock(files.lockName, { ttlMs: 30_000 });
  setTimeout(() => void held.release(), 400);
  await tls.renew(id, { force: true });
  s = await scrape(registry);
  assert.equal(sample(s, 'acmekit_renewals_total', { result: 'success' }), 1);
  assert.equal(sample(s, 'acmekit_challenges_total', { type: 'http-01', result: 'valid' }), 2);
  assert.equal(sample(s, 'acmekit_lock_wait_seconds_count', { result: 'acquired' }), 2);
  const waited = sample(s, 'acmekit_lock_wait_seconds_sum', { result: 'acquired' })!;
  assert.ok(waited >= 0.35, `the renewal waited ${waited} s for the held lease`);
  const renewedNotAfter = await servedNotAfter();
  assert.ok(renewedNotAfter >= before);
  assert.equal(sample(s, 'acmekit_certificate_expiry_timestamp_seconds', { id }), renewedNotAfter);

  // Port 80 goes away: the CA cannot validate, the renewal fails and says why.
  await closeServer(http);
  await forgetAuthorization();
  await assert.rejects(tls.renew(id, { force: true }), { code: 'ERR_AUTHORIZATION_FAILED' });
  s = await scrape(registry);
  assert.equal(
    sample(s, 'acmekit_renewals_total', { result: 'failure', reason: 'ERR_AUTHORIZATION_FAILED' }),
    1,
  );
  assert.equal(sample(s, 'acmekit_challenges_total', { type: 'http-01', result: 'invalid' }), 1);
  assert.equal(
    sample(s, 'acmekit_certificate_obtain_failures_total', { reason: 'ERR_AUTHORIZATION_FAILED' }),
    undefined,
  );
  assert.equal(
    sample(s, 'acmekit_certificate_expiry_timestamp_seconds', { id }),
    await servedNotAfter(),
    'the failure leaves the certificate in service, and its expiry, as they were',
  );

  // After close the per-certificate series are gone; totals stay.
  await tls.close();
  s = await scrape(registry);
  assert.equal(sample(s, 'acmekit_certificate_expiry_timestamp_seconds', { id }), undefined);
  assert.equal(sample(s, 'acmekit_renewals_total', { result: 'success' }), 1);
  assert.equal((await registry.metrics()).includes('PRIVATE KEY'), false);
});
