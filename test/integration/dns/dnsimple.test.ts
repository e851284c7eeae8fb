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
import { type FakeDnsimple, startFakeDnsimple } from '../../support/fake-cloud/dnsimple.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The DNSimple provider on the REST layer (src/dns/rest-provider.ts), against a fake of the DNSimple API v2.

const ZONE = 'example.test.';
const ACCOUNT = 1385;
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('dnsimple-account');
const USER_TOKEN = secret('dnsimple-user');
const WRONG = secret('dnsimple-wrong');
const CANARIES = [TOKEN, USER_TOKEN, WRONG];

let ca: TestCa;
let fake: FakeDnsimple;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeDnsimple({
    ca,
    accountId: ACCOUNT,
    zones: ['example.test', 'other.test'],
    tokens: { [TOKEN]: 'account', [USER_TOKEN]: 'user' },
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('dnsimple', {
    env: { DNSIMPLE_BASE_URL: fake.baseUrl, ...env },
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
  name: 'dnsimple (fake API)',
  zone: ZONE,
  create: () => provider({ DNSIMPLE_OAUTH_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ DNSIMPLE_OAUTH_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('dnsimple: the account from whoami, records filtered by name and type, exact create body; apex and paging', async () => {
  const p = await provider({ DNSIMPLE_OAUTH_TOKEN: TOKEN });
  const apex = record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'GET /v2/whoami',
      `GET /v2/${ACCOUNT}/zones/example.test`,
      `GET /v2/${ACCOUNT}/zones/example.test/records`,
      `POST /v2/${ACCOUNT}/zones/example.test/records`,
    ],
  );
  assert.equal(sent[2]?.query.get('name'), '');
  assert.equal(sent[2]?.query.get('type'), 'TXT');
  assert.deepEqual(JSON.parse(sent[3]!.body), { name: '', type: 'TXT', content: apex.value, ttl: 120 });
  // Five records at one name, pages of two.
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ DNSIMPLE_OAUTH_TOKEN: TOKEN });
  const before = fake.requests.length;
  await fresh.cleanup(many[4]!, live());
  assert.ok(
    fake.requests.slice(before).some((q) => q.query.get('page') === '3'),
    'read the third page',
  );
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('dnsimple: refused and user tokens, unknown zones give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ DNSIMPLE_OAUTH_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^dnsimple: present: credentials refused .*Authentication failed.*DNSIMPLE_OAUTH_TOKEN/,
  );
  const user = await failure(
    (await provider({ DNSIMPLE_OAUTH_TOKEN: USER_TOKEN })).present(record(), live()),
  );
  assert.match(user.message, /not an account token/);
  const missing = await failure(
    (await provider({ DNSIMPLE_OAUTH_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(
    missing.message,
    /zone nothere\.test is not in the DNSimple account 1385 of DNSIMPLE_OAUTH_TOKEN/,
  );
});

test('dnsimple: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ DNSIMPLE_OAUTH_TOKEN: TOKEN });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { message: 'API rate limit exceeded' } },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 502, json: { message: 'Bad gateway' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /DNSimple API error while trying to .*Bad gateway.*try again in a few minutes/);
});
