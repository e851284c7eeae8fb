import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeMythicBeasts, startFakeMythicBeasts } from '../../support/fake-cloud/mythicbeasts.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Mythic Beasts provider: an OAuth2 client-credentials login, then the DNS API v2 with the bearer
// token, against a fake of both.

const ZONE = 'example.test.';
const KEY_ID = 'acmekitkey01';
const SECRET = secret('mythic-secret');
const WRONG = secret('mythic-wrong');

let h: RestDnsHarness;
let fake: FakeMythicBeasts;
const good = { MYTHICBEASTS_USERNAME: KEY_ID, MYTHICBEASTS_PASSWORD: SECRET };
before(async () => {
  h = await restDnsHarness({
    code: 'mythicbeasts',
    zone: ZONE,
    baseEnv: () => ({ MYTHICBEASTS_API_ENDPOINT: fake.apiUrl, MYTHICBEASTS_AUTH_API_ENDPOINT: fake.authUrl }),
    canaries: [SECRET, WRONG],
  });
  fake = await startFakeMythicBeasts({
    ca: h.ca,
    keys: { [KEY_ID]: { secret: SECRET, zones: ['example.test'] } },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'mythicbeasts (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, MYTHICBEASTS_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: [SECRET, WRONG],
  logs: () => h.logs(),
});

test('mythicbeasts: one login per token lifetime, bearer calls, POST to add, DELETE ?data= to remove one value', async () => {
  const p = await h.provider(good);
  const a = h.record('two');
  const b = { ...h.record('two'), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  const issued = fake.tokensIssued();
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  await p.cleanup(a, live());
  assert.equal(fake.tokensIssued() - issued, 1, 'one login for every call of the instance');
  const sent = fake.requests.slice(from);
  const login = sent.find((q) => q.path === '/login');
  assert.equal(login?.method, 'POST');
  assert.equal(login?.body, 'grant_type=client_credentials');
  assert.equal(
    login?.headers.authorization,
    `Basic ${Buffer.from(`${KEY_ID}:${SECRET}`).toString('base64')}`,
  );
  for (const q of sent.filter((x) => x.path !== '/login'))
    assert.match(String(q.headers.authorization), /^Bearer [0-9a-f]{48}$/);
  const post = sent.find((q) => q.method === 'POST' && q.path !== '/login');
  assert.equal(post!.path, `/dns/v2/zones/example.test/records/${a.name}/TXT`);
  assert.deepEqual((JSON.parse(post!.body) as { records: { host: string }[] }).records[0]?.host, a.name);
  const del = sent.find((q) => q.method === 'DELETE');
  assert.equal(del?.query.get('data'), a.value);
  assert.deepEqual(await fake.values(a.fqdn), [b.value]);
  await p.cleanup(b, live());
  const apex = h.record(null);
  await p.present(apex, live());
  assert.match(fake.requests.at(-1)!.path, /\/records\/@\/TXT$/);
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('mythicbeasts: a token near its expiry is renewed by a new login', async () => {
  let now = Date.now();
  const loaded = await createDnsProvider('mythicbeasts', {
    env: { ...good, MYTHICBEASTS_API_ENDPOINT: fake.apiUrl, MYTHICBEASTS_AUTH_API_ENDPOINT: fake.authUrl },
    caBundle: h.ca.rootPem,
    clock: { now: () => now, sleep: async () => {} },
  });
  const issued = fake.tokensIssued();
  const r = h.record();
  await loaded.provider.present(r, live());
  now += 290_000; // past expires_in (300 s) less the renewal margin
  fake.revokeTokens();
  await loaded.provider.cleanup(r, live());
  assert.equal(fake.tokensIssued() - issued, 2);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('mythicbeasts: a refused login, a zone outside the key and a failing login are reported without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, MYTHICBEASTS_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^mythicbeasts: present: credentials refused by the Mythic Beasts login .*invalid_client.*MYTHICBEASTS_USERNAME/,
  );
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'other.test.'), live()));
  assert.equal(outside.status, 403);
  assert.match(
    outside.message,
    /not authorised for zone other\.test.*MYTHICBEASTS_USERNAME and MYTHICBEASTS_PASSWORD/,
  );
  fake.failNext({ status: 500, json: { error: 'server_error' } }, 1, (q) => q.path === '/login');
  const down = await h.failure((await h.provider(good)).cleanup(h.record(), live()));
  assert.match(
    down.message,
    /^mythicbeasts: cleanup: the Mythic Beasts login failed \(HTTP 500, server_error\)/,
  );
});

test('mythicbeasts: 429 and 5xx of the DNS API are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  const api = (q: { path: string }) => q.path !== '/login';
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: { error: 'rate limited' } }, 2, api);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: 'unavailable' } }, 4, api);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Mythic Beasts DNS API error while trying to .*unavailable.*try again/);
});
