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
import { type FakeVercel, startFakeVercel } from '../../support/fake-cloud/vercel.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Vercel provider on the REST layer (src/dns/rest-provider.ts), against a fake of the Vercel REST API.

const ZONE = 'example.test.';
const TEAM_ZONE = 'team.test.';
const TEAM = 'team_0123456789abcdefghijklmn';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('vercel-good');
const WRONG = secret('vercel-wrong');
const CANARIES = [TOKEN, WRONG];

let ca: TestCa;
let fake: FakeVercel;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeVercel({
    ca,
    domains: { 'example.test': null, 'team.test': TEAM },
    tokens: { [TOKEN]: [TEAM] },
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('vercel', {
    env: { VERCEL_API_URL: fake.apiUrl, ...env },
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
  name: 'vercel (fake API)',
  zone: ZONE,
  create: () => provider({ VERCEL_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ VERCEL_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('vercel: Bearer token, a relative name, the exact create body; apex and paging with until', async () => {
  const p = await provider({ VERCEL_API_TOKEN: TOKEN });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['GET /v5/domains/example.test/records', 'POST /v2/domains/example.test/records'],
  );
  assert.equal(sent[0]?.query.has('teamId'), false);
  assert.deepEqual(JSON.parse(sent[1]!.body), { name: '', type: 'TXT', value: apex.value, ttl: 60 });
  // Five records at one name, pages of two, newest first: the oldest needs the third page.
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ VERCEL_API_TOKEN: TOKEN });
  const before = fake.requests.length;
  await fresh.cleanup(many[0]!, live());
  assert.ok(
    fake.requests.slice(before).filter((q) => q.query.has('until')).length >= 2,
    'followed pagination.next',
  );
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(1), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('vercel: VERCEL_TEAM_ID goes as ?teamId= on every call, for a domain owned by a team', async () => {
  const p = await provider({ VERCEL_API_TOKEN: TOKEN, VERCEL_TEAM_ID: TEAM });
  const r = record('x', TEAM_ZONE);
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  assert.ok(sent.length >= 3);
  for (const q of sent) assert.equal(q.query.get('teamId'), TEAM);
  // Without the team, the domain is not in the token's personal scope.
  const personal = await failure(
    (await provider({ VERCEL_API_TOKEN: TOKEN })).present(record('y', TEAM_ZONE), live()),
  );
  assert.equal(personal.status, 404);
  assert.match(personal.message, /Domain team\.test not found.*VERCEL_TEAM_ID/);
});

test('vercel: a refused token and a team the token is not in give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ VERCEL_API_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.message,
    /^vercel: present: credentials refused .*Not authorized.*check VERCEL_API_TOKEN/,
  );
  const team = await failure(
    (await provider({ VERCEL_API_TOKEN: TOKEN, VERCEL_TEAM_ID: 'team_other' })).present(record(), live()),
  );
  assert.equal(team.status, 403);
});

test('vercel: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ VERCEL_API_TOKEN: TOKEN });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { error: { code: 'rate_limited', message: 'Rate limit exceeded' } },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext(
    {
      status: 500,
      json: { error: { code: 'internal_server_error', message: 'An unexpected error occurred' } },
    },
    4,
  );
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /Vercel API error while trying to .*An unexpected error occurred.*try again in a few minutes/,
  );
});
