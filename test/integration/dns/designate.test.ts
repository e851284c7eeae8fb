import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeDesignate, startFakeDesignate } from '../../support/fake-cloud/designate.ts';
import { jsonBody } from '../../support/fake-cloud/server.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Designate provider: a Keystone v3 token (password or application credential), the endpoint from the
// catalog, record sets read and written back, against a fake of Keystone and Designate.

const ZONE = 'example.test.';
const PASSWORD = secret('os-password');
const APP_SECRET = secret('os-app-secret');
const WRONG = secret('os-wrong');
const CANARIES = [PASSWORD, APP_SECRET, WRONG];
const PROJECT = '23d4522a987d4ab529f722a007c27846';
const OTHER_PROJECT = '9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a';

let h: RestDnsHarness;
let fake: FakeDesignate;
const good = () => ({
  OS_AUTH_URL: fake.authUrl,
  OS_REGION_NAME: 'RegionTwo',
  OS_PROJECT_ID: PROJECT,
  OS_USERNAME: 'acme',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PASSWORD: PASSWORD,
});
before(async () => {
  h = await restDnsHarness({ code: 'designate', zone: ZONE, baseEnv: () => ({}), canaries: CANARIES });
  fake = await startFakeDesignate({
    ca: h.ca,
    users: [
      {
        id: 'u-1',
        name: 'acme',
        domain: { id: 'default', name: 'Default' },
        password: PASSWORD,
        projects: [PROJECT],
      },
    ],
    projects: {
      [PROJECT]: { name: 'dns-project', domainId: 'default' },
      [OTHER_PROJECT]: { name: 'other', domainId: 'default' },
    },
    applicationCredentials: {
      'ac-1': { name: 'acmekit', userId: 'u-1', projectId: PROJECT, secret: APP_SECRET },
    },
    zones: { 'example.test': PROJECT, 'other.test': OTHER_PROJECT, 'delegated.example.test': PROJECT },
    regions: ['RegionOne', 'RegionTwo'],
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'designate (fake API)',
  zone: ZONE,
  create: () => h.provider(good()),
  createWithBadCredentials: () => h.provider({ ...good(), OS_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('designate: one token per instance, the regional public endpoint, one record set per name', async () => {
  const p = await h.provider(good());
  const a = h.record(null);
  const b = { ...h.record(null), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  const issued = fake.tokensIssued();
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  await p.cleanup(a, live());
  assert.equal(fake.tokensIssued() - issued, 1);
  const sent = fake.requests.slice(from);
  assert.deepEqual(jsonBody(sent[0]!), {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: 'acme', domain: { name: 'Default' }, password: PASSWORD } },
      },
      scope: { project: { id: PROJECT } },
    },
  });
  for (const q of sent.slice(1)) assert.ok(q.path.startsWith('/dns/RegionTwo/v2/'), q.path);
  const post = sent.find((q) => q.method === 'POST' && q.path.endsWith('/recordsets'))!;
  assert.deepEqual(jsonBody(post), {
    name: 'example.test.',
    type: 'TXT',
    ttl: 60,
    records: [a.value],
    description: 'ACME dns-01 challenge (acmekit)',
  });
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  await p.cleanup(b, live());
  assert.equal(fake.recordSets().length, 0, 'the last value deletes the record set');
});

test('designate: an application credential, a project by name, and DESIGNATE_ZONE_NAME', async () => {
  const app = await h.provider({
    OS_AUTH_URL: `${fake.authUrl}/v3`,
    OS_REGION_NAME: 'RegionOne',
    OS_APPLICATION_CREDENTIAL_ID: 'ac-1',
    OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET,
  });
  const r = h.record('app');
  await app.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await app.cleanup(r, live());
  const byName = await h.provider({
    ...good(),
    OS_PROJECT_ID: undefined,
    OS_PROJECT_NAME: 'dns-project',
    DESIGNATE_ZONE_NAME: 'delegated.example.test',
  });
  // The record's zone from DNS says example.test; DESIGNATE_ZONE_NAME picks the zone to write into.
  const d = { ...h.record('x'), fqdn: '_acme-challenge.x.delegated.example.test.' };
  await byName.present(d, live());
  assert.equal(fake.recordSets()[0]?.name, '_acme-challenge.x.delegated.example.test.');
  await byName.cleanup(d, live());
  assert.deepEqual(fake.recordSets(), []);
});

test('designate: refused passwords, unknown zones, missing settings and OS_CLOUD give actionable errors', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good(), OS_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /credentials refused by Keystone .*requires authentication.*check OS_AUTH_URL/);
  const region = await h.failure(
    (await h.provider({ ...good(), OS_REGION_NAME: 'RegionNine' })).present(h.record(), live()),
  );
  assert.match(region.message, /no public "dns" endpoint in region RegionNine/);
  const missing = await h.failure((await h.provider(good())).present(h.record('x', 'other.test.'), live()));
  assert.match(missing.message, /zone other\.test is not in the Designate project/);
  await assert.rejects(
    h.provider({ ...good(), OS_USER_DOMAIN_NAME: undefined }),
    /OS_USERNAME needs the user's domain/,
  );
  await assert.rejects(
    h.provider({ ...good(), OS_PROJECT_ID: undefined }),
    /name the project that holds the zones/,
  );
  await assert.rejects(h.provider({ OS_CLOUD: 'mycloud' }), /OS_CLOUD \(clouds\.yaml\) is not supported/);
});

test('designate: 429 and 5xx are retried, then reported', async () => {
  const p = await h.provider(good());
  const r = h.record();
  fake.failNext({ status: 503, json: { code: 503, type: 'service_unavailable', message: 'busy' } }, 2, (q) =>
    q.path.includes('/recordsets'),
  );
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 500, json: { code: 500, type: 'internal', message: 'boom' } }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /Designate API error while trying to .*internal: boom.*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
