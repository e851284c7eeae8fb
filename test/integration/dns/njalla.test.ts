import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeNjalla, startFakeNjalla } from '../../support/fake-cloud/njalla.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Njalla provider on the REST layer, against a fake of the Njalla API (one JSON-RPC style endpoint).

const ZONE = 'example.test.';
const TOKEN = secret('njalla-token');
const WRONG = secret('njalla-wrong');
const CANARIES = [TOKEN, WRONG];

let h: RestDnsHarness;
let fake: FakeNjalla;
before(async () => {
  h = await restDnsHarness({
    code: 'njalla',
    zone: ZONE,
    baseEnv: () => ({ NJALLA_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeNjalla({ ca: h.ca, tokens: { [TOKEN]: ['example.test'] } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'njalla (fake API)',
  zone: ZONE,
  create: () => h.provider({ NJALLA_TOKEN: TOKEN }),
  createWithBadCredentials: () => h.provider({ NJALLA_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('njalla: POST {method, params} with "Authorization: Njalla", a relative name, "@" at the apex, the TTL', async () => {
  const p = await h.provider({ NJALLA_TOKEN: TOKEN });
  const r = h.record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.method, 'POST');
    assert.equal(q.path, '/api/1/');
    assert.equal(q.headers.authorization, `Njalla ${TOKEN}`);
  }
  assert.deepEqual(
    sent.map((q) => (JSON.parse(q.body) as { method: string }).method),
    ['list-records', 'add-record'],
  );
  assert.deepEqual(JSON.parse(sent[1]!.body), {
    method: 'add-record',
    params: { domain: 'example.test', type: 'TXT', name: r.name, content: r.value, ttl: 60 },
  });
  const apex = h.record(null);
  await p.present(apex, live());
  const add = fake.requests.at(-1)!;
  assert.equal((JSON.parse(add.body) as { params: { name: string } }).params.name, '@');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  // A fresh instance finds both by listing, and removes them by id.
  const fresh = await h.provider({ NJALLA_TOKEN: TOKEN });
  const at = fake.requests.length;
  await fresh.cleanup(r, live());
  await fresh.cleanup(apex, live());
  const removes = fake.requests
    .slice(at)
    .map((q) => JSON.parse(q.body) as { method: string; params: object });
  assert.deepEqual(
    removes.map((x) => x.method),
    ['list-records', 'remove-record', 'list-records', 'remove-record'],
  );
  assert.equal(typeof (removes[1]!.params as { id: unknown }).id, 'number');
  assert.deepEqual(await fake.values(r.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('njalla: refused tokens and domains outside the account give actionable errors without secrets', async () => {
  const wrong = await h.failure((await h.provider({ NJALLA_TOKEN: WRONG })).present(h.record(), live()));
  assert.match(
    wrong.message,
    /^njalla: present: credentials refused .*code 403: Invalid token.*NJALLA_TOKEN/,
  );
  const outside = await h.failure(
    (await h.provider({ NJALLA_TOKEN: TOKEN })).present(h.record('x', 'other.test.'), live()),
  );
  assert.match(outside.message, /Permission denied.*domain is in its account/);
});

test('njalla: a record already gone is no error at cleanup; another refusal is reported', async () => {
  const p = await h.provider({ NJALLA_TOKEN: TOKEN });
  const r = h.record();
  await p.present(r, live());
  // Deleted meanwhile by someone else: the remembered id no longer exists.
  await (await h.provider({ NJALLA_TOKEN: TOKEN })).cleanup(r, live());
  await p.cleanup(r, live());
  const s = h.record();
  await p.present(s, live());
  fake.failNext(
    { status: 200, json: { jsonrpc: '2.0', error: { code: 500, message: 'Internal error' } } },
    1,
    (q) => q.body.includes('remove-record'),
  );
  const err = await h.failure(p.cleanup(s, live()));
  assert.match(
    err.message,
    /^njalla: cleanup: Njalla refused to delete the TXT record .*code 500: Internal error/,
  );
  await p.cleanup(s, live());
  assert.deepEqual(await fake.values(s.fqdn), []);
});

test('njalla: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await h.provider({ NJALLA_TOKEN: TOKEN });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Njalla API error while trying to .*try again in a few minutes/);
});
