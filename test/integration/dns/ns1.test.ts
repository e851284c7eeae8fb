import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeNs1, startFakeNs1 } from '../../support/fake-cloud/ns1.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The NS1 provider on the REST layer, against a fake of the NS1 REST API v1.

const ZONE = 'example.test.';
const KEY = secret('ns1-good');
const READ_ONLY = secret('ns1-read');
const WRONG = secret('ns1-wrong');
const CANARIES = [KEY, READ_ONLY, WRONG];

let h: RestDnsHarness;
let fake: FakeNs1;

before(async () => {
  h = await restDnsHarness({
    code: 'ns1',
    zone: ZONE,
    baseEnv: () => ({ NS1_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeNs1({
    ca: h.ca,
    zones: ['example.test'],
    keys: { [KEY]: {}, [READ_ONLY]: { write: false } },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'ns1 (fake API)',
  zone: ZONE,
  create: () => h.provider({ NS1_API_KEY: KEY }),
  createWithBadCredentials: () => h.provider({ NS1_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('ns1: X-NSONE-Key, PUT creates the record, POST adds and removes answers, DELETE the last; apex', async () => {
  const p = await h.provider({ NS1_API_KEY: KEY });
  const a = h.record('set');
  const b = { ...h.record('set'), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers['x-nsone-key'], KEY);
  const domain = a.fqdn.slice(0, -1);
  const put = sent.find((q) => q.method === 'PUT');
  assert.equal(put?.path, `/v1/zones/example.test/${domain}/TXT`);
  assert.deepEqual(JSON.parse(put!.body), {
    zone: 'example.test',
    domain,
    type: 'TXT',
    ttl: 60,
    answers: [{ answer: [a.value] }],
  });
  const post = sent.find((q) => q.method === 'POST');
  assert.deepEqual(
    (JSON.parse(post!.body) as { answers: { answer: string[] }[] }).answers.map((x) => x.answer[0]),
    [a.value, b.value],
  );
  const fresh = await h.provider({ NS1_API_KEY: KEY });
  const mark = fake.requests.length;
  await fresh.cleanup(b, live());
  assert.deepEqual(await fake.values(a.fqdn), [a.value]);
  await fresh.cleanup(a, live());
  assert.deepEqual(
    fake.requests
      .slice(mark)
      .map((q) => q.method)
      .filter((m) => m !== 'GET'),
    ['POST', 'DELETE'],
  );
  const apex = h.record(null);
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('ns1: refused keys and unknown zones give actionable errors without secrets', async () => {
  const wrong = await h.failure((await h.provider({ NS1_API_KEY: WRONG })).present(h.record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /credentials refused .*Unauthorized.*check NS1_API_KEY/);
  const readOnly = await h.failure(
    (await h.provider({ NS1_API_KEY: READ_ONLY })).present(h.record(), live()),
  );
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.message, /insufficient permissions/);
  const missing = await h.failure(
    (await h.provider({ NS1_API_KEY: KEY })).present(h.record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /zone nothere\.test is not in the NS1 account of NS1_API_KEY/);
});

test('ns1: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider({ NS1_API_KEY: KEY });
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { message: 'rate limit exceeded' } },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { message: 'internal error' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /NS1 API error while trying to .*internal error.*try again/);
});
