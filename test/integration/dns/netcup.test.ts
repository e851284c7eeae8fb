import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeNetcup, startFakeNetcup } from '../../support/fake-cloud/netcup.ts';
import { jsonBody } from '../../support/fake-cloud/server.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The netcup provider on the REST layer: a login session, then infoDnsRecords / updateDnsRecords, against
// a fake of the CCP API's JSON endpoint.

const ZONE = 'example.test.';
const CUSTOMER = '12345';
const KEY = secret('netcup-key');
const PASSWORD = secret('netcup-password');
const WRONG = secret('netcup-wrong');
const CANARIES = [KEY, PASSWORD, WRONG];

let h: RestDnsHarness;
let fake: FakeNetcup;
const good = { NETCUP_CUSTOMER_NUMBER: CUSTOMER, NETCUP_API_KEY: KEY, NETCUP_API_PASSWORD: PASSWORD };
before(async () => {
  h = await restDnsHarness({
    code: 'netcup',
    zone: ZONE,
    baseEnv: () => ({ NETCUP_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeNetcup({
    ca: h.ca,
    customers: { [CUSTOMER]: { apiKey: KEY, apiPassword: PASSWORD, zones: ['example.test', 'empty.test'] } },
    seed: {
      'example.test': [
        { hostname: '@', type: 'A', destination: '192.0.2.1' },
        { hostname: '@', type: 'TXT', destination: 'v=spf1 -all' },
      ],
    },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'netcup (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, NETCUP_API_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('netcup: one login, then actions with the session; only the new record is sent; the apex is "@"', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from).map((q) => jsonBody(q)!);
  assert.deepEqual(
    sent.map((b) => b.action),
    ['login', 'infoDnsRecords', 'updateDnsRecords'],
  );
  assert.deepEqual(sent[0]!.param, { customernumber: CUSTOMER, apikey: KEY, apipassword: PASSWORD });
  const update = sent[2]!.param as Record<string, unknown>;
  assert.equal(update.customernumber, CUSTOMER);
  assert.equal(update.apikey, KEY);
  assert.equal(typeof update.apisessionid, 'string');
  assert.equal(update.apipassword, undefined, 'the password is only sent to log in');
  assert.deepEqual(update.dnsrecordset, {
    dnsrecords: [{ hostname: '@', type: 'TXT', priority: '', destination: apex.value }],
  });
  assert.deepEqual((await fake.values(ZONE)).sort(), [apex.value, 'v=spf1 -all'].sort());
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), ['v=spf1 -all'], 'the other TXT record at the apex survives');
  assert.equal(fake.records('example.test').filter((r) => r.type === 'A').length, 1);
  assert.equal(
    fake
      .actions()
      .slice(from)
      .filter((a) => a === 'login').length,
    1,
    'one session per instance',
  );
});

test('netcup: a zone with no records yet (5029) is an empty list; an expired session is opened again', async () => {
  const p = await h.provider(good);
  const r = h.record('first', 'empty.test.');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.expireSessions();
  const from = fake.requests.length;
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  assert.deepEqual(fake.actions().slice(from), [
    'infoDnsRecords',
    'login',
    'infoDnsRecords',
    'updateDnsRecords',
  ]);
});

test('netcup: refused logins and unknown zones give actionable errors without secrets', async () => {
  const bad = await h.failure(
    (await h.provider({ ...good, NETCUP_API_KEY: WRONG })).present(h.record(), live()),
  );
  assert.match(
    bad.message,
    /^netcup: present: credentials refused by the netcup login \(status 4013, Validation Error\..*check NETCUP_CUSTOMER_NUMBER/,
  );
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /netcup refused to create the TXT record .*\(status 5028, .*could not be found.*check that the domain is one of customer NETCUP_CUSTOMER_NUMBER/,
  );
});

test('netcup: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /netcup CCP API error while trying to .*try again in a few minutes/);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
