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
import { type FakeVultr, startFakeVultr } from '../../support/fake-cloud/vultr.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Vultr provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Vultr API v2.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const KEY = secret('vultr-good');
const WRONG = secret('vultr-wrong');
const CANARIES = [KEY, WRONG];

let ca: TestCa;
let fake: FakeVultr;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeVultr({
    ca,
    domains: ['example.test', 'other.test'],
    apiKeys: [KEY],
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('vultr', {
    env: { VULTR_API_URL: fake.apiUrl, ...env },
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
    ttl: 120,
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
  name: 'vultr (fake API)',
  zone: ZONE,
  create: () => provider({ VULTR_API_KEY: KEY }),
  createWithBadCredentials: () => provider({ VULTR_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('vultr: Bearer key, the domain by name, a relative name, quoted data; apex and cursor paging', async () => {
  const p = await provider({ VULTR_API_KEY: KEY });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${KEY}`);
  assert.equal(sent[0]?.path, '/v2/domains/example.test/records');
  assert.equal(sent[0]?.query.get('per_page'), '500');
  const post = sent.find((q) => q.method === 'POST');
  assert.deepEqual(JSON.parse(post!.body), {
    name: '',
    type: 'TXT',
    data: `"${apex.value}"`,
    ttl: 120,
    priority: 0,
  });
  // Five records at one name, pages of two: the list follows the cursor.
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ VULTR_API_KEY: KEY });
  const before = fake.requests.length;
  await fresh.cleanup(many[4]!, live());
  assert.ok(
    fake.requests.slice(before).some((q) => q.query.get('cursor')),
    'the cleanup lookup followed the cursor',
  );
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('vultr: a refused key and an unknown domain give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ VULTR_API_KEY: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^vultr: present: credentials refused .*Invalid API token.*check VULTR_API_KEY/,
  );
  const missing = await failure(
    (await provider({ VULTR_API_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
  );
  assert.equal(missing.status, 404);
  assert.match(
    missing.message,
    /not found .*Domain not found.*check that the zone is in the account of VULTR_API_KEY/,
  );
});

test('vultr: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ VULTR_API_KEY: KEY });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: 'Rate limit reached', status: 429 } },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: 'Service unavailable', status: 503 } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Vultr API error while trying to .*Service unavailable.*try again in a few minutes/,
  );
});
