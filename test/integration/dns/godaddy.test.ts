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
import { type FakeGodaddy, startFakeGodaddy } from '../../support/fake-cloud/godaddy.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The GoDaddy provider on the REST layer (src/dns/rest-provider.ts, the records of a name replaced as a
// whole), against a fake of the GoDaddy Domains API v1.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const KEY = secret('godaddy-key');
const SECRET = secret('godaddy-secret');
const SMALL_KEY = secret('godaddy-small');
const SMALL_SECRET = secret('godaddy-small-secret');
const WRONG = secret('godaddy-wrong');
const CANARIES = [KEY, SECRET, SMALL_KEY, SMALL_SECRET, WRONG];

let ca: TestCa;
let fake: FakeGodaddy;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeGodaddy({
    ca,
    domains: ['example.test', 'other.test'],
    keys: { [KEY]: SECRET, [SMALL_KEY]: SMALL_SECRET },
    denied: [SMALL_KEY],
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('godaddy', {
    env: { GODADDY_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    // Retries of 429/5xx without real waiting.
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE, ttl = 600): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return { fqdn, zone, name: relativeName(fqdn, zone), value: randomBytes(32).toString('base64url'), ttl };
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
  name: 'godaddy (fake API)',
  zone: ZONE,
  create: () => provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET }),
  createWithBadCredentials: () => provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('godaddy: sso-key header; the TXT records of the name replaced with the value added, then removed; apex "@"', async () => {
  const p = await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET });
  const a = record(null, ZONE, 60);
  const b = { ...record(null), fqdn: a.fqdn };
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `sso-key ${KEY}:${SECRET}`);
  const puts = sent.filter((q) => q.method === 'PUT');
  assert.deepEqual(
    puts.map((q) => q.path),
    ['/v1/domains/example.test/records/TXT/@', '/v1/domains/example.test/records/TXT/@'],
  );
  assert.deepEqual(JSON.parse(puts[0]!.body), [{ data: a.value, ttl: 600 }], 'the TTL raised to 600');
  assert.deepEqual(JSON.parse(puts[1]!.body), [
    { data: a.value, ttl: 600 },
    { data: b.value, ttl: 600 },
  ]);
  const fresh = await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET });
  await fresh.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  const last = fake.requests.length;
  await fresh.cleanup(b, live());
  assert.ok(
    fake.requests.slice(last).some((q) => q.method === 'DELETE'),
    'the last value deletes the records',
  );
  assert.deepEqual(await fake.values(ZONE), []);
});

test('godaddy: two values presented at once at one name both survive; GODADDY_TTL below 600 is refused', async () => {
  const p = await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET });
  const a = record('both');
  const b = { ...record('both'), fqdn: a.fqdn };
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value].sort());
  await Promise.all([p.cleanup(a, live()), p.cleanup(b, live())]);
  assert.deepEqual(await fake.values(a.fqdn), []);
  await assert.rejects(
    provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET, GODADDY_TTL: '300' }),
    /GODADDY_TTL must be at least 600/,
  );
});

test('godaddy: refused keys, accounts closed to the DNS API and unknown domains give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: WRONG })).present(record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^godaddy: present: credentials refused .*UNABLE_TO_AUTHENTICATE.*GODADDY_API_SECRET/,
  );
  const small = await failure(
    (await provider({ GODADDY_API_KEY: SMALL_KEY, GODADDY_API_SECRET: SMALL_SECRET })).present(
      record(),
      live(),
    ),
  );
  assert.equal(small.status, 403);
  assert.match(small.message, /ACCESS_DENIED/);
  const missing = await failure(
    (await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET })).present(
      record('x', 'nothere.test.'),
      live(),
    ),
  );
  assert.equal(missing.status, 404);
  assert.match(missing.message, /UNKNOWN_DOMAIN.*check that the zone is in the account of GODADDY_API_KEY/);
});

test('godaddy: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ GODADDY_API_KEY: KEY, GODADDY_API_SECRET: SECRET });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: {
        code: 'TOO_MANY_REQUESTS',
        message: 'Too many requests received within interval',
        retryAfterSec: 1,
      },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal error' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /GoDaddy API error while trying to .*Internal error.*try again in a few minutes/);
});
