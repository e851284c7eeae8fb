import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeJoker, startFakeJoker } from '../../support/fake-cloud/joker.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Joker provider in both of lego's modes: DMAPI (a session, the whole zone read and written back) and
// SVC (the Dynamic DNS replace call), against a fake of both services.

const ZONE = 'example.test.';
const PASSWORD = secret('joker-password');
const WRONG = secret('joker-wrong');
const API_KEY = secret('joker-key');
const READ_KEY = secret('joker-readkey');
const DYN_PASSWORD = secret('joker-dyndns');
const CANARIES = [PASSWORD, WRONG, API_KEY, READ_KEY, DYN_PASSWORD];
// Other records of the zone, among them Dynamic DNS credentials as Joker keeps them: all must survive.
const OTHERS = [
  '$dyndns=yes:dynuser:stored-secret',
  '@ A 0 192.0.2.1 86400',
  'www CNAME 0 @ 86400',
  'note TXT 0 "hello world" 3600',
];

let h: RestDnsHarness;
let fake: FakeJoker;
const good = { JOKER_USERNAME: 'me@example.test', JOKER_PASSWORD: PASSWORD };
const svc = { JOKER_API_MODE: 'SVC', JOKER_USERNAME: 'dynuser', JOKER_PASSWORD: DYN_PASSWORD };
before(async () => {
  h = await restDnsHarness({
    code: 'joker',
    zone: ZONE,
    baseEnv: () => ({ JOKER_DMAPI_URL: fake.dmapiUrl, JOKER_SVC_URL: fake.svcUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeJoker({
    ca: h.ca,
    accounts: { 'me@example.test': { password: PASSWORD, domains: ['example.test', 'svc.test'] } },
    apiKeys: {
      [API_KEY]: { account: 'me@example.test' },
      [READ_KEY]: { account: 'me@example.test', readOnly: true },
    },
    dynDns: { 'svc.test': { username: 'dynuser', password: DYN_PASSWORD } },
    zoneLines: OTHERS,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'joker DMAPI (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, JOKER_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('joker DMAPI: one login, auth-sid in every form, the zone rewritten with the other records kept', async () => {
  const p = await h.provider(good);
  const r = h.record('shape');
  const from = fake.requests.length;
  const logins = fake.logins();
  await p.present(r, live());
  assert.equal(fake.logins() - logins, 1);
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'POST /request/login',
      'POST /request/dns-zone-get',
      'POST /request/dns-zone-get',
      'POST /request/dns-zone-put',
    ],
  );
  for (const q of sent) assert.equal(q.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[0]!.body)), {
    username: 'me@example.test',
    password: PASSWORD,
  });
  const sid = new URLSearchParams(sent[1]!.body).get('auth-sid');
  assert.match(sid ?? '', /^[0-9a-f]{32}$/);
  for (const q of sent.slice(1)) assert.equal(new URLSearchParams(q.body).get('auth-sid'), sid);
  const put = new URLSearchParams(sent[3]!.body);
  assert.equal(put.get('domain'), 'example.test');
  assert.deepEqual(put.get('zone')?.split('\n'), [...OTHERS, `${r.name} TXT 0 "${r.value}" 60`]);
  const apex = h.record(null);
  await p.present(apex, live());
  assert.ok(fake.zone('example.test').includes(`@ TXT 0 "${apex.value}" 60`));
  await p.cleanup(r, live());
  await p.cleanup(apex, live());
  assert.deepEqual(fake.zone('example.test'), OTHERS);
});

test('joker DMAPI: concurrent writes to one zone all land; an ended session is replaced once', async () => {
  const p = await h.provider(good);
  const rs = Array.from({ length: 4 }, (_, i) => h.record(`c${i}`));
  await Promise.all(rs.map((r) => p.present(r, live())));
  for (const r of rs) assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.endSessions();
  const logins = fake.logins();
  await Promise.all(rs.map((r) => p.cleanup(r, live())));
  assert.equal(fake.logins() - logins, 1);
  assert.deepEqual(fake.zone('example.test'), OTHERS);
});

test('joker DMAPI: API keys log in too; a read-only key, a foreign domain and a wrong password are reported', async () => {
  const byKey = await h.provider({ JOKER_API_KEY: API_KEY });
  const r = h.record();
  const from = fake.requests.length;
  await byKey.present(r, live());
  assert.deepEqual(Object.fromEntries(new URLSearchParams(fake.requests[from]!.body)), {
    'api-key': API_KEY,
  });
  await byKey.cleanup(r, live());
  const readOnly = await h.failure(
    (await h.provider({ JOKER_API_KEY: READ_KEY })).present(h.record(), live()),
  );
  assert.match(
    readOnly.message,
    /Joker refused to create the TXT record .*Access denied: This API key is read-only/,
  );
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'other.test.'), live()));
  assert.match(outside.message, /Joker refused to read the zone other\.test \(Object does not exist/);
  const wrong = await h.failure(
    (await h.provider({ ...good, JOKER_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^joker: present: credentials refused by the Joker DMAPI login \(HTTP 401, Authentication error/,
  );
});

test('joker SVC: replace with the value, then with nothing; a second value at one name is refused', async () => {
  const zone = 'svc.test.';
  const p = await h.provider(svc);
  const a = h.record('one', zone);
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(a, live());
  const sent = fake.requests.slice(from);
  assert.equal(sent.length, 1, 'the same value twice is sent once');
  assert.equal(`${sent[0]!.method} ${sent[0]!.path}`, 'POST /nic/replace');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[0]!.body)), {
    username: 'dynuser',
    password: DYN_PASSWORD,
    zone: 'svc.test',
    label: a.name,
    type: 'TXT',
    value: a.value,
  });
  assert.deepEqual(await fake.values(a.fqdn), [a.value]);
  const b = { ...h.record('one', zone), fqdn: a.fqdn, name: a.name };
  const refused = await h.failure(p.present(b, live()));
  assert.match(refused.message, /keeps one TXT value per name.*JOKER_API_MODE=DMAPI/);
  assert.deepEqual(await fake.values(a.fqdn), [a.value]);
  await p.cleanup(b, live());
  assert.deepEqual(
    await fake.values(a.fqdn),
    [a.value],
    'the cleanup of a value never published keeps the other',
  );
  await p.cleanup(a, live());
  assert.equal(new URLSearchParams(fake.requests.at(-1)!.body).get('value'), '');
  assert.deepEqual(await fake.values(a.fqdn), []);
  // After a restart the name is cleared, as lego does; and cleanup without present does not throw.
  const c = h.record('two', zone);
  await p.present(c, live());
  await (await h.provider(svc)).cleanup(c, live());
  assert.deepEqual(await fake.values(c.fqdn), []);
  await (await h.provider(svc)).cleanup(h.record('never', zone), live());
  assert.ok(fake.zone('svc.test').join('\n').includes('www CNAME'), 'other records survive');
});

test('joker SVC: refused credentials and an aborted signal', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...svc, JOKER_PASSWORD: WRONG })).present(h.record('x', 'svc.test.'), live()),
  );
  assert.match(wrong.message, /^joker: present: credentials refused .*badauth.*Dynamic DNS credentials/);
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects((await h.provider(svc)).present(h.record('x', 'svc.test.'), ac.signal));
});

test('joker: the mode and the credentials it needs are checked before any request', async () => {
  const invalid = (env: Record<string, string>, pattern: RegExp) =>
    assert.rejects(
      h.provider(env),
      (e: unknown) => e instanceof InvalidInputError && pattern.test(e.message),
    );
  await invalid({ ...good, JOKER_API_MODE: 'REST' }, /JOKER_API_MODE must be DMAPI or SVC/);
  await invalid({ JOKER_USERNAME: 'me' }, /set JOKER_API_KEY, or JOKER_USERNAME and JOKER_PASSWORD/);
  await invalid({ JOKER_API_MODE: 'SVC', JOKER_API_KEY: API_KEY }, /JOKER_USERNAME is not set/);
  await h.provider({ ...svc, JOKER_API_MODE: 'svc' });
});

test('joker DMAPI: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2, (q) =>
    q.path.startsWith('/request/dns-'),
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Joker API error .*try again in a few minutes/);
});
