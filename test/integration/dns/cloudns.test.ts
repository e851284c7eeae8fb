import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  canary,
  failure,
  instantClock,
  keptLogs,
  live,
  recordMaker,
} from '../../support/dns-rest-harness.ts';
import { type FakeCloudns, startFakeCloudns } from '../../support/fake-cloud/cloudns.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The ClouDNS provider on the REST layer, against a fake of the ClouDNS HTTP API.

const ZONE = 'example.test.';
const PASSWORD = canary('cloudns-good');
const SUB_PASSWORD = canary('cloudns-sub');
const WRONG = canary('cloudns-wrong');
const CANARIES = [PASSWORD, SUB_PASSWORD, WRONG];

let ca: TestCa;
let fake: FakeCloudns;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeCloudns({
    ca,
    zones: ['example.test', 'other.test'],
    users: [
      { id: '1234', password: PASSWORD },
      { id: '777', password: SUB_PASSWORD, sub: true },
    ],
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('cloudns', {
    env: { CLOUDNS_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'cloudns (fake API)',
  zone: ZONE,
  create: () => provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD }),
  createWithBadCredentials: () => provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('cloudns: every call a POST form with auth-id and auth-password, never in the URL; TTL rounded up', async () => {
  const p = await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD, CLOUDNS_TTL: '120' });
  const r = { ...record('shape'), ttl: 120 };
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => q.path),
    ['/dns/get-zone-info.json', '/dns/records.json', '/dns/add-record.json', '/dns/delete-record.json'],
  );
  for (const q of sent) {
    assert.equal(q.method, 'POST');
    assert.equal([...q.query].length, 0, 'nothing in the query string');
    assert.equal(fake.params(q).get('auth-id'), '1234');
    assert.equal(fake.params(q).get('auth-password'), PASSWORD);
  }
  const add = fake.params(sent[2]!);
  assert.deepEqual(
    {
      zone: add.get('domain-name'),
      type: add.get('record-type'),
      host: add.get('host'),
      record: add.get('record'),
      ttl: add.get('ttl'),
    },
    { zone: 'example.test', type: 'TXT', host: '_acme-challenge.shape', record: r.value, ttl: '300' },
  );
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('cloudns: a sub-user (sub-auth-id), the apex as the empty host, cleanup after a restart', async () => {
  const env = { CLOUDNS_SUB_AUTH_ID: '777', CLOUDNS_AUTH_PASSWORD: SUB_PASSWORD };
  const apex = record(null);
  await (await provider(env)).present(apex, live());
  const add = fake.params(fake.requests.at(-1)!);
  assert.equal(add.get('sub-auth-id'), '777');
  assert.equal(add.get('auth-id'), null);
  assert.equal(add.get('host'), '');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await provider(env)).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('cloudns: a record deleted by someone else meanwhile is not an error at cleanup', async () => {
  const p = await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD });
  const r = record('gone');
  await p.present(r, live());
  await (await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD })).cleanup(r, live());
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('cloudns: refused credentials, a zone outside the account, no user id: actionable errors', async () => {
  const wrong = await failure(
    (await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.match(
    wrong.message,
    /credentials refused .*Invalid authentication.*CLOUDNS_AUTH_ID \(or CLOUDNS_SUB_AUTH_ID\)/,
  );
  const missing = await failure(
    (await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD })).present(
      record('x', 'nothere.test.'),
      live(),
    ),
    CANARIES,
  );
  assert.match(missing.message, /zone nothere\.test is not in the ClouDNS account/);
  await assert.rejects(
    provider({ CLOUDNS_AUTH_PASSWORD: PASSWORD }),
    (err: unknown) =>
      err instanceof InvalidInputError && /CLOUDNS_AUTH_ID or CLOUDNS_SUB_AUTH_ID/.test(err.message),
  );
});

test('cloudns: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: PASSWORD });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 502);
  assert.match(err.message, /ClouDNS API error while trying to .*try again in a few minutes/);
});
