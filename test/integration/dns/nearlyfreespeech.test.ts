import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeNfsn, startFakeNfsn } from '../../support/fake-cloud/nearlyfreespeech.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The NearlyFreeSpeech.NET provider: signed form POSTs to the DNS methods, against a fake that
// recomputes every signature.

const ZONE = 'example.test.';
const LOGIN = 'acmekituser';
const KEY = secret('nfsn-key');
const WRONG = secret('nfsn-wrong');
const CANARIES = [KEY, WRONG];

let h: RestDnsHarness;
let fake: FakeNfsn;
const good = { NEARLYFREESPEECH_LOGIN: LOGIN, NEARLYFREESPEECH_API_KEY: KEY };
before(async () => {
  h = await restDnsHarness({
    code: 'nearlyfreespeech',
    zone: ZONE,
    baseEnv: () => ({ NEARLYFREESPEECH_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeNfsn({ ca: h.ca, members: { [LOGIN]: { apiKey: KEY, domains: ['example.test'] } } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'nearlyfreespeech (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, NEARLYFREESPEECH_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('nearlyfreespeech: signed form POSTs to listRRs, addRR and removeRR; "" names the apex', async () => {
  const p = await h.provider(good);
  const r = h.record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['POST /dns/example.test/listRRs', 'POST /dns/example.test/addRR'],
  );
  for (const q of sent) {
    assert.match(
      String(q.headers['x-nfsn-authentication']),
      /^acmekituser;\d+;[A-Za-z0-9]{16};[0-9a-f]{40}$/,
    );
    assert.equal(q.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(q.status, 200);
  }
  assert.equal(sent[0]!.body, `type=TXT&name=${r.name}`);
  assert.equal(sent[1]!.body, `name=${r.name}&type=TXT&data=${r.value}&ttl=60`);
  const apex = h.record(null);
  await p.present(apex, live());
  assert.equal(fake.requests.at(-1)!.body, `name=&type=TXT&data=${apex.value}&ttl=60`);
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  const fresh = await h.provider(good);
  await fresh.cleanup(apex, live());
  assert.equal(fake.requests.at(-1)!.path, '/dns/example.test/removeRR');
  assert.equal(fake.requests.at(-1)!.body, `name=&type=TXT&data=${apex.value}`);
  await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('nearlyfreespeech: a clock far off the server time is refused, with the API words', async () => {
  const loaded = await createDnsProvider('nearlyfreespeech', {
    env: { ...good, NEARLYFREESPEECH_API_URL: fake.apiUrl },
    caBundle: h.ca.rootPem,
    clock: { now: () => Date.now() - 3_600_000, sleep: async () => {} },
  });
  const err = await h.failure(loaded.provider.present(h.record(), live()));
  assert.equal(err.status, 401);
  assert.match(err.message, /credentials refused .*not within 5 minutes.*NEARLYFREESPEECH_LOGIN/);
});

test('nearlyfreespeech: refused keys and domains outside the member give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, NEARLYFREESPEECH_API_KEY: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^nearlyfreespeech: present: credentials refused .*could not be authenticated.*hash does not match/,
  );
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'other.test.'), live()));
  assert.equal(outside.status, 404);
  assert.match(outside.message, /No DNS object other\.test.*NEARLYFREESPEECH_LOGIN/);
});

test('nearlyfreespeech: a record gone before cleanup is no error; 429 and 5xx are retried, then reported', async () => {
  const p = await h.provider(good);
  const r = h.record();
  await p.present(r, live());
  await (await h.provider(good)).cleanup(r, live());
  await p.cleanup(r, live());
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: { error: 'Slow down.' } }, 2);
  const s = h.record();
  await p.present(s, live());
  assert.deepEqual(await fake.values(s.fqdn), [s.value]);
  await p.cleanup(s, live());
  fake.failNext({ status: 503, json: { error: 'Service unavailable.', debug: 'maintenance' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /NearlyFreeSpeech\.NET API error .*Service unavailable\. \(maintenance\).*try again/,
  );
});
