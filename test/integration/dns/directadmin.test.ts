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
  sameName,
} from '../../support/dns-rest-harness.ts';
import { type FakeDirectAdmin, startFakeDirectAdmin } from '../../support/fake-cloud/directadmin.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The DirectAdmin provider on the REST layer, against a fake of DirectAdmin's CMD_API_DNS_CONTROL.

const ZONE = 'example.test.';
const PASSWORD = canary('da-password');
const LOGIN_KEY = canary('da-loginkey');
const WRONG = canary('da-wrong');
const CANARIES = [PASSWORD, LOGIN_KEY, WRONG];

let ca: TestCa;
let fake: FakeDirectAdmin;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeDirectAdmin({
    ca,
    domains: { 'example.test': 'alice', 'bobs.test': 'bob' },
    users: { alice: [PASSWORD, LOGIN_KEY], bob: ['bobs-password'] },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('directadmin', {
    env: {
      DIRECTADMIN_API_URL: fake.apiUrl,
      DIRECTADMIN_USERNAME: 'alice',
      DIRECTADMIN_PASSWORD: PASSWORD,
      ...env,
    },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'directadmin (fake CMD_API_DNS_CONTROL)',
  zone: ZONE,
  create: () => provider({}),
  createWithBadCredentials: () => provider({ DIRECTADMIN_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('directadmin: Basic auth, the zone file read, a quoted value added, the line selected for deletion', async () => {
  const p = await provider({ DIRECTADMIN_PASSWORD: LOGIN_KEY });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  const basic = `Basic ${Buffer.from(`alice:${LOGIN_KEY}`).toString('base64')}`;
  for (const q of sent) assert.equal(q.headers.authorization, basic);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}?${q.query}`),
    [
      'GET /CMD_API_DNS_CONTROL?domain=example.test',
      'POST /CMD_API_DNS_CONTROL?',
      'GET /CMD_API_DNS_CONTROL?domain=example.test',
      'POST /CMD_API_DNS_CONTROL?',
    ],
  );
  assert.equal(sent[1]?.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[1]!.body)), {
    domain: 'example.test',
    action: 'add',
    type: 'TXT',
    name: '_acme-challenge.shape',
    value: `"${r.value}"`,
    ttl: '60',
  });
  const del = new URLSearchParams(sent[3]!.body);
  assert.deepEqual([del.get('domain'), del.get('action')], ['example.test', 'select']);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(del.get('txtrecs0')!)), {
    name: '_acme-challenge.shape',
    value: `"${r.value}"`,
  });
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('directadmin: the apex keeps its SPF record; a line written by hand is found and removed', async () => {
  const p = await provider({});
  const apex = record(null);
  await p.present(apex, live());
  assert.deepEqual((await fake.values(ZONE)).sort(), ['v=spf1 a mx ip4:192.0.2.20 ~all', apex.value].sort());
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), ['v=spf1 a mx ip4:192.0.2.20 ~all']);
  const r = record('byhand');
  fake.addLine('example.test', `_acme-challenge.byhand.example.test.`, 'TXT', `"${r.value}"`);
  const other = sameName(r);
  await p.present(r, live()); // already there
  await p.present(other, live());
  assert.deepEqual((await fake.values(r.fqdn)).sort(), [r.value, other.value].sort());
  await (await provider({})).cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [other.value]);
  await p.cleanup(other, live());
});

test('directadmin: DIRECTADMIN_ZONE_NAME names the zone to write in', async () => {
  const p = await provider({ DIRECTADMIN_ZONE_NAME: 'example.test' });
  // The core found a deeper zone (a delegation DirectAdmin does not have); the variable wins.
  const r = { ...record('deep'), zone: 'deep.example.test.', name: '_acme-challenge' };
  await p.present(r, live());
  const add = fake.requests.filter((q) => q.method === 'POST').at(-1)!;
  assert.equal(new URLSearchParams(add.body).get('name'), '_acme-challenge.deep');
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('directadmin: a wrong password and a domain of another user give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ DIRECTADMIN_PASSWORD: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*Unauthorized.*check DIRECTADMIN_USERNAME and DIRECTADMIN_PASSWORD/,
  );
  const foreign = await failure((await provider({})).present(record('x', 'bobs.test.'), live()), CANARIES);
  assert.match(
    foreign.message,
    /DirectAdmin refused to read the DNS zone bobs\.test \(Cannot View Dns Record: You do not own that domain\): check that bobs\.test is a domain of DIRECTADMIN_USERNAME/,
  );
});

test('directadmin: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({});
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 503s');
  await p.cleanup(r, live());
  fake.failNext({ status: 500, text: 'Internal Server Error' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 500);
  assert.match(err.message, /DirectAdmin API error while trying to .*try again in a few minutes/);
});
