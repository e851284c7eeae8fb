import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeLuadns, startFakeLuadns } from '../../support/fake-cloud/luadns.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The LuaDNS provider on the REST layer, against a fake of the LuaDNS REST API v1.

const ZONE = 'example.test.';
const EMAIL = 'owner@example.test';
const TOKEN = secret('luadns-good');
const WRONG = secret('luadns-wrong');
const CANARIES = [TOKEN, WRONG, Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')];

let h: RestDnsHarness;
let fake: FakeLuadns;
const good = { LUADNS_API_USERNAME: EMAIL, LUADNS_API_TOKEN: TOKEN };

before(async () => {
  h = await restDnsHarness({
    code: 'luadns',
    zone: ZONE,
    baseEnv: () => ({ LUADNS_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeLuadns({
    ca: h.ca,
    zones: ['example.test', 'sub.example.test'],
    accounts: { [EMAIL]: TOKEN },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'luadns (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, LUADNS_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('luadns: Basic auth and Accept on every call, absolute names, TTL at least 300; apex; a nested zone', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.headers.authorization, `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`);
    assert.equal(q.headers.accept, 'application/json');
  }
  const post = sent.find((q) => q.method === 'POST');
  assert.match(post!.path, /^\/v1\/zones\/1000\/records$/);
  assert.deepEqual(JSON.parse(post!.body), {
    name: 'example.test.',
    type: 'TXT',
    content: apex.value,
    ttl: 300,
  });
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await h.provider(good)).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
  // The zone the core names is the one used, not its parent.
  const nested = h.record('a', 'sub.example.test.');
  await p.present(nested, live());
  assert.match(fake.requests.at(-1)!.path, /^\/v1\/zones\/1001\/records$/);
  await p.cleanup(nested, live());
  assert.deepEqual(await fake.values(nested.fqdn), []);
});

test('luadns: refused credentials and unknown zones give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, LUADNS_API_TOKEN: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*invalid email or API key.*LUADNS_API_USERNAME and LUADNS_API_TOKEN/,
  );
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /zone nothere\.test is not in the LuaDNS account/);
});

test('luadns: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '2' },
      json: { status: 'Too Many Requests', message: 'slow down' },
    },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(
    { status: 500, json: { status: 'Internal Server Error', message: 'database unavailable' } },
    4,
  );
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /LuaDNS API error while trying to .*database unavailable.*try again/);
});
