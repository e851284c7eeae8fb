import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeInfoblox, startFakeInfoblox } from '../../support/fake-cloud/infoblox.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Infoblox provider: the WAPI record:txt object with HTTP Basic authentication, against a fake WAPI.

const ZONE = 'example.test.';
const USER = 'api-user';
const PASSWORD = secret('infoblox-password');
const WRONG = secret('infoblox-wrong');
const CANARIES = [PASSWORD, WRONG, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')];

let h: RestDnsHarness;
let fake: FakeInfoblox;
const good = { INFOBLOX_USERNAME: USER, INFOBLOX_PASSWORD: PASSWORD };
before(async () => {
  h = await restDnsHarness({
    code: 'infoblox',
    zone: ZONE,
    baseEnv: () => ({ INFOBLOX_HOST: fake.host, INFOBLOX_PORT: fake.port }),
    canaries: CANARIES,
  });
  fake = await startFakeInfoblox({
    ca: h.ca,
    admins: { [USER]: PASSWORD },
    views: { External: ['example.test'], Internal: ['example.test', 'corp.test'] },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'infoblox (fake WAPI)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, INFOBLOX_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('infoblox: Basic auth, a paged search by name and view, POST with use_ttl, DELETE by reference', async () => {
  const p = await h.provider({ ...good, INFOBLOX_DNS_VIEW: 'Internal' });
  const r = h.record('shape', 'corp.test.');
  const from = fake.requests.length;
  await p.present(r, live());
  const [get, post] = fake.requests.slice(from);
  for (const q of [get!, post!])
    assert.equal(q.headers.authorization, `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
  assert.equal(`${get!.method} ${get!.path}`, 'GET /wapi/v2.11/record:txt');
  assert.deepEqual(Object.fromEntries(get!.query), {
    name: r.fqdn.slice(0, -1),
    view: 'Internal',
    _return_fields: 'name,text,view',
    _paging: '1',
    _max_results: '1000',
    _return_as_object: '1',
  });
  assert.equal(`${post!.method} ${post!.path} ${post!.status}`, 'POST /wapi/v2.11/record:txt 201');
  assert.deepEqual(JSON.parse(post!.body), {
    name: r.fqdn.slice(0, -1),
    text: r.value,
    ttl: 60,
    use_ttl: true,
    view: 'Internal',
    comment: 'acmekit dns-01 challenge',
  });
  assert.deepEqual(await fake.values(r.fqdn, 'Internal'), [r.value]);
  assert.deepEqual(await fake.values(r.fqdn, 'External'), []);
  await p.cleanup(r, live());
  const del = fake.requests.at(-1)!;
  assert.equal(del.method, 'DELETE');
  assert.match(
    del.path,
    /^\/wapi\/v2\.11\/record:txt\/[A-Za-z0-9_-]+:_acme-challenge\.shape\.corp\.test\/Internal$/,
  );
  assert.deepEqual(await fake.values(r.fqdn, 'Internal'), []);
});

test('infoblox: the apex, and a search of more than one page', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  // 1001 other values at one name: the record created after them is on the second page.
  const crowd = h.record('crowd');
  fake.seed(
    crowd.fqdn,
    Array.from({ length: 1001 }, (_, i) => `other-${i}`),
  );
  await p.present(crowd, live());
  const fresh = await h.provider(good);
  const at = fake.requests.length;
  await fresh.cleanup(crowd, live());
  const gets = fake.requests.slice(at).filter((q) => q.method === 'GET');
  assert.equal(gets.length, 2);
  assert.ok(gets[1]!.query.get('_page_id'));
  assert.equal((await fake.values(crowd.fqdn)).length, 1001);
  assert.ok(!(await fake.values(crowd.fqdn)).includes(crowd.value));
  await fresh.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('infoblox: INFOBLOX_CA_CERTIFICATE trusts the Grid Manager; INFOBLOX_SSL_VERIFY=false is refused', async () => {
  const rootFile = join(h.ca.dir, 'grid-root.pem');
  await writeFile(rootFile, h.ca.rootPem);
  const env = {
    ...good,
    INFOBLOX_HOST: `https://${fake.host}`,
    INFOBLOX_PORT: fake.port,
    INFOBLOX_CA_CERTIFICATE: rootFile,
  };
  // No caBundle: only the variable makes the fake's certificate trusted.
  const trusted = await createDnsProvider('infoblox', { env });
  const r = h.record();
  await trusted.provider.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await trusted.provider.cleanup(r, live());
  const untrusted = await createDnsProvider('infoblox', { env: { ...env, INFOBLOX_CA_CERTIFICATE: '' } });
  const err = await h.failure(untrusted.provider.present(h.record(), live()));
  assert.match(err.message, /did not answer: .*certificate/i);
  await assert.rejects(
    createDnsProvider('infoblox', { env: { ...env, INFOBLOX_SSL_VERIFY: 'false' } }),
    (e: unknown) =>
      e instanceof InvalidInputError && /INFOBLOX_SSL_VERIFY=false .*INFOBLOX_CA_CERTIFICATE/.test(e.message),
  );
  await assert.rejects(
    createDnsProvider('infoblox', { env: { ...env, INFOBLOX_HOST: 'http://grid.example' } }),
    (e: unknown) => e instanceof InvalidInputError && /INFOBLOX_HOST/.test(e.message),
  );
});

test('infoblox: refused credentials, names outside the view and an unknown view give the WAPI words', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, INFOBLOX_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^infoblox: present: credentials refused .*check INFOBLOX_USERNAME and INFOBLOX_PASSWORD/,
  );
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'corp.test.'), live()));
  assert.equal(outside.status, 400);
  assert.match(outside.message, /Client\.Ibap\.Data\.Conflict: .*A parent was not found/);
  const view = await h.failure(
    (await h.provider({ ...good, INFOBLOX_DNS_VIEW: 'Nowhere' })).present(h.record(), live()),
  );
  assert.match(view.message, /Nowhere/);
  const version = await h.failure(
    (await h.provider({ ...good, INFOBLOX_WAPI_VERSION: '2.5' })).present(h.record(), live()),
  );
  assert.match(version.message, /Version 2\.5 not supported/);
});

test('infoblox: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Infoblox API error .*try again in a few minutes/);
});
