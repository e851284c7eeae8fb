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
import { type FakeNetlify, startFakeNetlify } from '../../support/fake-cloud/netlify.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Netlify provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Netlify API.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('nfp-good');
const WRONG = secret('nfp-wrong');
const CANARIES = [TOKEN, WRONG];

let ca: TestCa;
let fake: FakeNetlify;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeNetlify({ ca, zones: ['example.test', 'other.test'], tokens: [TOKEN] });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('netlify', {
    env: { NETLIFY_API_URL: fake.apiUrl, ...env },
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
  name: 'netlify (fake API)',
  zone: ZONE,
  create: () => provider({ NETLIFY_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ NETLIFY_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('netlify: Bearer token, the zone id from the zone list, the full hostname; apex', async () => {
  const p = await provider({ NETLIFY_TOKEN: TOKEN });
  const apex = record(null);
  const sub = record('www');
  const from = fake.requests.length;
  await p.present(apex, live());
  await p.present(sub, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  const id = fake.zoneId(ZONE);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'GET /api/v1/dns_zones',
      `GET /api/v1/dns_zones/${id}/dns_records`,
      `POST /api/v1/dns_zones/${id}/dns_records`,
      `GET /api/v1/dns_zones/${id}/dns_records`,
      `POST /api/v1/dns_zones/${id}/dns_records`,
    ],
    'the zone id is looked up once',
  );
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    type: 'TXT',
    hostname: 'example.test',
    value: apex.value,
    ttl: 300,
  });
  assert.equal(
    (JSON.parse(sent[4]!.body) as { hostname: string }).hostname,
    '_acme-challenge.www.example.test',
  );
  const fresh = await provider({ NETLIFY_TOKEN: TOKEN });
  await fresh.cleanup(apex, live());
  await fresh.cleanup(sub, live());
  assert.deepEqual(await fake.values(ZONE), []);
  assert.deepEqual(await fake.values(sub.fqdn), []);
});

test('netlify: a refused token and a zone not in the account give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ NETLIFY_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^netlify: present: credentials refused .*Access Denied.*check NETLIFY_TOKEN/);
  const missing = await failure(
    (await provider({ NETLIFY_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /DNS zone nothere\.test is not in the Netlify account of NETLIFY_TOKEN/);
});

test('netlify: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ NETLIFY_TOKEN: TOKEN });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { code: 429, message: 'Rate limit exceeded' } },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 502, json: { code: 502, message: 'Bad Gateway' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /Netlify API error while trying to .*Bad Gateway.*try again in a few minutes/);
});
