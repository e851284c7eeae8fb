import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeGcore, startFakeGcore } from '../../support/fake-cloud/gcore.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Gcore provider on the REST layer, against a fake of the Gcore DNS API v2 (RRsets).

const ZONE = 'example.test.';
const TOKEN = secret('gcore-good');
const READ_ONLY = secret('gcore-read');
const WRONG = secret('gcore-wrong');

let h: RestDnsHarness;
let fake: FakeGcore;

before(async () => {
  h = await restDnsHarness({
    code: 'gcore',
    zone: ZONE,
    baseEnv: () => ({ GCORE_API_URL: fake.apiUrl }),
    canaries: [TOKEN, READ_ONLY, WRONG],
  });
  fake = await startFakeGcore({
    ca: h.ca,
    zones: ['example.test', 'other.test'],
    tokens: { [TOKEN]: {}, [READ_ONLY]: { write: false } },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'gcore (fake API)',
  zone: ZONE,
  create: () => h.provider({ GCORE_PERMANENT_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => h.provider({ GCORE_PERMANENT_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: [TOKEN, READ_ONLY, WRONG],
  logs: () => h.logs(),
});

test('gcore: APIKey header, POST a new RRset, PUT to add a value, PUT without one, DELETE the last; apex', async () => {
  const p = await h.provider({ GCORE_PERMANENT_API_TOKEN: TOKEN });
  const a = h.record('rr');
  const b = { ...h.record('rr'), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `APIKey ${TOKEN}`);
  const path = `/dns/v2/zones/example.test/${a.fqdn.slice(0, -1)}/TXT`;
  const post = sent.find((q) => q.method === 'POST');
  assert.equal(post?.path, path);
  assert.deepEqual(JSON.parse(post!.body), {
    ttl: 60,
    resource_records: [{ content: [a.value], enabled: true }],
  });
  const put = sent.find((q) => q.method === 'PUT');
  assert.deepEqual(
    (JSON.parse(put!.body) as { resource_records: { content: string[] }[] }).resource_records.map(
      (r) => r.content[0],
    ),
    [a.value, b.value],
  );
  // A fresh instance removes one value (PUT of the rest), then the last (DELETE).
  const fresh = await h.provider({ GCORE_PERMANENT_API_TOKEN: TOKEN });
  const before = fake.requests.length;
  await fresh.cleanup(a, live());
  assert.deepEqual(await fake.values(a.fqdn), [b.value]);
  await fresh.cleanup(b, live());
  assert.deepEqual(
    fake.requests
      .slice(before)
      .map((q) => q.method)
      .filter((m) => m !== 'GET'),
    ['PUT', 'DELETE'],
  );
  assert.deepEqual(await fake.values(a.fqdn), []);

  const apex = h.record(null);
  await p.present(apex, live());
  assert.equal(fake.requests.at(-1)?.path, '/dns/v2/zones/example.test/example.test/TXT');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('gcore: refused tokens and unknown zones give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ GCORE_PERMANENT_API_TOKEN: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^gcore: present: credentials refused .*invalid API key.*GCORE_PERMANENT_API_TOKEN/,
  );
  const readOnly = await h.failure(
    (await h.provider({ GCORE_PERMANENT_API_TOKEN: READ_ONLY })).present(h.record(), live()),
  );
  assert.equal(readOnly.status, 403);
  const missing = await h.failure(
    (await h.provider({ GCORE_PERMANENT_API_TOKEN: TOKEN })).present(h.record('x', 'nothere.test.'), live()),
  );
  assert.match(
    missing.message,
    /zone nothere\.test is not in the Gcore account of GCORE_PERMANENT_API_TOKEN/,
  );
});

test('gcore: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider({ GCORE_PERMANENT_API_TOKEN: TOKEN });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: { error: 'too many requests' } }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 502, json: { error: 'bad gateway' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /Gcore DNS API error while trying to .*bad gateway.*try again in a few minutes/);
});
