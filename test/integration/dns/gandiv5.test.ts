import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeGandi, startFakeGandi } from '../../support/fake-cloud/gandiv5.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Gandi LiveDNS provider on the REST layer (src/dns/rest-provider.ts, RRsets read and written back),
// against a fake of the LiveDNS API.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const PAT = secret('gandi-pat');
const READ_ONLY = secret('gandi-read');
const API_KEY = secret('gandi-key');
const WRONG = secret('gandi-wrong');
const CANARIES = [PAT, READ_ONLY, API_KEY, WRONG];

let ca: TestCa;
let fake: FakeGandi;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeGandi({
    ca,
    domains: ['example.test', 'other.test'],
    tokens: { [PAT]: {}, [READ_ONLY]: { write: false } },
    apiKeys: [API_KEY],
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('gandiv5', {
    env: { GANDIV5_API_URL: fake.apiUrl, ...env },
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
  name: 'gandiv5 (fake API)',
  zone: ZONE,
  create: () => provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT }),
  createWithBadCredentials: () => provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('gandiv5: Bearer token; the RRset written with the value added, then without it, then deleted; apex "@"', async () => {
  const p = await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT });
  const a = record(null);
  const b = { ...record(null), fqdn: a.fqdn };
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${PAT}`);
  const puts = sent.filter((q) => q.method === 'PUT');
  assert.deepEqual(
    puts.map((q) => q.path),
    ['/v5/livedns/domains/example.test/records/@/TXT', '/v5/livedns/domains/example.test/records/@/TXT'],
  );
  assert.deepEqual(JSON.parse(puts[0]!.body), { rrset_ttl: 300, rrset_values: [a.value] });
  assert.deepEqual(JSON.parse(puts[1]!.body), { rrset_ttl: 300, rrset_values: [a.value, b.value] });

  const fresh = await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT });
  await fresh.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  const last = fake.requests.length;
  await fresh.cleanup(b, live());
  assert.ok(
    fake.requests.slice(last).some((q) => q.method === 'DELETE'),
    'the last value deletes the RRset',
  );
  assert.equal(fake.ttl(ZONE), undefined);
});

test('gandiv5: two values presented at once at one name both survive; a TTL below 300 is raised', async () => {
  const p = await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT });
  const a = { ...record('both'), ttl: 60 };
  const b = { ...record('both'), fqdn: a.fqdn };
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value].sort());
  assert.equal(fake.ttl(a.fqdn), 300);
  await Promise.all([p.cleanup(a, live()), p.cleanup(b, live())]);
  assert.deepEqual(await fake.values(a.fqdn), []);
});

test('gandiv5: the deprecated API key goes as "Apikey", with a warning; the token wins when both are set', async () => {
  const lines = logLines.length;
  const p = await provider({ GANDIV5_API_KEY: API_KEY });
  assert.ok(logLines.slice(lines).some((l) => l.includes('GANDIV5_API_KEY is deprecated')));
  const r = record();
  const from = fake.requests.length;
  await p.present(r, live());
  assert.equal(fake.requests[from]?.headers.authorization, `Apikey ${API_KEY}`);
  await p.cleanup(r, live());
  const both = await provider({ GANDIV5_API_KEY: API_KEY, GANDIV5_PERSONAL_ACCESS_TOKEN: PAT });
  const at = fake.requests.length;
  await both.cleanup(record(), live());
  assert.equal(fake.requests[at]?.headers.authorization, `Bearer ${PAT}`);
  await assert.rejects(provider({}), InvalidInputError);
  await assert.rejects(provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT, GANDIV5_TTL: '120' }), /at least 300/);
});

test('gandiv5: refused and read-only tokens, domains not on LiveDNS give actionable errors without secrets', async () => {
  const wrong = await failure(
    (await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: WRONG })).present(record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^gandiv5: present: credentials refused .*GANDIV5_PERSONAL_ACCESS_TOKEN/);
  const readOnly = await failure(
    (await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: READ_ONLY })).present(record(), live()),
  );
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.message, /Access was denied/);
  const missing = await failure(
    (await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /domain nothere\.test is not on Gandi LiveDNS/);
});

test('gandiv5: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ GANDIV5_PERSONAL_ACCESS_TOKEN: PAT });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: {
        code: 429,
        message: 'Too many requests',
        object: 'HTTPTooManyRequests',
        cause: 'Too Many Requests',
      },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext(
    {
      status: 503,
      json: { code: 503, message: 'Service unavailable', object: 'HTTPServiceUnavailable', cause: 'x' },
    },
    4,
  );
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Gandi LiveDNS API error while trying to .*Service unavailable.*try again in a few minutes/,
  );
});
