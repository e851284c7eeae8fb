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
import { type FakeDynu, startFakeDynu } from '../../support/fake-cloud/dynu.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Dynu provider on the REST layer, against a fake of the Dynu API v2 DNS endpoints.

const ZONE = 'example.test.';
const KEY = canary('dynu-good');
const WRONG = canary('dynu-wrong');
const CANARIES = [KEY, WRONG];

let ca: TestCa;
let fake: FakeDynu;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakeDynu({ ca, domains: ['example.test', 'other.test'], apiKeys: [KEY] });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('dynu', {
    env: { DYNU_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'dynu (fake API)',
  zone: ZONE,
  create: () => provider({ DYNU_API_KEY: KEY }),
  createWithBadCredentials: () => provider({ DYNU_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('dynu: API-Key header, records by host name, the domain id and node from getroot', async () => {
  const p = await provider({ DYNU_API_KEY: KEY });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers['api-key'], KEY);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'GET /v2/dns/record/_acme-challenge.shape.example.test',
      'GET /v2/dns/getroot/_acme-challenge.shape.example.test',
      'POST /v2/dns/9000/record',
    ],
  );
  assert.equal(sent[0]?.query.get('recordType'), 'TXT');
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    nodeName: '_acme-challenge.shape',
    recordType: 'TXT',
    textData: r.value,
    ttl: 60,
    state: true,
  });
  await p.cleanup(r, live());
  assert.match(
    `${fake.requests.at(-1)?.method} ${fake.requests.at(-1)?.path}`,
    /^DELETE \/v2\/dns\/9000\/record\/\d+$/,
  );
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('dynu: the apex is the empty node; a fresh instance finds the records by host name', async () => {
  const p = await provider({ DYNU_API_KEY: KEY });
  const apex = record(null);
  await p.present(apex, live());
  assert.equal(JSON.parse(fake.requests.at(-1)!.body).nodeName, '');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await provider({ DYNU_API_KEY: KEY })).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('dynu: a refused key and a host outside the account give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ DYNU_API_KEY: WRONG })).present(record(), live()), CANARIES);
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*Authentication Exception: Invalid API credentials.*DYNU_API_KEY/,
  );
  const missing = await failure(
    (await provider({ DYNU_API_KEY: KEY })).present(record('x', 'nothere.test.'), live()),
    CANARIES,
  );
  assert.match(missing.message, /nothere\.test is not under a domain of the Dynu account of DYNU_API_KEY/);
});

test('dynu: an error in the answer body counts even under HTTP 200', async () => {
  const p = await provider({ DYNU_API_KEY: KEY });
  fake.failNext(
    { status: 200, json: { statusCode: 501, type: 'Argument Exception', message: 'Invalid.' } },
    1,
    (q) => q.path.startsWith('/v2/dns/9000/record'),
  );
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 501);
  assert.match(
    err.message,
    /Dynu API error while trying to create the TXT record .*Argument Exception: Invalid\./,
  );
});

test('dynu: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ DYNU_API_KEY: KEY });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { statusCode: 429, type: 'Rate Limit Exception', message: 'Too many requests.' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(
    { status: 503, json: { statusCode: 503, type: 'Server Exception', message: 'Unavailable.' } },
    4,
  );
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Dynu API error while trying to .*Server Exception: Unavailable.*try again in a few minutes/,
  );
});
