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
import { type FakeLinode, startFakeLinode } from '../../support/fake-cloud/linode.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Linode provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Linode API v4.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('linode-good');
const READ_ONLY = secret('linode-read');
const WRONG = secret('linode-wrong');
const CANARIES = [TOKEN, READ_ONLY, WRONG];

let ca: TestCa;
let fake: FakeLinode;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeLinode({
    ca,
    domains: ['example.test', 'other.test'],
    tokens: { [TOKEN]: {}, [READ_ONLY]: { write: false } },
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('linode', {
    env: { LINODE_API_URL: fake.apiUrl, ...env },
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
  name: 'linode (fake API)',
  zone: ZONE,
  create: () => provider({ LINODE_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ LINODE_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('linode: Bearer token, the domain by X-Filter, a relative name, TTL at least 300; apex and paging', async () => {
  const p = await provider({ LINODE_TOKEN: TOKEN });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(sent[0]?.headers['x-filter'], JSON.stringify({ domain: 'example.test' }));
  const post = sent.find((q) => q.method === 'POST');
  assert.deepEqual(JSON.parse(post!.body), { type: 'TXT', name: '', target: apex.value, ttl_sec: 300 });
  // Five more records at one name: the list needs three pages of two.
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ LINODE_TOKEN: TOKEN });
  await fresh.cleanup(many[4]!, live());
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('linode: refused tokens and unknown domains give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ LINODE_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^linode: present: credentials refused .*Invalid Token.*check LINODE_TOKEN/);
  const readOnly = await failure((await provider({ LINODE_TOKEN: READ_ONLY })).present(record(), live()));
  assert.equal(readOnly.status, 401);
  const missing = await failure(
    (await provider({ LINODE_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /domain nothere\.test is not in the Linode account of LINODE_TOKEN/);
});

test('linode: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ LINODE_TOKEN: TOKEN });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { errors: [{ reason: 'Too many requests' }] } },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { errors: [{ reason: 'Service unavailable' }] } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Linode API error while trying to .*Service unavailable.*try again in a few minutes/,
  );
});
