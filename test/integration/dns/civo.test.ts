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
import { type FakeCivo, startFakeCivo } from '../../support/fake-cloud/civo.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Civo provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Civo API v2.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('civo-good');
const WRONG = secret('civo-wrong');
const CANARIES = [TOKEN, WRONG];

let ca: TestCa;
let fake: FakeCivo;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeCivo({ ca, domains: ['example.test', 'other.test'], tokens: [TOKEN] });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('civo', {
    env: { CIVO_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    // Retries of 429/5xx without real waiting.
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 60,
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
  name: 'civo (fake API)',
  zone: ZONE,
  create: () => provider({ CIVO_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ CIVO_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('civo: Bearer key, the domain id from the domain list, a relative name, TTL at least 600; apex "@"', async () => {
  const p = await provider({ CIVO_TOKEN: TOKEN });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  const id = fake.domainId(ZONE);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['GET /v2/dns', `GET /v2/dns/${id}/records`, `POST /v2/dns/${id}/records`],
  );
  assert.deepEqual(JSON.parse(sent[2]!.body), { type: 'TXT', name: '@', value: apex.value, ttl: 600 });
  assert.deepEqual(fake.ttls(ZONE), [600]);
  const fresh = await provider({ CIVO_TOKEN: TOKEN });
  await fresh.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('civo: a refused key and a domain not in the account give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ CIVO_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^civo: present: credentials refused .*authentication_invalid_key.*check CIVO_TOKEN/,
  );
  const missing = await failure(
    (await provider({ CIVO_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /DNS domain nothere\.test is not in the Civo account of CIVO_TOKEN/);
});

test('civo: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ CIVO_TOKEN: TOKEN });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { code: 'rate_limited', reason: 'Too many requests' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { code: 'internal_error', reason: 'Internal server error' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /Civo API error while trying to .*Internal server error.*try again in a few minutes/,
  );
});
