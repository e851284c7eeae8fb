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
import { type FakeIonos, startFakeIonos } from '../../support/fake-cloud/ionos.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The IONOS provider on the REST layer, against a fake of the IONOS Hosting DNS API v1.

const ZONE = 'example.test.';
const KEY = `${canary('prefix')}.${canary('secret')}`;
const WRONG = `${canary('prefix')}.${canary('wrong')}`;
const CANARIES = [KEY, KEY.split('.')[1]!, WRONG];

let ca: TestCa;
let fake: FakeIonos;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeIonos({ ca, zones: ['example.test', 'sub.example.test', 'other.test'], keys: [KEY] });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('ionos', {
    env: { IONOS_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'ionos (fake API)',
  zone: ZONE,
  create: () => provider({ IONOS_API_KEY: KEY }),
  createWithBadCredentials: () => provider({ IONOS_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('ionos: X-API-Key, the zone id from the zone list, records by absolute name, POST of an array', async () => {
  const p = await provider({ IONOS_API_KEY: KEY });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers['x-api-key'], KEY);
  const zoneId = '11111111-2222-3333-4444-000000000000';
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    ['GET /dns/v1/zones', `GET /dns/v1/zones/${zoneId}`, `POST /dns/v1/zones/${zoneId}/records`],
  );
  assert.equal(sent[1]?.query.get('recordName'), '_acme-challenge.shape.example.test');
  assert.equal(sent[1]?.query.get('recordType'), 'TXT');
  assert.deepEqual(JSON.parse(sent[2]!.body), [
    {
      name: '_acme-challenge.shape.example.test',
      type: 'TXT',
      content: r.value,
      ttl: 60,
      prio: 0,
      disabled: false,
    },
  ]);
  await p.cleanup(r, live());
  assert.equal(fake.requests.at(-1)?.method, 'DELETE');
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('ionos: the apex, a zone inside another, quoted TXT content found again after a restart', async () => {
  const p = await provider({ IONOS_API_KEY: KEY });
  const apex = record(null);
  const inner = record('deep', 'sub.example.test.');
  await p.present(apex, live());
  await p.present(inner, live());
  assert.equal(JSON.parse(fake.requests.at(-1)!.body)[0].name, '_acme-challenge.deep.sub.example.test');
  assert.ok(fake.requests.at(-1)!.path.endsWith('-000000000001/records'), 'the inner zone by its own id');
  const fresh = await provider({ IONOS_API_KEY: KEY });
  await fresh.cleanup(apex, live());
  await fresh.cleanup(inner, live());
  assert.deepEqual(await fake.values(ZONE), []);
  assert.deepEqual(await fake.values(inner.fqdn), []);
});

test('ionos: a refused key and an unknown zone give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ IONOS_API_KEY: WRONG })).present(record(), live()), CANARIES);
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*UNAUTHORIZED: The customer is not authorized.*IONOS_API_KEY/,
  );
  const missing = await failure(
    (await provider({ IONOS_API_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.match(missing.message, /zone nothere\.test is not in the IONOS account of IONOS_API_KEY/);
});

test('ionos: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ IONOS_API_KEY: KEY });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, json: [{ code: 'TOO_MANY_REQUESTS' }] }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: [{ code: 'INTERNAL_SERVER_ERROR', message: 'Internal error.' }] }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /IONOS DNS API error while trying to .*INTERNAL_SERVER_ERROR.*try again in a few minutes/,
  );
});
