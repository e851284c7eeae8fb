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
} from '../../support/dns-rest-harness.ts';
import { type FakeNamesilo, startFakeNamesilo } from '../../support/fake-cloud/namesilo.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The NameSilo provider on the REST layer, against a fake of the NameSilo API's DNS operations.

const ZONE = 'example.test.';
const KEY = canary('namesilo-good');
const WRONG = canary('namesilo-wrong');
const CANARIES = [KEY, WRONG];

let ca: TestCa;
let fake: FakeNamesilo;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeNamesilo({ ca, domains: ['example.test', 'other.test'], apiKeys: [KEY] });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('namesilo', {
    env: { NAMESILO_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'namesilo (fake API)',
  zone: ZONE,
  create: () => provider({ NAMESILO_API_KEY: KEY }),
  createWithBadCredentials: () => provider({ NAMESILO_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('namesilo: version, type and key in the query, a relative rrhost, the TTL raised to 3600', async () => {
  const p = await provider({ NAMESILO_API_KEY: KEY });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['GET /api/dnsListRecords', 'GET /api/dnsAddRecord'],
  );
  for (const q of sent) {
    assert.equal(q.query.get('version'), '1');
    assert.equal(q.query.get('type'), 'json');
    assert.equal(q.query.get('key'), KEY);
    assert.equal(q.query.get('domain'), 'example.test');
  }
  const add = sent[1]!.query;
  assert.deepEqual(
    [add.get('rrtype'), add.get('rrhost'), add.get('rrvalue'), add.get('rrttl')],
    ['TXT', '_acme-challenge.shape', r.value, '3600'],
  );
  await p.cleanup(r, live());
  assert.equal(fake.requests.at(-1)?.path, '/api/dnsDeleteRecord');
  assert.deepEqual(await fake.values(r.fqdn), []);
  // The key never reaches a log line (paths are logged without their query).
  assert.ok(!logs.text().includes(KEY));
});

test('namesilo: the apex is the empty rrhost; a lone record (an object, not a list) is found after a restart', async () => {
  const other = await startFakeNamesilo({ ca, domains: ['example.test'], apiKeys: [KEY] });
  try {
    const make = async () =>
      (
        await createDnsProvider('namesilo', {
          env: { NAMESILO_API_URL: other.apiUrl, NAMESILO_API_KEY: KEY },
          caBundle: ca.rootPem,
        })
      ).provider;
    const apex = record(null);
    await (await make()).present(apex, live());
    assert.equal(other.requests.at(-1)?.query.get('rrhost'), '');
    assert.deepEqual(await other.values(ZONE), [apex.value]);
    await (await make()).cleanup(apex, live());
    assert.deepEqual(await other.values(ZONE), []);
  } finally {
    await other.close();
  }
});

test('namesilo: a record deleted by someone else meanwhile is not an error at cleanup', async () => {
  const p = await provider({ NAMESILO_API_KEY: KEY });
  const r = record('gone');
  await p.present(r, live());
  await (await provider({ NAMESILO_API_KEY: KEY })).cleanup(r, live());
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('namesilo: a refused key and a domain outside the account give actionable errors without secrets', async () => {
  const wrong = await failure(
    (await provider({ NAMESILO_API_KEY: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.match(wrong.message, /credentials refused .*code 110: Invalid API Key.*check NAMESILO_API_KEY/);
  const missing = await failure(
    (await provider({ NAMESILO_API_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.match(missing.message, /not active or not in the NameSilo account of NAMESILO_API_KEY \(code 200/);
});

test('namesilo: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ NAMESILO_API_KEY: KEY });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 503);
  assert.match(err.message, /NameSilo API error while trying to .*try again in a few minutes/);
});
