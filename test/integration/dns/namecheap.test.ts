import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeNamecheap, startFakeNamecheap } from '../../support/fake-cloud/namecheap.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Namecheap provider: getHosts, then setHosts with every record of the domain, against a fake of the
// XML API.

const ZONE = 'example.test.';
const USER = 'acmekituser';
const KEY = secret('namecheap-key');
const WRONG = secret('namecheap-wrong');
const CANARIES = [KEY, WRONG];
const IP = '198.51.100.7';

const OTHERS = [
  { name: '@', type: 'A', address: '192.0.2.1', mxPref: '10', ttl: '1800' },
  { name: '@', type: 'MX', address: 'mail.example.test.', mxPref: '20', ttl: '3600' },
  { name: '@', type: 'CAA', address: '0 issue "letsencrypt.org"', mxPref: '10', ttl: '1800' },
  { name: '@', type: 'TXT', address: 'v=spf1 include:example.net ~all', mxPref: '10', ttl: '300' },
  { name: 'www', type: 'CNAME', address: 'example.test.', mxPref: '10', ttl: '1200' },
];

let h: RestDnsHarness;
let fake: FakeNamecheap;
const good = { NAMECHEAP_API_USER: USER, NAMECHEAP_API_KEY: KEY, NAMECHEAP_CLIENT_IP: IP };
before(async () => {
  h = await restDnsHarness({
    code: 'namecheap',
    zone: ZONE,
    baseEnv: () => ({ NAMECHEAP_API_URL: fake.apiUrl, NAMECHEAP_IP_LOOKUP_URL: fake.ipLookupUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeNamecheap({
    ca: h.ca,
    users: {
      [USER]: { key: KEY, whitelist: [IP], domains: ['example.test', 'example.co.test', 'elsewhere.test'] },
    },
    seed: { 'example.test': { emailType: 'MX', hosts: OTHERS } },
    foreignDns: ['elsewhere.test'],
    publicIp: IP,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'namecheap (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, NAMECHEAP_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('namecheap: every other record (MX, CAA, TXT, CNAME, TTLs, EmailType) survives a present and a cleanup', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const sub = h.record('www');
  await p.present(apex, live());
  await p.present(sub, live());
  const withOurs = fake.hosts('example.test');
  assert.deepEqual(
    withOurs.slice(0, OTHERS.length),
    OTHERS,
    'the records before ours are unchanged, in order',
  );
  assert.deepEqual(withOurs.slice(OTHERS.length), [
    { name: '@', type: 'TXT', address: apex.value, mxPref: '10', ttl: '60' },
    { name: '_acme-challenge.www', type: 'TXT', address: sub.value, mxPref: '10', ttl: '60' },
  ]);
  await p.cleanup(apex, live());
  await p.cleanup(sub, live());
  assert.deepEqual(fake.hosts('example.test'), OTHERS);
  assert.equal(fake.emailType('example.test'), 'MX');
});

test('namecheap: the global parameters go in a POST form (no key in the URL); SLD and TLD split at the first dot', async () => {
  const p = await h.provider(good);
  const r = h.record('split', 'example.co.test.');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => fake.params(q).get('Command')),
    ['namecheap.domains.dns.getHosts', 'namecheap.domains.dns.getHosts', 'namecheap.domains.dns.setHosts'],
  );
  for (const q of sent) {
    assert.equal(q.method, 'POST');
    assert.equal([...q.query].length, 0, 'nothing in the query string');
    const form = new URLSearchParams(q.body);
    assert.equal(form.get('ApiUser'), USER);
    assert.equal(form.get('UserName'), USER);
    assert.equal(form.get('ApiKey'), KEY);
    assert.equal(form.get('ClientIp'), IP);
    assert.equal(form.get('SLD'), 'example');
    assert.equal(form.get('TLD'), 'co.test');
  }
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(fake.hosts('example.co.test'), []);
});

test('namecheap: without NAMECHEAP_CLIENT_IP the public IP is looked up once', async () => {
  const p = await h.provider({ NAMECHEAP_API_USER: USER, NAMECHEAP_API_KEY: KEY });
  const from = fake.requests.length;
  const r = h.record();
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  assert.equal(sent.filter((q) => q.path === '/getip').length, 1);
  for (const q of sent.filter((q) => q.path !== '/getip')) assert.equal(fake.params(q).get('ClientIp'), IP);
});

test('namecheap: refused keys, unlisted IPs, unknown domains and foreign nameservers give actionable errors', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, NAMECHEAP_API_KEY: WRONG })).present(h.record(), live()),
  );
  assert.match(
    wrong.message,
    /^namecheap: present: credentials refused .*error 1011102.*check NAMECHEAP_API_USER and NAMECHEAP_API_KEY/,
  );
  const ip = await h.failure(
    (await h.provider({ ...good, NAMECHEAP_CLIENT_IP: '203.0.113.9' })).present(h.record(), live()),
  );
  assert.match(ip.message, /error 1011150.*not whitelisted.*NAMECHEAP_CLIENT_IP/);
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /Namecheap refused to list the host records of nothere\.test \(error 2019166: Domain not found\)/,
  );
  const foreign = await h.failure((await h.provider(good)).present(h.record('x', 'elsewhere.test.'), live()));
  assert.match(foreign.message, /elsewhere\.test does not use Namecheap's nameservers/);
  await assert.rejects(
    h.provider({ ...good, NAMECHEAP_CLIENT_IP: 'my-host' }),
    /NAMECHEAP_CLIENT_IP must be an IP address/,
  );
});

test('namecheap: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /Namecheap API error while trying to .*try again in a few minutes/);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
