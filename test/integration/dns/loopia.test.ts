import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeLoopia, startFakeLoopia } from '../../support/fake-cloud/loopia.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Loopia provider: XML-RPC calls carrying the API user's credentials, against a fake Loopia API.

const ZONE = 'example.test.';
const USER = 'acmekit@loopiaapi';
const PASSWORD = secret('loopia-password');
const WRONG = secret('loopia-wrong');
const CANARIES = [PASSWORD, WRONG];

let h: RestDnsHarness;
let fake: FakeLoopia;
const good = { LOOPIA_API_USER: USER, LOOPIA_API_PASSWORD: PASSWORD };
before(async () => {
  h = await restDnsHarness({
    code: 'loopia',
    zone: ZONE,
    baseEnv: () => ({ LOOPIA_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeLoopia({
    ca: h.ca,
    users: {
      [USER]: { password: PASSWORD, domains: ['example.test'] },
      'readonly@loopiaapi': { password: PASSWORD, domains: ['example.test'], methods: ['getZoneRecords'] },
    },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'loopia (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, LOOPIA_API_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('loopia: XML-RPC calls with the credentials first, a relative subdomain, TTL at least 300', async () => {
  const p = await h.provider(good);
  const r = h.record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(`${q.method} ${q.path}`, 'POST /RPCSERV');
    assert.equal(q.headers['content-type'], 'text/xml; charset=utf-8');
  }
  assert.equal(
    sent[1]!.body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<methodCall><methodName>addZoneRecord</methodName><params>' +
      `<param><value><string>${USER}</string></value></param>` +
      `<param><value><string>${PASSWORD}</string></value></param>` +
      '<param><value><string>example.test</string></value></param>' +
      `<param><value><string>${r.name}</string></value></param>` +
      '<param><value><struct><member><name>type</name><value><string>TXT</string></value></member>' +
      '<member><name>ttl</name><value><int>300</int></value></member>' +
      '<member><name>priority</name><value><int>0</int></value></member>' +
      `<member><name>rdata</name><value><string>${r.value}</string></value></member>` +
      '<member><name>record_id</name><value><int>0</int></value></member></struct></value></param>' +
      '</params></methodCall>',
  );
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  assert.ok(fake.subdomains('example.test').includes(r.name));
  const before = fake.methods().length;
  await p.cleanup(r, live());
  assert.deepEqual(fake.methods().slice(before), [
    'getZoneRecords',
    'removeZoneRecord',
    'getZoneRecords',
    'removeSubdomain',
  ]);
  assert.ok(!fake.subdomains('example.test').includes(r.name), 'the empty subdomain is removed');
});

test('loopia: a subdomain with other records, and the apex, are kept', async () => {
  const p = await h.provider(good);
  const r = h.record('shared');
  fake.addOther('example.test', r.name, 'A', '192.0.2.1');
  await p.present(r, live());
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  assert.ok(fake.subdomains('example.test').includes(r.name));
  const apex = h.record(null);
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  const before = fake.methods().length;
  await p.cleanup(apex, live());
  assert.deepEqual(fake.methods().slice(before), ['getZoneRecords', 'removeZoneRecord']);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('loopia: AUTH_ERROR for a wrong password, a missing permission or a foreign domain is reported', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, LOOPIA_API_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.match(
    wrong.message,
    /^loopia: present: credentials refused .*AUTH_ERROR.*LOOPIA_API_USER and LOOPIA_API_PASSWORD/,
  );
  const readonly = await h.failure(
    (await h.provider({ ...good, LOOPIA_API_USER: 'readonly@loopiaapi' })).present(h.record(), live()),
  );
  assert.match(readonly.message, /while trying to create the TXT record .*addZoneRecord, removeZoneRecord/);
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'other.test.'), live()));
  assert.match(outside.message, /AUTH_ERROR.*domain is in its account/);
});

test('loopia: RATE_LIMITED, 429 and 5xx are retried; faults and lasting errors are reported', async () => {
  const p = await h.provider(good);
  const limited = {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    text: '<?xml version="1.0"?><methodResponse><params><param><value><string>RATE_LIMITED</string></value></param></params></methodResponse>',
  };
  fake.failNext(limited, 2);
  fake.failNext({ status: 429, text: 'Too Many Requests' }, 1);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(limited, 4);
  const slow = await h.failure(p.present(h.record(), live()));
  assert.match(slow.message, /rate limited while trying to list .*RATE_LIMITED/);
  fake.failNext(
    {
      status: 200,
      text: '<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>620</int></value></member><member><name>faultString</name><value><string>Method not found</string></value></member></struct></value></fault></methodResponse>',
    },
    1,
  );
  const faulted = await h.failure(p.present(h.record(), live()));
  assert.match(faulted.message, /Loopia refused to list .*fault 620: Method not found/);
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const down = await h.failure(p.present(h.record(), live()));
  assert.equal(down.status, 503);
  assert.match(down.message, /Loopia API error .*try again in a few minutes/);
});
