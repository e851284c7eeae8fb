import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeGcloud, startFakeGcloud } from '../../support/fake-cloud/gcloud.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The gcloud provider (Cloud DNS v1 on the REST layer, Google OAuth 2.0 credentials) against a fake of
// Google's token endpoint, Cloud DNS, the IAM Credentials API and the metadata server.

const ZONE = 'example.test.';
const PROJECT = 'acme-dns-project';
const SA = 'dns-writer@acme-dns-project.iam.gserviceaccount.com';
const READER = 'dns-reader@acme-dns-project.iam.gserviceaccount.com';
const TARGET = 'dns-target@acme-dns-project.iam.gserviceaccount.com';
const VM = 'vm-default@acme-dns-project.iam.gserviceaccount.com';

const rsa = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const saKey = rsa();
const readerKey = rsa();
const targetKey = rsa();
const strangerKey = rsa();
const USER_SECRET = `user-secret-${randomBytes(12).toString('hex')}`;
const REFRESH = `1//refresh-${randomBytes(16).toString('hex')}`;
/** A piece of each private key: it must never show up anywhere. */
const keyPiece = (pem: string) => pem.split('\n')[5]!;
const CANARIES = [keyPiece(saKey.privateKey), keyPiece(strangerKey.privateKey), USER_SECRET, REFRESH];

let ca: TestCa;
let fake: FakeGcloud;
let dir: string;
let emptyGcloudDir: string;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

function keyJson(email: string, privateKey: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: `kid-${email.split('@')[0]}`,
    private_key: privateKey,
    client_email: email,
    client_id: '1234567890',
    token_uri: fake.tokenUri,
    ...extra,
  });
}

