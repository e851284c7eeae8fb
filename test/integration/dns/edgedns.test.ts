import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDnsProviderDefinition } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeEdgeDns, startFakeEdgeDns } from '../../support/fake-cloud/edgedns.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Akamai Edge DNS provider: EdgeGrid-signed requests, record sets read and written back, against a
// fake that recomputes every signature.

const ZONE = 'example.test.';
const CLIENT = 'akab-client-token-0001';
const ACCESS = secret('akab-access');
const CLIENT_SECRET = secret('akamai-secret');
const WRONG = secret('akamai-wrong');
const CANARIES = [ACCESS, CLIENT_SECRET, WRONG];

let h: RestDnsHarness;
let fake: FakeEdgeDns;
const good = () => ({
  AKAMAI_HOST: fake.host,
  AKAMAI_CLIENT_TOKEN: CLIENT,
  AKAMAI_CLIENT_SECRET: CLIENT_SECRET,
  AKAMAI_ACCESS_TOKEN: ACCESS,
  // No ~/.edgerc is read in tests.
  AKAMAI_EDGERC: undefined,
});
before(async () => {
  h = await restDnsHarness({ code: 'edgedns', zone: ZONE, baseEnv: () => ({}), canaries: CANARIES });
  fake = await startFakeEdgeDns({
    ca: h.ca,
    clients: { [CLIENT]: { accessToken: ACCESS, clientSecret: CLIENT_SECRET, zones: ['example.test'] } },
    switchAccounts: { '1-ABCDE:1-2RBL': ['customer.test'] },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'edgedns (fake API)',
  zone: ZONE,
  create: () => h.provider(good()),
  createWithBadCredentials: () => h.provider({ ...good(), AKAMAI_CLIENT_SECRET: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('edgedns: lego code and its alias fastdns', async () => {
  assert.equal((await loadDnsProviderDefinition('fastdns')).code, 'edgedns');
});

test('edgedns: one record set per name (POST, PUT, DELETE), quoted rdata, signed requests; the apex', async () => {
  const p = await h.provider(good());
  const a = h.record(null);
  const b = { ...h.record(null), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  const sent = fake.requests.slice(from);
  for (const q of sent)
    assert.match(String(q.headers.authorization), /^EG1-HMAC-SHA256 client_token=akab-client-token-0001;/);
  const post = sent.find((q) => q.method === 'POST')!;
  assert.equal(post.path, '/config-dns/v2/zones/example.test/names/example.test/types/TXT');
  assert.deepEqual(JSON.parse(post.body), {
    name: 'example.test',
    type: 'TXT',
    ttl: 60,
    rdata: [`"${a.value}"`],
  });
  const put = sent.find((q) => q.method === 'PUT')!;
  assert.deepEqual(JSON.parse(put.body).rdata, [`"${a.value}"`, `"${b.value}"`]);
  await p.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  await p.cleanup(b, live());
  assert.deepEqual(fake.recordSets(), []);
  assert.equal(fake.requests.at(-1)?.method, 'DELETE');
});

test('edgedns: credentials from an .edgerc section; the account switch key goes in every query', async () => {
  const edgerc = join(h.ca.dir, 'edgerc');
  await writeFile(
    edgerc,
    [
      '[default]',
      'host = nothing.luna.akamaiapis.net',
      '',
      '[dns]',
      `client_secret = ${CLIENT_SECRET}`,
      `host = ${fake.host}`,
      `access_token = ${ACCESS}`,
      `client_token = ${CLIENT}`,
      'max-body = 131072',
    ].join('\n'),
  );
  const p = await h.provider({
    AKAMAI_EDGERC: edgerc,
    AKAMAI_EDGERC_SECTION: 'dns',
    AKAMAI_ACCOUNT_SWITCH_KEY: '1-ABCDE:1-2RBL',
  });
  const r = h.record('sw', 'customer.test.');
  const from = fake.requests.length;
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  for (const q of fake.requests.slice(from)) assert.equal(q.query.get('accountSwitchKey'), '1-ABCDE:1-2RBL');
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  await assert.rejects(
    h.provider({ AKAMAI_EDGERC: edgerc, AKAMAI_EDGERC_SECTION: 'default' }),
    /section \[default\] .* has no client_token, client_secret, access_token/,
  );
  await assert.rejects(
    h.provider({ AKAMAI_EDGERC: join(h.ca.dir, 'none') }),
    /AKAMAI_EDGERC names .* which cannot be read/,
  );
});

test('edgedns: refused signatures and unknown zones give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good(), AKAMAI_CLIENT_SECRET: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*Not authorized: The signature does not match.*check AKAMAI_HOST/,
  );
  const missing = await h.failure((await h.provider(good())).present(h.record('x', 'nothere.test.'), live()));
  assert.equal(missing.status, 404);
  assert.match(
    missing.message,
    /not found while trying to write the TXT record set .*Zone nothere\.test does not exist/,
  );
});

test('edgedns: 429 and 5xx are retried (signed again with a new nonce), then reported', async () => {
  const p = await h.provider(good());
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { title: 'Too Many Requests', status: 429 } },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 502, json: { title: 'Bad Gateway', detail: 'upstream', status: 502 } }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 502);
  assert.match(
    err.message,
    /Akamai Edge DNS API error while trying to .*Bad Gateway: upstream.*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
