import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakePorkbun, startFakePorkbun } from '../../support/fake-cloud/porkbun.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Porkbun provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Porkbun API v3.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const KEY = secret('pk1');
const SECRET = secret('sk1');
const WRONG = secret('sk1-wrong');
const CANARIES = [KEY, SECRET, WRONG];

let ca: TestCa;
let fake: FakePorkbun;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakePorkbun({
    ca,
    domains: { 'example.test': {}, 'closed.test': { api: false } },
    keys: { [KEY]: SECRET },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('porkbun', {
    env: { PORKBUN_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    // Retries of 429/5xx without real waiting.
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}
const good = () => provider({ PORKBUN_API_KEY: KEY, PORKBUN_SECRET_API_KEY: SECRET });

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 300,
  };
}
const live = (): AbortSignal => new AbortController().signal;

async function failure(p: Promise<unknown>): Promise<DnsProviderError> {
  const err = await p.then(
    () => assert.fail('expected a DnsProviderError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DnsProviderError, `got ${String(err)}`);
  const text = `${String(err)}\n${JSON.stringify(err)}\n${(err as Error).stack}`;
  for (const c of CANARIES) assert.ok(!text.includes(c), 'a secret appears in the error');
  return err;
}

dnsProviderContract({
  name: 'porkbun (fake API)',
  zone: ZONE,
  create: good,
  createWithBadCredentials: () => provider({ PORKBUN_API_KEY: KEY, PORKBUN_SECRET_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('porkbun: keys in the JSON body, records by name and type, the subdomain relative; apex without one', async () => {
  const p = await good();
  const apex = record(null);
  const sub = record('www');
  const from = fake.requests.length;
  await p.present(apex, live());
  await p.present(sub, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.method, 'POST');
    const body = JSON.parse(q.body) as Record<string, unknown>;
    assert.equal(body.apikey, KEY);
    assert.equal(body.secretapikey, SECRET);
  }
  assert.deepEqual(
    sent.map((q) => q.path),
    [
      '/api/json/v3/dns/retrieveByNameType/example.test/TXT',
      '/api/json/v3/dns/create/example.test',
      '/api/json/v3/dns/retrieveByNameType/example.test/TXT/_acme-challenge.www',
      '/api/json/v3/dns/create/example.test',
    ],
  );
  const { apikey: _k, secretapikey: _s, ...created } = JSON.parse(sent[3]!.body) as Record<string, unknown>;
  assert.deepEqual(created, { name: '_acme-challenge.www', type: 'TXT', content: sub.value, ttl: '600' });
  assert.deepEqual(fake.ttls(sub.fqdn), [600]);
  const fresh = await good();
  await fresh.cleanup(apex, live());
  await fresh.cleanup(sub, live());
  assert.deepEqual(await fake.values(ZONE), []);
  assert.deepEqual(await fake.values(sub.fqdn), []);
});

test('porkbun: a record deleted meanwhile is not an error at cleanup', async () => {
  const p = await good();
  const r = record();
  await p.present(r, live());
  await (await good()).cleanup(r, live());
  // p still remembers the id it created; Porkbun refuses to delete it again.
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('porkbun: refused keys, domains without API access and unknown domains give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ PORKBUN_API_KEY: KEY, PORKBUN_SECRET_API_KEY: WRONG })).present(record(), live()),
  );
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.message,
    /^porkbun: present: credentials refused .*Invalid API key.*PORKBUN_SECRET_API_KEY/,
  );
  const closed = await failure((await good()).present(record('x', 'closed.test.'), live()));
  assert.match(closed.message, /not opted in to API access/);
  const missing = await failure((await good()).present(record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /Invalid domain/);
  await assert.rejects(
    provider({ PORKBUN_API_KEY: KEY, PORKBUN_SECRET_API_KEY: SECRET, PORKBUN_TTL: '120' }),
    /PORKBUN_TTL must be at least 300/,
  );
});

test('porkbun: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await good();
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { status: 'ERROR', message: 'Rate limit exceeded.' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { status: 'ERROR', message: 'Service unavailable.' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Porkbun API error while trying to .*Service unavailable.*try again in a few minutes/,
  );
});
