import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeHostingde, startFakeHostingde } from '../../support/fake-cloud/hostingde.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The hosting.de provider on the REST layer, against a fake of the hosting.de JSON API (DNS service).

const ZONE = 'example.test.';
const KEY = secret('hostingde-good');
const WRONG = secret('hostingde-wrong');

let h: RestDnsHarness;
let fake: FakeHostingde;
let pending: FakeHostingde;

before(async () => {
  h = await restDnsHarness({
    code: 'hostingde',
    zone: ZONE,
    baseEnv: () => ({ HOSTINGDE_API_URL: fake.apiUrl }),
    canaries: [KEY, WRONG],
  });
  fake = await startFakeHostingde({
    ca: h.ca,
    zones: ['example.test', { name: 'blocked.test', status: 'blocked' }],
    keys: [KEY],
    maxPageSize: 2,
  });
  pending = await startFakeHostingde({ ca: h.ca, zones: ['example.test'], keys: [KEY], pending: true });
});
after(async () => {
  await fake?.close();
  await pending?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'hostingde (fake API)',
  zone: ZONE,
  create: () => h.provider({ HOSTINGDE_API_KEY: KEY }),
  createWithBadCredentials: () => h.provider({ HOSTINGDE_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: [KEY, WRONG],
  logs: () => h.logs(),
});

test('hostingde: authToken in each POST, zoneUpdate with the zone config, delete by quoted content; paging', async () => {
  const p = await h.provider({ HOSTINGDE_API_KEY: KEY });
  const a = h.record('paged');
  const from = fake.requests.length;
  await p.present(a, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => q.path.split('/').at(-1)),
    ['zoneConfigsFind', 'recordsFind', 'zoneConfigsFind', 'zoneUpdate'],
  );
  for (const q of sent) assert.equal((JSON.parse(q.body) as { authToken: string }).authToken, KEY);
  const update = JSON.parse(sent.at(-1)!.body) as Record<string, unknown>;
  assert.equal((update.zoneConfig as { name: string }).name, 'example.test');
  assert.deepEqual(update.recordsToAdd, [
    { name: a.fqdn.slice(0, -1), type: 'TXT', content: a.value, ttl: 60 },
  ]);
  // Four more values at the name: listing takes pages of two.
  const more = Array.from({ length: 4 }, () => ({ ...h.record('paged'), fqdn: a.fqdn, name: a.name }));
  for (const r of more) await p.present(r, live());
  const fresh = await h.provider({ HOSTINGDE_API_KEY: KEY });
  const mark = fake.requests.length;
  await fresh.cleanup(more[3]!, live());
  assert.ok(
    fake.requests.slice(mark).filter((q) => q.path.endsWith('/recordsFind')).length >= 3,
    'three pages read',
  );
  const del = JSON.parse(fake.requests.at(-1)!.body) as { recordsToDelete: unknown };
  assert.deepEqual(del.recordsToDelete, [
    { name: a.fqdn.slice(0, -1), type: 'TXT', content: `"${more[3]!.value}"` },
  ]);
  assert.equal((await fake.values(a.fqdn)).length, 4);
  for (const r of [a, ...more.slice(0, 3)]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(a.fqdn), []);
});

test('hostingde: HOSTINGDE_ZONE_NAME names the zone; a pending change counts as done', async () => {
  const p = await h.provider({ HOSTINGDE_API_KEY: KEY, HOSTINGDE_ZONE_NAME: 'example.test' });
  const r = h.record('named', 'sub.example.test.');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  const q = await h.provider({ HOSTINGDE_API_KEY: KEY, HOSTINGDE_API_URL: pending.apiUrl });
  const s = h.record();
  await q.present(s, live());
  assert.deepEqual(await pending.values(s.fqdn), [s.value]);
  await q.cleanup(s, live());
  assert.deepEqual(await pending.values(s.fqdn), []);
});

test('hostingde: API errors in a 200 answer, unknown and blocked zones give actionable errors without secrets', async () => {
  const wrong = await h.failure((await h.provider({ HOSTINGDE_API_KEY: WRONG })).present(h.record(), live()));
  assert.match(
    wrong.message,
    /^hostingde: present: hosting\.de refused to find the zone example\.test \(status error: Authentication failed \(code 10100\)\); check HOSTINGDE_API_KEY/,
  );
  const p = await h.provider({ HOSTINGDE_API_KEY: KEY });
  const missing = await h.failure(p.present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /zone nothere\.test is not in the hosting\.de account of HOSTINGDE_API_KEY/);
  const blocked = await h.failure(p.present(h.record('x', 'blocked.test.'), live()));
  assert.match(blocked.message, /zone blocked\.test is blocked at hosting\.de, not active/);
});

test('hostingde: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider({ HOSTINGDE_API_KEY: KEY });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /hosting\.de API error while trying to .*try again in a few minutes/);
});