before(async () => {
  ca = await createTestCa();
  dir = await mkdtemp(join(tmpdir(), 'acmekit-gcloud-'));
  emptyGcloudDir = join(dir, 'gcloud-empty');
  fake = await startFakeGcloud({
    ca,
    project: PROJECT,
    zones: [
      { name: 'example-test', dnsName: 'example.test.' },
      { name: 'example-test-private', dnsName: 'example.test.', visibility: 'private' },
      { name: 'inside-only', dnsName: 'internal.test.', visibility: 'private' },
    ],
    serviceAccounts: [
      { email: SA, keyId: 'kid-dns-writer', publicKey: saKey.publicKey, canImpersonate: [TARGET] },
      { email: READER, keyId: 'kid-dns-reader', publicKey: readerKey.publicKey, dnsAdmin: false },
      { email: TARGET, keyId: 'kid-dns-target', publicKey: targetKey.publicKey },
      { email: VM, keyId: 'kid-vm', publicKey: targetKey.publicKey },
    ],
    users: [
      {
        clientId: 'gcloud-user.apps.googleusercontent.com',
        clientSecret: USER_SECRET,
        refreshToken: REFRESH,
      },
    ],
    metadataAccount: VM,
    zonePageSize: 1,
  });
  await writeFile(join(dir, 'sa.json'), keyJson(SA, saKey.privateKey));
  // The writer's email with a key Google does not know: the signature check fails.
  await writeFile(join(dir, 'stranger.json'), keyJson(SA, strangerKey.privateKey));
  await writeFile(join(dir, 'reader.json'), keyJson(READER, readerKey.privateKey));
  await writeFile(
    join(dir, 'user.json'),
    JSON.stringify({
      type: 'authorized_user',
      client_id: 'gcloud-user.apps.googleusercontent.com',
      client_secret: USER_SECRET,
      refresh_token: REFRESH,
      token_uri: fake.tokenUri,
    }),
  );
});
after(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('gcloud', {
    env: {
      GCE_DNS_API_URL: fake.dnsUrl,
      GCE_IAM_CREDENTIALS_API_URL: fake.iamUrl,
      CLOUDSDK_CONFIG: emptyGcloudDir,
      // Never the real metadata server: a closed port unless a test names the fake.
      GCE_METADATA_HOST: '127.0.0.1:9',
      ...env,
    },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}
const withKey = (file = 'sa.json', env: EnvSource = {}) =>
  provider({ GCE_SERVICE_ACCOUNT_FILE: join(dir, file), ...env });

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 120,
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
  name: 'gcloud (fake Cloud DNS, service account key)',
  zone: ZONE,
  create: () => withKey(),
  createWithBadCredentials: () => withKey('stranger.json'),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('gcloud: a JWT signed by the key buys the token; zone by dnsName (paged, public); one atomic change per write', async () => {
  const p = await withKey();
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  const tokenReq = sent.find((q) => q.path === '/token')!;
  const form = new URLSearchParams(tokenReq.body);
  assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  const [h, c] = form
    .get('assertion')!
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  assert.deepEqual(h, { alg: 'RS256', typ: 'JWT', kid: 'kid-dns-writer' });
  assert.equal(c.iss, SA);
  assert.equal(c.aud, fake.tokenUri);
  assert.equal(c.scope, 'https://www.googleapis.com/auth/ndev.clouddns.readwrite');
  assert.equal(c.exp - c.iat, 3600);
  const dnsCalls = sent.filter((q) => q.path.startsWith('/dns/'));
  for (const q of dnsCalls) assert.match(String(q.headers.authorization), /^Bearer ya29\./);
  // Two zones share the DNS name; one per page: the public one is on the first page here.
  const zoneList = dnsCalls.filter((q) => q.path === `/dns/v1/projects/${PROJECT}/managedZones`);
  assert.equal(zoneList[0]?.query.get('dnsName'), 'example.test.');
  assert.equal(zoneList[1]?.query.get('pageToken'), '1', 'the second page was asked for');
  const rrsets = dnsCalls.find((q) => q.path.endsWith('/rrsets'))!;
  assert.equal(rrsets.path, `/dns/v1/projects/${PROJECT}/managedZones/example-test/rrsets`);
  assert.equal(rrsets.query.get('name'), r.fqdn);
  assert.equal(rrsets.query.get('type'), 'TXT');
  const post = dnsCalls.find((q) => q.method === 'POST')!;
  assert.deepEqual(JSON.parse(post.body), {
    kind: 'dns#change',
    additions: [{ name: r.fqdn, type: 'TXT', ttl: 120, rrdatas: [`"${r.value}"`] }],
  });
  // The change answered "pending": it is polled until done.
  assert.ok(dnsCalls.some((q) => q.method === 'GET' && /\/changes\/\d+$/.test(q.path)));

  // A second value: the old set is deleted and the larger one added, in one change.
  const r2 = { ...record('shape'), fqdn: r.fqdn, name: r.name };
  const mark = fake.requests.length;
  await p.present(r2, live());
  const change = JSON.parse(fake.requests.slice(mark).find((q) => q.method === 'POST')!.body);
  assert.deepEqual(change.deletions, [{ name: r.fqdn, type: 'TXT', ttl: 120, rrdatas: [`"${r.value}"`] }]);
  assert.deepEqual(change.additions[0].rrdatas, [`"${r.value}"`, `"${r2.value}"`]);
  await p.cleanup(r, live());
  await p.cleanup(r2, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  // The tokens themselves never reach the logs.
  for (const q of fake.requests) {
    const token = /^Bearer (\S+)$/.exec(String(q.headers.authorization ?? ''))?.[1];
    if (token) assert.ok(!logLines.join('\n').includes(token), 'an access token reached the logs');
  }
});

test('gcloud: apex, GCE_ZONE_ID, GCE_PROJECT, and a private zone only with GCE_ALLOW_PRIVATE_ZONE', async () => {
  const apex = record(null);
  const p = await withKey('sa.json', { GCE_ZONE_ID: 'example-test', GCE_PROJECT: PROJECT });
  const from = fake.requests.length;
  await p.present(apex, live());
  assert.ok(
    fake.requests.slice(from).some((q) => q.path === `/dns/v1/projects/${PROJECT}/managedZones/example-test`),
  );
  assert.ok(!fake.requests.slice(from).some((q) => q.query.has('dnsName')), 'no zone list with GCE_ZONE_ID');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);

  const internal = record('a', 'internal.test.');
  const refused = await failure((await withKey()).present(internal, live()));
  assert.match(
    refused.message,
    /only a private managed zone for internal\.test\..*GCE_ALLOW_PRIVATE_ZONE=true/,
  );
  const allowed = await withKey('sa.json', { GCE_ALLOW_PRIVATE_ZONE: 'true' });
  await allowed.present(internal, live());
  assert.deepEqual(await fake.values(internal.fqdn), [internal.value]);
  await allowed.cleanup(internal, live());

  const missing = await failure((await withKey()).present(record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /no managed zone for nothere\.test\. in project acme-dns-project/);
  const wrongProject = await failure(
    (await withKey('sa.json', { GCE_PROJECT: 'other-project' })).present(record(), live()),
  );
  assert.equal(wrongProject.status, 403);
});

test('gcloud: without a key, the metadata server (Metadata-Flavor checked) gives the token and the project', async () => {
  const p = await provider({ GCE_METADATA_HOST: fake.metadataHost });
  const r = record('vm');
  const before = fake.metadataCalls.length;
  await p.present(r, live());
  const calls = fake.metadataCalls.slice(before);
  assert.deepEqual(calls.map((c) => `${c.status} ${c.path}`).sort(), [
    '200 /computeMetadata/v1/instance/service-accounts/default/token',
    '200 /computeMetadata/v1/project/project-id',
  ]);
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());

  const none = await failure((await provider({})).present(record(), live()));
  assert.match(
    none.message,
    /no Google credentials found: GCE_SERVICE_ACCOUNT and GCE_SERVICE_ACCOUNT_FILE not set; GOOGLE_APPLICATION_CREDENTIALS not set; .*metadata server at http:\/\/127\.0\.0\.1:9 did not answer/,
  );
});

test('gcloud: GOOGLE_APPLICATION_CREDENTIALS with a gcloud user (refresh token), and impersonation', async () => {
  const user = await provider({
    GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'user.json'),
    GCE_PROJECT: PROJECT,
  });
  const r = record('user');
  const from = fake.requests.length;
  await user.present(r, live());
  const form = new URLSearchParams(fake.requests.slice(from).find((q) => q.path === '/token')!.body);
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await user.cleanup(r, live());

  const imp = await withKey('sa.json', { GCE_IMPERSONATE_SERVICE_ACCOUNT: TARGET });
  const r2 = record('imp');
  const mark = fake.requests.length;
  await imp.present(r2, live());
  const sent = fake.requests.slice(mark);
  const c = JSON.parse(
    Buffer.from(
      new URLSearchParams(sent.find((q) => q.path === '/token')!.body).get('assertion')!.split('.')[1]!,
      'base64url',
    ).toString(),
  );
  assert.equal(c.scope, 'https://www.googleapis.com/auth/cloud-platform', 'the source token may call IAM');
  const gen = sent.find((q) => q.path.endsWith(':generateAccessToken'))!;
  assert.equal(
    gen.path,
    `/iam/v1/projects/-/serviceAccounts/${encodeURIComponent(TARGET)}:generateAccessToken`,
  );
  assert.deepEqual(JSON.parse(gen.body), {
    scope: ['https://www.googleapis.com/auth/ndev.clouddns.readwrite'],
    lifetime: '3600s',
  });
  assert.deepEqual(await fake.values(r2.fqdn), [r2.value]);
  await imp.cleanup(r2, live());

  const denied = await failure(
    (await withKey('sa.json', { GCE_IMPERSONATE_SERVICE_ACCOUNT: VM })).present(record(), live()),
  );
  assert.match(
    denied.message,
    /credentials refused by the IAM Service Account Credentials API .*getAccessToken.*GCE_IMPERSONATE_SERVICE_ACCOUNT/,
  );
});

test('gcloud: refused keys and roles give actionable errors; bad key files fail before any request', async () => {
  const stranger = await failure((await withKey('stranger.json')).present(record(), live()));
  assert.equal(stranger.status, 400);
  assert.match(
    stranger.message,
    /^gcloud: present: credentials refused by Google's token endpoint .*invalid_grant: Invalid JWT Signature.*check the service account key in GCE_SERVICE_ACCOUNT/,
  );
  const reader = await failure((await withKey('reader.json')).present(record(), live()));
  assert.equal(reader.status, 403);
  assert.match(reader.message, /credentials refused .*Forbidden.*DNS Administrator/);

  await writeFile(join(dir, 'broken.json'), '{"type":"service_account","client_email":"x@y"}');
  await assert.rejects(
    withKey('broken.json'),
    (e: unknown) => e instanceof InvalidInputError && /no private_key/.test(e.message),
  );
  await writeFile(join(dir, 'noproject.json'), keyJson(SA, saKey.privateKey, { project_id: undefined }));
  await assert.rejects(withKey('noproject.json'), /GCE_PROJECT is not set/);
  await writeFile(join(dir, 'external.json'), '{"type":"external_account"}');
  await assert.rejects(
    provider({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'external.json') }),
    /type "external_account"/,
  );
});

test('gcloud: a set changed by another writer is read again; 429 and 5xx are retried, then reported', async () => {
  const p = await withKey();
  const r = record('race');
  fake.failNext(
    {
      status: 412,
      json: {
        error: {
          code: 412,
          message: "Precondition not met for 'entity.change.deletions[0]'",
          errors: [{ reason: 'conditionNotMet' }],
        },
      },
    },
    1,
    (q) => q.method === 'POST' && q.path.endsWith('/changes'),
  );
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());

  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { error: { code: 429, message: 'Rate Limit Exceeded', status: 'RESOURCE_EXHAUSTED' } },
    },
    2,
    (q) => q.path.startsWith('/dns/'),
  );
  const r2 = record();
  await p.present(r2, live());
  assert.deepEqual(await fake.values(r2.fqdn), [r2.value]);
  await p.cleanup(r2, live());
  fake.failNext(
    { status: 503, json: { error: { code: 503, message: 'Backend Error', status: 'UNAVAILABLE' } } },
    4,
    (q) => q.path.startsWith('/dns/'),
  );
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Google Cloud DNS API error while trying to .*UNAVAILABLE: Backend Error.*try again in a few minutes/,
  );
});
