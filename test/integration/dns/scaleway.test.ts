import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider, type LoadedDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeScaleway, startFakeScaleway } from '../../support/fake-cloud/scaleway.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Scaleway provider on the REST layer, against a fake of the Domains and DNS API v2beta1.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const KEY = secret('scw-good');
const READ_ONLY = secret('scw-read');
const WRONG = secret('scw-wrong');
const CANARIES = [KEY, READ_ONLY, WRONG];

let ca: TestCa;
let fake: FakeScaleway;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeScaleway({
    ca,
    zones: ['example.test', 'other.test'],
    keys: { [KEY]: {}, [READ_ONLY]: { write: false } },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function load(env: EnvSource): Promise<LoadedDnsProvider> {
  return createDnsProvider('scaleway', {
    env: { SCW_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
}
const provider = async (env: EnvSource): Promise<DnsProvider> => (await load(env)).provider;

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
  name: 'scaleway (fake API)',
  zone: ZONE,
  create: () => provider({ SCW_SECRET_KEY: KEY }),
  createWithBadCredentials: () => provider({ SCW_SECRET_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('scaleway: X-Auth-Token, records filtered by name and type, one add change with quoted data', async () => {
  const p = await provider({ SCW_SECRET_KEY: KEY });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers['x-auth-token'], KEY);
  assert.equal(sent[0]?.method, 'GET');
  assert.equal(sent[0]?.path, '/domain/v2beta1/dns-zones/example.test/records');
  assert.equal(sent[0]?.query.get('name'), '_acme-challenge.shape');
  assert.equal(sent[0]?.query.get('type'), 'TXT');
  const patch = sent.find((q) => q.method === 'PATCH');
  assert.deepEqual(JSON.parse(patch!.body), {
    changes: [
      {
        add: {
          records: [
            {
              name: '_acme-challenge.shape',
              type: 'TXT',
              data: `"${r.value}"`,
              ttl: 60,
              priority: 0,
              comment: 'acmekit dns-01',
            },
          ],
        },
      },
    ],
    return_all_records: false,
    disallow_new_zone_creation: true,
  });
  // Cleanup in the same process deletes by the id the answer gave, without a lookup.
  const cleanupFrom = fake.requests.length;
  await p.cleanup(r, live());
  const cleanup = fake.requests.slice(cleanupFrom);
  assert.deepEqual(
    cleanup.map((q) => q.method),
    ['PATCH'],
  );
  assert.match(JSON.stringify(JSON.parse(cleanup[0]!.body).changes), /^\[\{"delete":\{"id":"[^"]+"\}\}\]$/);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('scaleway: the apex is the empty name; records are listed across pages', async () => {
  const small = await startFakeScaleway({ ca, zones: ['example.test'], keys: { [KEY]: {} }, maxPageSize: 2 });
  try {
    const loaded = await createDnsProvider('scaleway', {
      env: { SCW_API_URL: small.apiUrl, SCW_SECRET_KEY: KEY },
      caBundle: ca.rootPem,
      logger,
    });
    const apex = record(null);
    await loaded.provider.present(apex, live());
    assert.deepEqual(await small.values(ZONE), [apex.value]);
    const post = small.requests.find((q) => q.method === 'PATCH');
    assert.equal(JSON.parse(post!.body).changes[0].add.records[0].name, '');
    const many = Array.from({ length: 5 }, () => ({
      ...record('paged'),
      fqdn: `_acme-challenge.paged.${ZONE}`,
    }));
    for (const r of many) await loaded.provider.present(r, live());
    const fresh = await createDnsProvider('scaleway', {
      env: { SCW_API_URL: small.apiUrl, SCW_SECRET_KEY: KEY },
      caBundle: ca.rootPem,
    });
    await fresh.provider.cleanup(many[4]!, live());
    assert.equal((await small.values(many[0]!.fqdn)).length, 4);
    for (const r of [...many.slice(0, 4), apex]) await fresh.provider.cleanup(r, live());
    assert.deepEqual(await small.values(many[0]!.fqdn), []);
    assert.deepEqual(await small.values(ZONE), []);
  } finally {
    await small.close();
  }
});

test("scaleway: lego's variables: SCALEWAY_API_TOKEN for the key, SCW_ settings after SCALEWAY_ ones", async () => {
  const loaded = await load({ SCALEWAY_API_TOKEN: KEY, SCW_TTL: '300', SCW_POLLING_INTERVAL: '5' });
  assert.equal(loaded.settings.ttl, 300);
  assert.equal(loaded.settings.pollingIntervalMs, 5000);
  assert.equal(loaded.settings.propagationTimeoutMs, 120_000);
  const first = await load({ SCW_SECRET_KEY: KEY, SCALEWAY_TTL: '600', SCW_TTL: '300' });
  assert.equal(first.settings.ttl, 600);
  const r = record();
  await loaded.provider.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await loaded.provider.cleanup(r, live());
});

test('scaleway: refused and read-only keys, an unknown zone: actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ SCW_SECRET_KEY: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*denied_authentication: authentication is denied.*SCW_SECRET_KEY/,
  );
  const readOnly = await failure((await provider({ SCW_SECRET_KEY: READ_ONLY })).present(record(), live()));
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.message, /permissions_denied: insufficient permissions \(dns_zone: write\)/);
  const missing = await failure(
    (await provider({ SCW_SECRET_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
  );
  assert.equal(missing.status, 404);
  assert.match(
    missing.message,
    /not found .*not_found: resource is not found.*check that the zone is in the account/,
  );
});

test('scaleway: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ SCW_SECRET_KEY: KEY });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { type: 'too_many_requests', message: 'slow down' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { type: 'unavailable', message: 'service unavailable' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Scaleway API error while trying to .*service unavailable.*try again in a few minutes/,
  );
});
