import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeEasyDns, startFakeEasyDns } from '../../support/fake-cloud/easydns.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The easyDNS provider on the REST layer, against a fake of the easyDNS REST API.

const ZONE = 'example.test.';
const TOKEN = secret('easydns-token');
const KEY = secret('easydns-key');
const WRONG = secret('easydns-wrong');
const CANARIES = [TOKEN, KEY, WRONG, Buffer.from(`${TOKEN}:${KEY}`).toString('base64')];

let h: RestDnsHarness;
let fake: FakeEasyDns;
const good = { EASYDNS_TOKEN: TOKEN, EASYDNS_KEY: KEY };

before(async () => {
  h = await restDnsHarness({
    code: 'easydns',
    zone: ZONE,
    baseEnv: () => ({ EASYDNS_ENDPOINT: fake.endpoint }),
    canaries: CANARIES,
  });
  fake = await startFakeEasyDns({ ca: h.ca, domains: ['example.test'], users: { [TOKEN]: KEY } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'easydns (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, EASYDNS_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('easydns: Basic auth and format=json, PUT with string TTL and prio, "@" at the apex, DELETE by id', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.headers.authorization, `Basic ${Buffer.from(`${TOKEN}:${KEY}`).toString('base64')}`);
    assert.equal(q.query.get('format'), 'json');
  }
  const put = sent.find((q) => q.method === 'PUT');
  assert.equal(put?.path, '/zones/records/add/example.test/TXT');
  assert.deepEqual(JSON.parse(put!.body), {
    domain: 'example.test',
    host: '@',
    ttl: '60',
    prio: '0',
    type: 'TXT',
    rdata: apex.value,
  });
  await (await h.provider(good)).cleanup(apex, live());
  assert.match(fake.requests.at(-1)!.path, /^\/zones\/records\/example\.test\/\d+$/);
  assert.deepEqual(await fake.values(ZONE), []);
  // EASYDNS_SEQUENCE_INTERVAL from a lego env file is accepted.
  await h.provider({ ...good, EASYDNS_SEQUENCE_INTERVAL: '30' });
});

test('easydns: refused credentials and unknown domains give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, EASYDNS_KEY: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*Invalid API token or key.*EASYDNS_TOKEN and EASYDNS_KEY/,
  );
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /domain nothere\.test is not in the easyDNS account of EASYDNS_TOKEN/);
});

test('easydns: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: { code: 429, message: 'Rate limit' } } },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: { code: 503, message: 'Maintenance' } } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /easyDNS API error while trying to .*Maintenance.*try again/);
});
