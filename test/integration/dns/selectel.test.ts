import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeSelectel, startFakeSelectel } from '../../support/fake-cloud/selectel.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Selectel provider on the REST layer, against a fake of the Selectel DNS API v1 (domains/v1).

const ZONE = 'example.test.';
const TOKEN = secret('selectel-good');
const WRONG = secret('selectel-wrong');

let h: RestDnsHarness;
let fake: FakeSelectel;

before(async () => {
  h = await restDnsHarness({
    code: 'selectel',
    zone: ZONE,
    baseEnv: () => ({ SELECTEL_API_URL: fake.apiUrl }),
    canaries: [TOKEN, WRONG],
  });
  fake = await startFakeSelectel({ ca: h.ca, domains: ['example.test'], tokens: [TOKEN] });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'selectel (fake API)',
  zone: ZONE,
  create: () => h.provider({ SELECTEL_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => h.provider({ SELECTEL_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: [TOKEN, WRONG],
  logs: () => h.logs(),
});

test('selectel: X-Token, the domain by name, absolute record names, TTL at least 60; apex', async () => {
  const p = await h.provider({ SELECTEL_API_TOKEN: TOKEN });
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers['x-token'], TOKEN);
  assert.equal(sent[0]?.path, '/domains/v1/example.test');
  const post = sent.find((q) => q.method === 'POST');
  assert.equal(post?.path, '/domains/v1/300/records/');
  assert.deepEqual(JSON.parse(post!.body), {
    type: 'TXT',
    ttl: 60,
    name: 'example.test',
    content: apex.value,
  });
  const r = h.record('deep.er');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  const fresh = await h.provider({ SELECTEL_API_TOKEN: TOKEN });
  await fresh.cleanup(apex, live());
  await fresh.cleanup(r, live());
  assert.equal(fake.requests.at(-1)?.status, 204);
  assert.deepEqual(await fake.values(ZONE), []);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('selectel: refused tokens and unknown domains give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ SELECTEL_API_TOKEN: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /credentials refused .*invalid token.*SELECTEL_API_TOKEN/);
  const missing = await h.failure(
    (await h.provider({ SELECTEL_API_TOKEN: TOKEN })).present(h.record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /domain nothere\.test is not in the Selectel account of SELECTEL_API_TOKEN/);
});

test('selectel: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider({ SELECTEL_API_TOKEN: TOKEN });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: 'too many requests', code: 429 } },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: 'service unavailable', code: 503 } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Selectel DNS API error while trying to .*service unavailable.*try again/);
});
