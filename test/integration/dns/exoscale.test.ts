import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeExoscale, startFakeExoscale } from '../../support/fake-cloud/exoscale.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Exoscale provider on the REST layer, against a fake of the Exoscale API v2 that checks every
// EXO2-HMAC-SHA256 signature and answers changes with operations.

const ZONE = 'example.test.';
const KEY = 'EXO0123456789abcdef01234567';
const SECRET = secret('exoscale-secret');
const WRONG = secret('exoscale-wrong');
const CANARIES = [SECRET, WRONG];

let h: RestDnsHarness;
let fake: FakeExoscale;
let slow: FakeExoscale;
const good = { EXOSCALE_API_KEY: KEY, EXOSCALE_API_SECRET: SECRET };

before(async () => {
  h = await restDnsHarness({
    code: 'exoscale',
    zone: ZONE,
    baseEnv: () => ({ EXOSCALE_ENDPOINT: fake.endpoint }),
    canaries: CANARIES,
  });
  fake = await startFakeExoscale({ ca: h.ca, domains: ['example.test'], keys: { [KEY]: SECRET } });
  slow = await startFakeExoscale({
    ca: h.ca,
    domains: ['example.test'],
    keys: { [KEY]: SECRET },
    pendingLooks: 2,
  });
});
after(async () => {
  await fake?.close();
  await slow?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'exoscale (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, EXOSCALE_API_SECRET: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('exoscale: signed requests (the fake recomputes each), a relative name, the apex as ""', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  assert.ok(sent.every((q) => q.status === 200));
  assert.match(
    String(sent[0]?.headers.authorization),
    /^EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=\d+,signature=[A-Za-z0-9+/]+=*$/,
  );
  const post = sent.find((q) => q.method === 'POST');
  assert.deepEqual(JSON.parse(post!.body), { name: '', type: 'TXT', content: apex.value, ttl: 60 });
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await h.provider(good)).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('exoscale: a pending operation is followed until it succeeds', async () => {
  const p = await h.provider({ ...good, EXOSCALE_ENDPOINT: slow.endpoint });
  const r = h.record('slow');
  await p.present(r, live());
  assert.deepEqual(await slow.values(r.fqdn), [r.value]);
  assert.equal(slow.requests.filter((q) => q.path.startsWith('/v2/operation/')).length, 2);
  await p.cleanup(r, live());
  assert.deepEqual(await slow.values(r.fqdn), []);
});

test('exoscale: a failed operation, a wrong secret, an expired signature and an unknown domain are reported', async () => {
  const p = await h.provider(good);
  fake.failOperations(1, 'record content rejected');
  const failed = await h.failure(p.present(h.record(), live()));
  assert.match(
    failed.message,
    /Exoscale could not create the TXT record .*operation failure, incorrect: record content rejected/,
  );
  const wrong = await h.failure(
    (await h.provider({ ...good, EXOSCALE_API_SECRET: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.message,
    /credentials refused .*invalid request signature.*EXOSCALE_API_KEY and EXOSCALE_API_SECRET/,
  );
  const late = await createDnsProvider('exoscale', {
    env: { ...good, EXOSCALE_ENDPOINT: fake.endpoint },
    caBundle: h.ca.rootPem,
    clock: { now: () => Date.now() - 20 * 60_000, sleep: async () => {} },
  });
  const expired = await h.failure(late.provider.present(h.record(), live()));
  assert.match(expired.message, /request signature expired/);
  const missing = await h.failure(p.present(h.record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /domain nothere\.test is not in the Exoscale organization of EXOSCALE_API_KEY/,
  );
});

test('exoscale: 429 and 5xx are retried (each try signed anew), then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'too many requests' } }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { message: 'internal server error' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /Exoscale API error while trying to .*internal server error.*try again/);
});
