import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProviderEnv } from '../../../src/dns/env.ts';
import { definition } from '../../../src/dns/providers/dnsmadeeasy.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeDnsMadeEasy, startFakeDnsMadeEasy } from '../../support/fake-cloud/dnsmadeeasy.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The DNS Made Easy provider on the REST layer, against a fake of the REST API v2.0 that recomputes the
// HMAC of every request.

const ZONE = 'example.test.';
const KEY = '1c1a3c91-4770-4ce7-96f4-54c0eb0e457a';
const SECRET = secret('dme-secret');
const WRONG = secret('dme-wrong');
const CANARIES = [SECRET, WRONG];

let h: RestDnsHarness;
let fake: FakeDnsMadeEasy;
const good = { DNSMADEEASY_API_KEY: KEY, DNSMADEEASY_API_SECRET: SECRET };

before(async () => {
  h = await restDnsHarness({
    code: 'dnsmadeeasy',
    zone: ZONE,
    baseEnv: () => ({ DNSMADEEASY_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeDnsMadeEasy({ ca: h.ca, domains: ['example.test'], keys: { [KEY]: SECRET } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'dnsmadeeasy (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, DNSMADEEASY_API_SECRET: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('dnsmadeeasy: key, date and HMAC on every request, records filtered by name and type; apex', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.headers['x-dnsme-apikey'], KEY);
    assert.match(
      String(q.headers['x-dnsme-requestdate']),
      /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.match(String(q.headers['x-dnsme-hmac']), /^[0-9a-f]{40}$/);
  }
  assert.equal(sent[0]?.query.get('domainname'), 'example.test');
  const list = sent.find((q) => q.path.endsWith('/records') && q.method === 'GET');
  assert.equal(list?.query.get('recordName'), '');
  assert.equal(list?.query.get('type'), 'TXT');
  const post = sent.find((q) => q.method === 'POST');
  assert.deepEqual(JSON.parse(post!.body), {
    name: '',
    type: 'TXT',
    value: apex.value,
    ttl: 60,
    gtdLocation: 'DEFAULT',
  });
  // Listed quoted, recognised unquoted: a second present adds nothing, a fresh cleanup removes it.
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await h.provider(good)).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('dnsmadeeasy: DNSMADEEASY_SANDBOX picks the sandbox API; DNSMADEEASY_API_URL wins', () => {
  const cfg = (env: Record<string, string>) =>
    definition.configure(new ProviderEnv('dnsmadeeasy', definition.env, env));
  assert.equal(cfg(good).apiUrl, 'https://api.dnsmadeeasy.com/V2.0');
  assert.equal(
    cfg({ ...good, DNSMADEEASY_SANDBOX: 'true' }).apiUrl,
    'https://api.sandbox.dnsmadeeasy.com/V2.0',
  );
  assert.equal(
    cfg({ ...good, DNSMADEEASY_SANDBOX: 'true', DNSMADEEASY_API_URL: 'https://dme.example/V2.0/' }).apiUrl,
    'https://dme.example/V2.0',
  );
});

test('dnsmadeeasy: a wrong secret, a stale date and an unknown domain give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, DNSMADEEASY_API_SECRET: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.message,
    /credentials refused .*HMAC validation failed.*DNSMADEEASY_API_KEY and DNSMADEEASY_API_SECRET/,
  );
  const late = await createDnsProvider('dnsmadeeasy', {
    env: { ...good, DNSMADEEASY_API_URL: fake.apiUrl },
    caBundle: h.ca.rootPem,
    clock: { now: () => Date.now() - 60 * 60_000, sleep: async () => {} },
  });
  const stale = await h.failure(late.provider.present(h.record(), live()));
  assert.match(stale.message, /Request date is not a current HTTP date/);
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /domain nothere\.test is not a managed domain of the DNS Made Easy account/);
});

test('dnsmadeeasy: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: ['Rate limit exceeded'] } },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { error: ['Internal error'] } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /DNS Made Easy API error while trying to .*Internal error.*try again/);
});
