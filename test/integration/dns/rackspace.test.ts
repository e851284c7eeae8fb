import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeRackspace, startFakeRackspace } from '../../support/fake-cloud/rackspace.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Rackspace provider: an Identity login (token and the DNS endpoint from the service catalog), then
// Cloud DNS v1.0 with its asynchronous jobs, against a fake of both.

const ZONE = 'example.test.';
const USER = 'acmekit';
const KEY = secret('rackspace-key');
const WRONG = secret('rackspace-wrong');
const CANARIES = [KEY, WRONG];

let h: RestDnsHarness;
let fake: FakeRackspace;
/** Added to the time of the fake and of one provider's clock: a day passing in no time. */
let skewMs = 0;
const good = { RACKSPACE_USER: USER, RACKSPACE_API_KEY: KEY };
before(async () => {
  h = await restDnsHarness({
    code: 'rackspace',
    zone: ZONE,
    baseEnv: () => ({ RACKSPACE_IDENTITY_URL: fake.identityUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeRackspace({
    ca: h.ca,
    users: { [USER]: { apiKey: KEY, tenant: '123456', domains: ['example.test'] } },
    maxPageSize: 2,
    runningPolls: 2,
    now: () => Date.now() + skewMs,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'rackspace (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, RACKSPACE_API_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('rackspace: one login, the catalog endpoint, full names, TTL at least 300, jobs followed to the end', async () => {
  const p = await h.provider(good);
  const r = h.record('shape');
  const from = fake.requests.length;
  const issued = fake.tokensIssued();
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.equal(fake.tokensIssued() - issued, 1);
  const login = sent[0]!;
  assert.equal(`${login.method} ${login.path}`, 'POST /v2.0/tokens');
  assert.deepEqual(JSON.parse(login.body), {
    auth: { 'RAX-KSKEY:apiKeyCredentials': { username: USER, apiKey: KEY } },
  });
  const rest = sent.slice(1);
  for (const q of rest) assert.match(String(q.headers['x-auth-token']), /^[0-9a-f]{32}$/);
  assert.deepEqual(
    rest.map((q) => `${q.method} ${q.path}`),
    [
      'GET /v1.0/123456/domains',
      'GET /v1.0/123456/domains/2725233/records',
      'POST /v1.0/123456/domains/2725233/records',
      ...rest.slice(3).map((q) => `GET ${q.path}`),
    ],
  );
  assert.equal(rest[0]!.query.get('name'), 'example.test');
  assert.equal(rest[1]!.query.get('name'), r.fqdn.slice(0, -1));
  assert.equal(rest[1]!.query.get('type'), 'TXT');
  assert.deepEqual(JSON.parse(rest[2]!.body), {
    records: [{ name: r.fqdn.slice(0, -1), type: 'TXT', data: r.value, ttl: 300 }],
  });
  const polls = rest.slice(3);
  assert.equal(polls.length, 3, 'RUNNING twice, then COMPLETED');
  for (const q of polls) {
    assert.match(q.path, /^\/v1\.0\/123456\/status\/[0-9a-f]+$/);
    assert.equal(q.query.get('showDetails'), 'true');
  }
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  // The job's answer gave the id: cleanup deletes by it without a search.
  const at = fake.requests.length;
  await p.cleanup(r, live());
  const del = fake.requests.slice(at);
  assert.equal(del[0]!.method, 'DELETE');
  assert.match(del[0]!.query.get('id') ?? '', /^TXT-\d+$/);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('rackspace: searches page through the results; the apex is the domain name', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  const many = Array.from({ length: 5 }, () => ({
    ...h.record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const m of many) await p.present(m, live());
  const fresh = await h.provider(good);
  await fresh.cleanup(many[4]!, live());
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  const searches = fake.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/records')).slice(-3);
  assert.deepEqual(
    searches.map((q) => [q.query.get('limit'), q.query.get('offset')]),
    [
      ['100', '0'],
      ['100', '2'],
      ['100', '4'],
    ],
  );
  for (const m of [...many.slice(0, 4), apex]) await fresh.cleanup(m, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('rackspace: a token near its expiry is renewed; a refused login and an unknown domain are reported', async () => {
  const loaded = await createDnsProvider('rackspace', {
    env: { ...good, RACKSPACE_IDENTITY_URL: fake.identityUrl },
    caBundle: h.ca.rootPem,
    clock: { now: () => Date.now() + skewMs, sleep: async () => {} },
  });
  const issued = fake.tokensIssued();
  const r = h.record();
  await loaded.provider.present(r, live());
  skewMs += 86_400_000;
  await loaded.provider.cleanup(r, live());
  skewMs = 0;
  assert.equal(fake.tokensIssued() - issued, 2);
  assert.deepEqual(await fake.values(r.fqdn), []);

  const wrong = await h.failure(
    (await h.provider({ ...good, RACKSPACE_API_KEY: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^rackspace: present: credentials refused by the Rackspace Identity service \(HTTP 401, Username or api key is invalid\.\).*RACKSPACE_API_KEY/,
  );
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /domain nothere\.test is not in the Rackspace Cloud DNS account of RACKSPACE_USER/,
  );
});

test('rackspace: a failed job, 413 over limit, 429 and 5xx: retried where it helps, then reported', async () => {
  const p = await h.provider(good);
  fake.failNext(
    { status: 413, headers: { 'retry-after': '1' }, json: { code: 413, message: 'Over Limit' } },
    2,
    (q) => q.path !== '/v2.0/tokens',
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 503, json: { code: 503, message: 'Service Unavailable' } }, 2, (q) =>
    q.path.includes('/records'),
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  fake.failNext(
    {
      status: 200,
      json: {
        jobId: 'abc',
        status: 'ERROR',
        error: { code: 500, message: 'DNS fault', details: 'zone locked' },
      },
    },
    1,
    (q) => q.path.includes('/status/'),
  );
  const failed = await h.failure(p.present(h.record(), live()));
  assert.match(
    failed.message,
    /^rackspace: present: Rackspace could not create the TXT record .*DNS fault: zone locked/,
  );
  fake.failNext({ status: 500, json: { code: 500, message: 'DNS fault' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /Rackspace Cloud DNS API error .*DNS fault.*try again in a few minutes/);
});
