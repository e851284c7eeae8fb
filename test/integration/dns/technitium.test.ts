import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  canary,
  failure,
  instantClock,
  keptLogs,
  live,
  recordMaker,
  sameName,
} from '../../support/dns-rest-harness.ts';
import { type FakeTechnitium, startFakeTechnitium } from '../../support/fake-cloud/technitium.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Technitium provider on the REST layer, against a fake of the Technitium DNS Server HTTP API.

const ZONE = 'example.test.';
const TOKEN = canary('technitium-good');
const VIEWER = canary('technitium-viewer');
const WRONG = canary('technitium-wrong');
const CANARIES = [TOKEN, VIEWER, WRONG];

let ca: TestCa;
let fake: FakeTechnitium;
let headerOnly: FakeTechnitium;
let formOnly: FakeTechnitium;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  const tokens = { [TOKEN]: {}, [VIEWER]: { modify: false } };
  fake = await startFakeTechnitium({ ca, zones: ['example.test', 'sub.example.test'], tokens });
  headerOnly = await startFakeTechnitium({ ca, zones: ['example.test'], tokens, tokenIn: 'header' });
  formOnly = await startFakeTechnitium({ ca, zones: ['example.test'], tokens, tokenIn: 'form' });
});
after(async () => {
  await fake?.close();
  await headerOnly?.close();
  await formOnly?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource, server: FakeTechnitium = fake): Promise<DnsProvider> {
  const loaded = await createDnsProvider('technitium', {
    env: { TECHNITIUM_SERVER_BASE_URL: server.baseUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'technitium (fake API)',
  zone: ZONE,
  create: () => provider({ TECHNITIUM_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ TECHNITIUM_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('technitium: form POSTs naming the domain and zone, the TTL sent, a delete by text', async () => {
  const p = await provider({ TECHNITIUM_API_TOKEN: TOKEN });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['POST /api/zones/records/get', 'POST /api/zones/records/add', 'POST /api/zones/records/delete'],
  );
  for (const q of sent) {
    assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(q.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(q.query.size, 0, 'nothing in the URL');
  }
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[1]!.body)), {
    domain: '_acme-challenge.shape.example.test',
    zone: 'example.test',
    type: 'TXT',
    ttl: '60',
    text: r.value,
    overwrite: 'false',
    token: TOKEN,
  });
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[2]!.body)), {
    domain: '_acme-challenge.shape.example.test',
    zone: 'example.test',
    type: 'TXT',
    text: r.value,
    token: TOKEN,
  });
});

test('technitium: the apex, a sub-zone, and servers reading the token from the header or the form only', async () => {
  const apex = record(null);
  const inSub = record('deep', 'sub.example.test.');
  const p = await provider({ TECHNITIUM_API_TOKEN: TOKEN });
  await p.present(apex, live());
  await p.present(inSub, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  assert.deepEqual(await fake.values(inSub.fqdn), [inSub.value]);
  const add = fake.requests.filter((q) => q.path.endsWith('/add')).at(-1)!;
  assert.equal(new URLSearchParams(add.body).get('zone'), 'sub.example.test');
  await p.cleanup(apex, live());
  await p.cleanup(inSub, live());
  for (const server of [headerOnly, formOnly]) {
    const q = await provider({ TECHNITIUM_API_TOKEN: TOKEN }, server);
    const a = record('both');
    const b = sameName(a);
    await q.present(a, live());
    await q.present(b, live());
    assert.deepEqual((await server.values(a.fqdn)).sort(), [a.value, b.value].sort());
    await q.cleanup(a, live());
    assert.deepEqual(await server.values(a.fqdn), [b.value]);
    await q.cleanup(b, live());
  }
});

test('technitium: invalid tokens, missing permissions and unknown zones give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ TECHNITIUM_API_TOKEN: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.match(
    wrong.message,
    /^technitium: present: credentials refused .*Invalid token or session expired.*check TECHNITIUM_API_TOKEN/,
  );
  const viewer = await failure(
    (await provider({ TECHNITIUM_API_TOKEN: VIEWER })).present(record(), live()),
    CANARIES,
  );
  assert.match(viewer.message, /access denied .*Modify and Delete permissions on the zone/);
  const missing = await failure(
    (await provider({ TECHNITIUM_API_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.match(missing.message, /No such zone was found: nothere\.test: .*TECHNITIUM_SERVER_BASE_URL/);
});

test('technitium: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ TECHNITIUM_API_TOKEN: TOKEN });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 502);
  assert.match(err.message, /Technitium DNS Server API error while trying to .*try again in a few minutes/);
});
