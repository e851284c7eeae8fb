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
import { type FakeInfomaniak, startFakeInfomaniak } from '../../support/fake-cloud/infomaniak.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Infomaniak provider on the REST layer, against a fake of the Infomaniak API v2 DNS endpoints.

const ZONE = 'example.test.';
const TOKEN = canary('infomaniak-good');
const NO_WRITE = canary('infomaniak-read');
const WRONG = canary('infomaniak-wrong');
const CANARIES = [TOKEN, NO_WRITE, WRONG];

let ca: TestCa;
let fake: FakeInfomaniak;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeInfomaniak({
    ca,
    zones: ['example.test', 'other.test'],
    tokens: { [TOKEN]: {}, [NO_WRITE]: { write: false } },
    maxPageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('infomaniak', {
    env: { INFOMANIAK_ENDPOINT: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'infomaniak (fake API)',
  zone: ZONE,
  create: () => provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ INFOMANIAK_ACCESS_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('infomaniak: Bearer token, the zone checked, records filtered by source and type, a relative source', async () => {
  const p = await provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN, INFOMANIAK_TTL: '600' });
  const r = { ...record('shape'), ttl: 600 };
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'GET /2/zones/example.test/exists',
      'GET /2/zones/example.test/records',
      'POST /2/zones/example.test/records',
    ],
  );
  assert.equal(sent[1]?.query.get('filter[source]'), '_acme-challenge.shape');
  assert.deepEqual(sent[1]?.query.getAll('filter[types][]'), ['TXT']);
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    source: '_acme-challenge.shape',
    type: 'TXT',
    target: r.value,
    ttl: 600,
  });
  await p.cleanup(r, live());
  assert.equal(fake.requests.at(-1)?.method, 'DELETE');
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('infomaniak: the apex is ".", and records are found across pages after a restart', async () => {
  const p = await provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN });
  const apex = record(null);
  await p.present(apex, live());
  assert.equal(JSON.parse(fake.requests.at(-1)!.body).source, '.');
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN });
  await fresh.cleanup(many[4]!, live());
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('infomaniak: refused tokens, a token without dns:write, an unknown zone: actionable errors', async () => {
  const wrong = await failure(
    (await provider({ INFOMANIAK_ACCESS_TOKEN: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*not_authorized: Authorization required.*INFOMANIAK_ACCESS_TOKEN/,
  );
  const readOnly = await failure(
    (await provider({ INFOMANIAK_ACCESS_TOKEN: NO_WRITE })).present(record(), live()),
    CANARIES,
  );
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.message, /dns:write/);
  const missing = await failure(
    (await provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.match(
    missing.message,
    /zone nothere\.test is not managed by the Infomaniak account of INFOMANIAK_ACCESS_TOKEN/,
  );
});

test('infomaniak: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ INFOMANIAK_ACCESS_TOKEN: TOKEN });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { result: 'error', error: { code: 'too_many_requests', description: 'Too many requests' } },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(
    { status: 502, json: { result: 'error', error: { code: 'bad_gateway', description: 'Bad gateway' } } },
    4,
  );
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 502);
  assert.match(err.message, /Infomaniak API error while trying to .*Bad gateway.*try again in a few minutes/);
});
