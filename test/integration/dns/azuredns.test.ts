import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeAzure, startFakeAzure } from '../../support/fake-cloud/azure.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The azuredns provider (Azure Resource Manager on the REST layer, Microsoft Entra ID credentials)
// against a fake of Entra ID, Resource Graph, Azure DNS record sets and the managed identity endpoints.

const run = promisify(execFile);
const ZONE = 'example.test.';
const TENANT = randomUUID();
const SUB = randomUUID();
const OTHER_SUB = randomUUID();
const APP = randomUUID();
const CERT_APP = randomUUID();
const READER_APP = randomUUID();
const WLI_APP = randomUUID();
const VM_PRINCIPAL = randomUUID();
const USER_ASSIGNED = randomUUID();
const secret = (label: string): string => `${label}~${randomBytes(14).toString('base64url')}`;
const APP_SECRET = secret('azure-secret');
const READER_SECRET = secret('azure-reader');
const WRONG = secret('azure-wrong');
const FEDERATED = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(30).toString('base64url')}.sig`;
const IDENTITY_HEADER = secret('azure-identity-header');
const CANARIES = [APP_SECRET, READER_SECRET, WRONG, FEDERATED, IDENTITY_HEADER];

let ca: TestCa;
let fake: FakeAzure;
let dir: string;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

async function selfSigned(name: string): Promise<{ pem: string; cert: string }> {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  const certPem = await readFile(cert, 'utf8');
  return { cert: certPem, pem: `${certPem}${await readFile(key, 'utf8')}` };
}

before(async () => {
  ca = await createTestCa();
  dir = await mkdtemp(join(tmpdir(), 'acmekit-azure-'));
  const registered = await selfSigned('registered');
  const stranger = await selfSigned('stranger');
  await writeFile(join(dir, 'app.pem'), registered.pem);
  await writeFile(join(dir, 'stranger.pem'), stranger.pem);
  await writeFile(join(dir, 'federated-token'), `${FEDERATED}\n`);
  const everyone = [APP, CERT_APP, WLI_APP, VM_PRINCIPAL, USER_ASSIGNED];
  fake = await startFakeAzure({
    ca,
    apps: [
      { tenantId: TENANT, clientId: APP, secrets: [APP_SECRET] },
      { tenantId: TENANT, clientId: CERT_APP, certificates: [registered.cert] },
      { tenantId: TENANT, clientId: READER_APP, secrets: [READER_SECRET] },
      { tenantId: TENANT, clientId: WLI_APP, federatedTokens: [FEDERATED] },
    ],
    zones: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-dns',
        name: 'example.test',
        contributors: everyone,
        readers: [READER_APP],
      },
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-dns',
        name: 'inside.test',
        private: true,
        contributors: [APP],
      },
      // One name in two subscriptions: discovery must be narrowed.
      { subscriptionId: SUB, resourceGroup: 'rg-new', name: 'twice.test', contributors: [APP] },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-old', name: 'twice.test', contributors: [APP] },
    ],
    managedIdentities: [VM_PRINCIPAL, USER_ASSIGNED],
    identityHeader: IDENTITY_HEADER,
    graphPageSize: 1,
  });
});
after(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('azuredns', {
    env: {
      AZURE_AUTHORITY_HOST: fake.authorityHost,
      AZURE_RESOURCE_MANAGER_URL: fake.armUrl,
      // Never the real IMDS: a closed port unless a test names the fake.
      AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9',
      ...env,
    },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}
const sp = (extra: EnvSource = {}, clientSecret = APP_SECRET) =>
  provider({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: APP, AZURE_CLIENT_SECRET: clientSecret, ...extra });

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 60,
  };
}
const live = (): AbortSignal => new AbortController().signal;

async function failure(p: Promise<unknown>): Promise<DnsProviderError> {
  const err = await p.then(
    () => assert.fail('expected a DnsProviderError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DnsProviderError, `got ${String(err)}`);
  const text = `${String(err)}\n${JSON.stringify(err)}\n${(err as Error).stack}`;
  for (const c of CANARIES) assert.ok(!text.includes(c), 'a secret appears in the error');
  return err;
}

dnsProviderContract({
  name: 'azuredns (fake Azure, client secret)',
  zone: ZONE,
  create: () => sp(),
  createWithBadCredentials: () => sp({}, WRONG),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('azuredns: client credentials at Entra ID; the zone by Resource Graph; record sets written with etags', async () => {
  const p = await sp();
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  const tokenReq = sent[0]!;
  assert.equal(tokenReq.path, `/${TENANT}/oauth2/v2.0/token`);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenReq.body)), {
    client_id: APP,
    scope: 'https://management.azure.com/.default',
    grant_type: 'client_credentials',
    client_secret: APP_SECRET,
  });
  const graph = sent.filter((q) => q.path === '/providers/Microsoft.ResourceGraph/resources');
  assert.equal(graph.length, 1);
  assert.deepEqual(JSON.parse(graph[0]!.body), {
    query:
      'resources\n| where type =~ "microsoft.network/dnszones"\n| where name =~ "example.test"\n| project subscriptionId, resourceGroup, name',
    options: { resultFormat: 'objectArray', $top: 1000, $skip: 0 },
  });
  const path = `/subscriptions/${SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/example.test/TXT/${encodeURIComponent(r.name)}`;
  const put = sent.find((q) => q.method === 'PUT')!;
  assert.equal(put.path, path);
  assert.equal(put.query.get('api-version'), '2018-05-01');
  assert.equal(put.headers['if-none-match'], '*');
  assert.deepEqual(JSON.parse(put.body), { properties: { TTL: 60, TXTRecords: [{ value: [r.value] }] } });
  for (const q of sent.slice(1)) assert.match(String(q.headers.authorization), /^Bearer eyJ/);

  const r2 = { ...record('shape'), fqdn: r.fqdn, name: r.name };
  const mark = fake.requests.length;
  await p.present(r2, live());
  const put2 = fake.requests.slice(mark).find((q) => q.method === 'PUT')!;
  assert.match(String(put2.headers['if-match']), /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(put2.body).properties.TXTRecords, [
    { value: [r.value] },
    { value: [r2.value] },
  ]);
  await p.cleanup(r, live());
  const mark2 = fake.requests.length;
  await p.cleanup(r2, live());
  const del = fake.requests.slice(mark2).find((q) => q.method === 'DELETE')!;
  assert.match(
    String(del.headers['if-match']),
    /^[0-9a-f-]{36}$/,
    'the last value deletes the set, If-Match its etag',
  );
  assert.deepEqual(await fake.values(r.fqdn), []);

  const apex = record(null);
  await p.present(apex, live());
  assert.match(fake.requests.filter((q) => q.method === 'PUT').at(-1)!.path, /\/TXT\/%40$/);
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
});

test('azuredns: a client certificate signs the client assertion; an unregistered one is refused', async () => {
  const p = await provider({
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CERT_APP,
    AZURE_CLIENT_CERTIFICATE_PATH: join(dir, 'app.pem'),
  });
  const r = record('cert');
  const from = fake.requests.length;
  await p.present(r, live());
  const form = new URLSearchParams(fake.requests[from]!.body);
  assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  assert.equal(form.get('client_secret'), null);
  const [h, c] = form
    .get('client_assertion')!
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  assert.equal(h.alg, 'RS256');
  assert.match(h.x5t, /^[A-Za-z0-9_-]{27}$/);
  assert.equal(c.aud, `${fake.authorityHost}/${TENANT}/oauth2/v2.0/token`);
  assert.equal(c.iss, CERT_APP);
  assert.equal(c.sub, CERT_APP);
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());

  const stranger = await failure(
    (
      await provider({
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CERT_APP,
        AZURE_CLIENT_CERTIFICATE_PATH: join(dir, 'stranger.pem'),
      })
    ).present(record(), live()),
  );
  assert.match(
    stranger.message,
    /credentials refused by Microsoft Entra ID .*AADSTS700027.*AZURE_CLIENT_CERTIFICATE_PATH/,
  );
  await writeFile(
    join(dir, 'cert-only.pem'),
    (await readFile(join(dir, 'app.pem'), 'utf8')).split('-----BEGIN PRIVATE KEY-----')[0]!,
  );
  await assert.rejects(
    provider({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CERT_APP,
      AZURE_CLIENT_CERTIFICATE_PATH: join(dir, 'cert-only.pem'),
    }),
    (e: unknown) =>
      e instanceof InvalidInputError && /PEM file with the certificate and its private key/.test(e.message),
  );
});

test("azuredns: workload identity (AZURE_FEDERATED_TOKEN_FILE) and lego's OIDC variables", async () => {
  const wli = await provider({
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: WLI_APP,
    AZURE_FEDERATED_TOKEN_FILE: join(dir, 'federated-token'),
  });
  const r = record('wli');
  const from = fake.requests.length;
  await wli.present(r, live());
  assert.equal(new URLSearchParams(fake.requests[from]!.body).get('client_assertion'), FEDERATED);
  await wli.cleanup(r, live());
  const oidc = await provider({
    AZURE_AUTH_METHOD: 'oidc',
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: WLI_APP,
    AZURE_OIDC_TOKEN: FEDERATED,
  });
  const r2 = record('oidc');
  await oidc.present(r2, live());
  assert.deepEqual(await fake.values(r2.fqdn), [r2.value]);
  await oidc.cleanup(r2, live());
  await assert.rejects(
    provider({ AZURE_AUTH_METHOD: 'oidc', AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: WLI_APP }),
    /AZURE_AUTH_METHOD=oidc needs AZURE_OIDC_TOKEN/,
  );
  await assert.rejects(
    provider({ AZURE_AUTH_METHOD: 'cli' }),
    /AZURE_AUTH_METHOD=cli is not supported by acmekit/,
  );
});

test('azuredns: managed identity from IMDS (system- and user-assigned) and App Service; none gives the list of what was tried', async () => {
  const vm = await provider({
    AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.identityOrigin,
    AZURE_SUBSCRIPTION_ID: SUB,
  });
  const r = record('vm');
  const before = fake.identityCalls.length;
  await vm.present(r, live());
  assert.deepEqual(fake.identityCalls.slice(before), [
    { path: '/metadata/identity/oauth2/token', status: 200 },
  ]);
  await vm.cleanup(r, live());
  const user = await provider({
    AZURE_AUTH_METHOD: 'msi',
    AZURE_CLIENT_ID: USER_ASSIGNED,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.identityOrigin,
  });
  const r2 = record('uami');
  await user.present(r2, live());
  await user.cleanup(r2, live());
  const app = await provider({
    IDENTITY_ENDPOINT: `${fake.identityOrigin}/msi/token`,
    IDENTITY_HEADER: IDENTITY_HEADER,
  });
  const r3 = record('appsvc');
  await app.present(r3, live());
  assert.deepEqual(await fake.values(r3.fqdn), [r3.value]);
  await app.cleanup(r3, live());

  const none = await failure((await provider({ AZURE_AUTH_MSI_TIMEOUT: '1s' })).present(record(), live()));
  assert.match(
    none.message,
    /no Azure credentials found: AZURE_TENANT_ID, AZURE_CLIENT_ID with AZURE_CLIENT_SECRET .*no managed identity: the instance metadata service at http:\/\/127\.0\.0\.1:9 did not answer within 1 s/,
  );
});

test('azuredns: private zones, a given subscription and resource group, AZURE_ZONE_NAME, and discovery filters', async () => {
  const priv = await sp({ AZURE_PRIVATE_ZONE: 'true' });
  const r = record('p', 'inside.test.');
  const from = fake.requests.length;
  await priv.present(r, live());
  const put = fake.requests.slice(from).find((q) => q.method === 'PUT')!;
  assert.match(put.path, /\/providers\/Microsoft\.Network\/privateDnsZones\/inside\.test\/TXT\//);
  assert.equal(put.query.get('api-version'), '2018-09-01');
  assert.deepEqual(JSON.parse(put.body), { properties: { ttl: 60, txtRecords: [{ value: [r.value] }] } });
  assert.deepEqual(await fake.values(r.fqdn, { private: true }), [r.value]);
  await priv.cleanup(r, live());

  const given = await sp({ AZURE_SUBSCRIPTION_ID: SUB, AZURE_RESOURCE_GROUP: 'rg-dns' });
  const mark = fake.requests.length;
  const r2 = record('given');
  await given.present(r2, live());
  assert.ok(!fake.requests.slice(mark).some((q) => q.path.includes('ResourceGraph')), 'no discovery');
  await given.cleanup(r2, live());
  const wrongGroup = await failure(
    (await sp({ AZURE_SUBSCRIPTION_ID: SUB, AZURE_RESOURCE_GROUP: 'rg-none' })).present(record(), live()),
  );
  assert.match(wrongGroup.message, /no Azure DNS zone example\.test in resource group rg-none/);

  // A sub-zone found by DNS, written in the Azure zone AZURE_ZONE_NAME names.
  const deep = { ...record('deep'), zone: 'sub.example.test.' };
  const named = await sp({ AZURE_ZONE_NAME: 'example.test' });
  await named.present(deep, live());
  assert.deepEqual(await fake.values(deep.fqdn), [deep.value]);
  await named.cleanup(deep, live());

  const beforeTwice = fake.requests.length;
  const twice = await failure((await sp()).present(record('x', 'twice.test.'), live()));
  const pages = fake.requests.slice(beforeTwice).filter((q) => q.path.includes('ResourceGraph'));
  assert.deepEqual(
    pages.map((q) => JSON.parse(q.body).options.$skip),
    [0, 1],
    'Resource Graph answers one row per page here: the second page is asked for',
  );
  assert.match(
    twice.message,
    /several Azure DNS zones are named twice\.test .*set AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP/,
  );
  const filtered = await sp({ AZURE_SERVICEDISCOVERY_FILTER: 'where resourceGroup !~ "rg-old"' });
  const r3 = record('f', 'twice.test.');
  await filtered.present(r3, live());
  assert.deepEqual(await fake.values(r3.fqdn), [r3.value]);
  await filtered.cleanup(r3, live());
  const missing = await failure((await sp()).present(record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /no Azure DNS zone named nothere\.test is visible to these credentials/);
});

test('azuredns: refused secrets and roles, etag races, 429 and 5xx', async () => {
  const wrong = await failure((await sp({}, WRONG)).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^azuredns: present: credentials refused by Microsoft Entra ID .*AADSTS7000215: Invalid client secret provided.*check AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID/,
  );
  const reader = await failure(
    provider({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: READER_APP,
      AZURE_CLIENT_SECRET: READER_SECRET,
    }).then((p) => p.present(record(), live())),
  );
  assert.equal(reader.status, 403);
  assert.match(
    reader.message,
    /credentials refused .*AuthorizationFailed.*Microsoft\.Network\/dnsZones\/TXT\/write/,
  );

  const p = await sp();
  const r = record('race');
  fake.failNext(
    {
      status: 412,
      json: {
        error: { code: 'PreconditionFailed', message: 'The Record set has been modified (etag mismatch).' },
      },
    },
    1,
    (q) => q.method === 'PUT',
  );
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { error: { code: 'TooManyRequests', message: 'Too many requests' } },
    },
    2,
    (q) => q.path.startsWith('/subscriptions/'),
  );
  const r2 = record();
  await p.present(r2, live());
  await p.cleanup(r2, live());
  fake.failNext(
    { status: 503, json: { error: { code: 'ServiceUnavailable', message: 'The service is unavailable.' } } },
    4,
    (q) => q.path.startsWith('/subscriptions/'),
  );
  const down = await failure(p.present(record(), live()));
  assert.equal(down.status, 503);
  assert.match(
    down.message,
    /Azure Resource Manager API error while trying to .*ServiceUnavailable.*try again/,
  );
});
