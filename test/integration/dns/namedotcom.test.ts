import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  canary,
  failure,
  instantClock,
  keptLogs,
  live,
  recordMaker,
} from '../../support/dns-rest-harness.ts';
import { type FakeNamecom, startFakeNamecom } from '../../support/fake-cloud/namedotcom.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Name.com provider on the REST layer, against a fake of the Name.com API v4 DNS endpoints.

const ZONE = 'example.test.';
const USER = 'foo.bar';
const TOKEN = canary('namecom-good');
const WRONG = canary('namecom-wrong');
const CANARIES = [TOKEN, WRONG];

let ca: TestCa;
let fake: FakeNamecom;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeNamecom({
    ca,
    domains: ['example.test', 'other.test'],
    users: { [USER]: TOKEN },
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('namedotcom', {
    env: { NAMECOM_SERVER: fake.apiUrl, NAMECOM_USERNAME: USER, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'namedotcom (fake API)',
  zone: ZONE,
  create: () => provider({ NAMECOM_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ NAMECOM_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('namedotcom: Basic authentication, a relative host, the TTL raised to 300', async () => {
  const p = await provider({ NAMECOM_API_TOKEN: TOKEN });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  const basic = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`;
  for (const q of sent) assert.equal(q.headers.authorization, basic);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['GET /v4/domains/example.test/records', 'POST /v4/domains/example.test/records'],
  );
  assert.deepEqual(JSON.parse(sent[1]!.body), {
    host: '_acme-challenge.shape',
    type: 'TXT',
    answer: r.value,
    ttl: 300,
  });
  await p.cleanup(r, live());
  assert.match(
    `${fake.requests.at(-1)?.method} ${fake.requests.at(-1)?.path}`,
    /^DELETE \/v4\/domains\/example\.test\/records\/\d+$/,
  );
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('namedotcom: the apex is the empty host; records are found across pages after a restart', async () => {
  const p = await provider({ NAMECOM_API_TOKEN: TOKEN });
  const apex = record(null);
  await p.present(apex, live());
  assert.equal(JSON.parse(fake.requests.at(-1)!.body).host, '');
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ NAMECOM_API_TOKEN: TOKEN });
  await fresh.cleanup(many[4]!, live());
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('namedotcom: NAMECOM_SERVER may be a bare host name (HTTPS)', async () => {
  const p = await provider({ NAMECOM_API_TOKEN: TOKEN, NAMECOM_SERVER: new URL(fake.apiUrl).host });
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
});

test('namedotcom: refused credentials and a domain outside the account give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ NAMECOM_API_TOKEN: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*Unauthenticated.*NAMECOM_USERNAME and NAMECOM_API_TOKEN/,
  );
  const missing = await failure(
    (await provider({ NAMECOM_API_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.equal(missing.status, 404);
  assert.match(missing.message, /not found .*Not Found: domain nothere\.test is not in this account/);
});

test('namedotcom: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ NAMECOM_API_TOKEN: TOKEN });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'Too Many Requests' } }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { message: 'Service Unavailable' } }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Name\.com API error while trying to .*Service Unavailable.*try again in a few minutes/,
  );
});
