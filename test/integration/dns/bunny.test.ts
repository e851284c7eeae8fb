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
import { type FakeBunny, startFakeBunny } from '../../support/fake-cloud/bunny.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The bunny.net provider on the REST layer (src/dns/rest-provider.ts), against a fake of the bunny.net API.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const KEY = secret('bunny-good');
const WRONG = secret('bunny-wrong');
const CANARIES = [KEY, WRONG];

let ca: TestCa;
let fake: FakeBunny;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  // Six zones whose names contain "example.test" come first: with pages of five, the zone is on page two.
  const decoys = Array.from({ length: 6 }, (_, i) => `x${i}example.test`);
  fake = await startFakeBunny({ ca, zones: [...decoys, 'example.test'], apiKeys: [KEY], maxPageSize: 5 });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('bunny', {
    env: { BUNNY_API_URL: fake.apiUrl, ...env },
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
  name: 'bunny (fake API)',
  zone: ZONE,
  create: () => provider({ BUNNY_API_KEY: KEY }),
  createWithBadCredentials: () => provider({ BUNNY_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('bunny: AccessKey header, the zone found by search across pages, Type 3 and a relative name; apex', async () => {
  const p = await provider({ BUNNY_API_KEY: KEY });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.accesskey, KEY);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}${q.query.has('page') ? ` page=${q.query.get('page')}` : ''}`),
    ['GET /dnszone page=1', 'GET /dnszone page=2', 'GET /dnszone/5006', 'PUT /dnszone/5006/records'],
  );
  assert.equal(sent[0]?.query.get('search'), 'example.test');
  assert.deepEqual(JSON.parse(sent[3]!.body), { Type: 3, Name: '', Value: apex.value, Ttl: 60 });
  const fresh = await provider({ BUNNY_API_KEY: KEY });
  await fresh.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
  await assert.rejects(provider({ BUNNY_API_KEY: KEY, BUNNY_TTL: '30' }), /BUNNY_TTL must be at least 60/);
});

test('bunny: a refused key and a zone not in the account give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ BUNNY_API_KEY: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^bunny: present: credentials refused .*check BUNNY_API_KEY/);
  const missing = await failure(
    (await provider({ BUNNY_API_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /DNS zone nothere\.test is not in the bunny\.net account of BUNNY_API_KEY/);
});

test('bunny: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ BUNNY_API_KEY: KEY });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { ErrorKey: 'rate_limited', Field: '', Message: 'Too many requests' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { ErrorKey: 'internal', Field: '', Message: 'Internal error' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /bunny\.net API error while trying to .*Internal error.*try again in a few minutes/,
  );
});
