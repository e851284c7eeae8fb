import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeOvh, startFakeOvh } from '../../support/fake-cloud/ovh.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The ovh provider on the REST layer against a fake of the OVHcloud API, whose clock runs 1000 s ahead
// of ours: a request not timed with /auth/time is refused.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const APP_KEY = 'appkey1234567890';
const APP_SECRET = secret('ovh-app-secret');
const CONSUMER = secret('ovh-consumer');
const LEGO_RIGHTS = secret('ovh-lego-rights');
const WRONG_SECRET = secret('ovh-wrong-secret');
const CLIENT_SECRET = secret('ovh-client-secret');
const LIMITED_SECRET = secret('ovh-limited-secret');
const ACCESS_TOKEN = secret('ovh-access-token');
const CANARIES = [
  APP_SECRET,
  CONSUMER,
  LEGO_RIGHTS,
  WRONG_SECRET,
  CLIENT_SECRET,
  LIMITED_SECRET,
  ACCESS_TOKEN,
];

let ca: TestCa;
let fake: FakeOvh;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeOvh({
    ca,
    zones: ['example.test', 'other.test'],
    applications: { [APP_KEY]: APP_SECRET },
    consumerKeys: {
      [CONSUMER]: { application: APP_KEY },
      // The access rules lego's documentation suggests: no GET.
      [LEGO_RIGHTS]: {
        application: APP_KEY,
        rules: [
          { method: 'POST', path: '/domain/zone/*' },
          { method: 'DELETE', path: '/domain/zone/*' },
        ],
      },
    },
    oauthClients: {
      'sa-client': { secret: CLIENT_SECRET },
      'sa-limited': {
        secret: LIMITED_SECRET,
        actions: ['dnsZone:apiovh:record/get', 'dnsZone:apiovh:record/create'],
      },
    },
    accessTokens: [ACCESS_TOKEN],
    clockSkewSeconds: 1000,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

const appEnv = (consumer = CONSUMER, appSecret = APP_SECRET): EnvSource => ({
  OVH_APPLICATION_KEY: APP_KEY,
  OVH_APPLICATION_SECRET: appSecret,
  OVH_CONSUMER_KEY: consumer,
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('ovh', {
    env: { OVH_ENDPOINT: fake.endpoint, ...env },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}

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
  name: 'ovh (fake API, application key)',
  zone: ZONE,
  create: () => provider(appEnv()),
  createWithBadCredentials: () => provider(appEnv(CONSUMER, WRONG_SECRET)),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

dnsProviderContract({
  name: 'ovh (fake API, OAuth2 service account)',
  zone: ZONE,
  create: () =>
    provider({
      OVH_CLIENT_ID: 'sa-client',
      OVH_CLIENT_SECRET: CLIENT_SECRET,
      OVH_OAUTH2_URL: fake.tokenUrl,
    }),
  createWithBadCredentials: () =>
    provider({
      OVH_CLIENT_ID: 'sa-client',
      OVH_CLIENT_SECRET: WRONG_SECRET,
      OVH_OAUTH2_URL: fake.tokenUrl,
    }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('ovh: signed requests on OVHcloud time (X-Ovh-* headers, "$1$" SHA-1 over the URL and body); create then refresh', async () => {
  const p = await provider(appEnv());
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.equal(sent[0]?.path, '/1.0/auth/time', 'the time is asked first');
  assert.equal(sent[0]?.headers['x-ovh-signature'], undefined, '/auth/time is not signed');
  const signed = sent.slice(1);
  assert.deepEqual(
    signed.map((q) => `${q.method} ${q.url}`),
    [
      `GET /1.0/domain/zone/example.test/record?fieldType=TXT&subDomain=${encodeURIComponent(r.name)}`,
      'POST /1.0/domain/zone/example.test/record',
      'POST /1.0/domain/zone/example.test/refresh',
    ],
  );
  for (const q of signed) {
    assert.equal(q.headers['x-ovh-application'], APP_KEY);
    assert.equal(q.headers['x-ovh-consumer'], CONSUMER);
    const ts = Number(q.headers['x-ovh-timestamp']);
    assert.ok(Math.abs(ts - (Math.floor(Date.now() / 1000) + 1000)) < 30, 'timestamp on the server clock');
    const clear = [
      APP_SECRET,
      CONSUMER,
      q.method,
      `${fake.endpoint.replace(/\/1\.0$/, '')}${q.url}`,
      q.body,
      String(ts),
    ].join('+');
    assert.equal(q.headers['x-ovh-signature'], `$1$${createHash('sha1').update(clear).digest('hex')}`);
  }
  assert.deepEqual(JSON.parse(signed[1]!.body), {
    fieldType: 'TXT',
    subDomain: r.name,
    target: r.value,
    ttl: 120,
  });
  assert.equal(signed[2]!.body, '', 'refresh has no body');
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'published by the refresh');
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [], 'the deletion is published too');

  const apex = record(null);
  await p.present(apex, live());
  assert.equal(
    JSON.parse(fake.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/record')).at(-1)!.body)
      .subDomain,
    '',
  );
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await provider(appEnv())).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test("ovh: lego's suggested rights (POST and DELETE only) still present and clean up, with a warning", async () => {
  const p = await provider(appEnv(LEGO_RIGHTS));
  const r = record('lego');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  assert.match(logLines.join('\n'), /may not read DNS records \(GET \/domain\/zone\/\*/);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('ovh: OAuth2 client credentials and access tokens; IAM refusals name the missing action', async () => {
  const p = await provider({
    OVH_CLIENT_ID: 'sa-client',
    OVH_CLIENT_SECRET: CLIENT_SECRET,
    OVH_OAUTH2_URL: fake.tokenUrl,
  });
  const from = fake.requests.length;
  const r = record('oauth');
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  const form = new URLSearchParams(sent[0]!.body);
  assert.equal(sent[0]?.path, '/auth/oauth2/token');
  assert.deepEqual(Object.fromEntries(form), {
    grant_type: 'client_credentials',
    client_id: 'sa-client',
    client_secret: CLIENT_SECRET,
    scope: 'all',
  });
  for (const q of sent.slice(1)) assert.match(String(q.headers.authorization), /^Bearer eyJ/);
  await p.cleanup(r, live());
  assert.equal(
    fake.requests.slice(from).filter((q) => q.path === '/auth/oauth2/token').length,
    1,
    'token reused',
  );

  const t = await provider({ OVH_ACCESS_TOKEN: ACCESS_TOKEN });
  const r2 = record('token');
  await t.present(r2, live());
  assert.deepEqual(await fake.values(r2.fqdn), [r2.value]);
  await t.cleanup(r2, live());

  const limited = await provider({
    OVH_CLIENT_ID: 'sa-limited',
    OVH_CLIENT_SECRET: LIMITED_SECRET,
    OVH_OAUTH2_URL: fake.tokenUrl,
  });
  const err = await failure(limited.present(record(), live()));
  assert.equal(err.status, 403);
  assert.match(
    err.message,
    /refresh zone example\.test.*missing IAM actions: dnsZone:apiovh:refresh.*OVH_CLIENT_ID and OVH_CLIENT_SECRET/,
  );
});

test('ovh: refused keys, unknown zones and mixed or missing credentials give actionable errors', async () => {
  const wrong = await failure((await provider(appEnv(CONSUMER, WRONG_SECRET))).present(record(), live()));
  assert.equal(wrong.status, 400);
  assert.match(wrong.message, /INVALID_SIGNATURE: Invalid signature; .*check OVH_APPLICATION_SECRET/);
  const unknown = await failure((await provider(appEnv(secret('nobody')))).present(record(), live()));
  assert.equal(unknown.status, 403);
  assert.match(
    unknown.message,
    /credentials refused .*INVALID_CREDENTIAL.*check OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY/,
  );
  const missing = await failure((await provider(appEnv())).present(record('x', 'nothere.test.'), live()));
  assert.equal(missing.status, 404);
  assert.match(missing.message, /This service does not exist/);

  await assert.rejects(
    provider({ ...appEnv(), OVH_ACCESS_TOKEN: ACCESS_TOKEN }),
    /one way to authenticate, not several/,
  );
  await assert.rejects(
    provider({ OVH_APPLICATION_KEY: APP_KEY }),
    /OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY not set/,
  );
  await assert.rejects(provider({}), /no credentials: set OVH_APPLICATION_KEY/);
  await assert.rejects(
    provider({ OVH_ENDPOINT: 'ovh-mars', ...appEnv() }),
    /OVH_ENDPOINT must be one of ovh-eu/,
  );
  await assert.rejects(
    provider({ OVH_CLIENT_ID: 'x', OVH_CLIENT_SECRET: CLIENT_SECRET }),
    /OAuth2 works with OVH_ENDPOINT ovh-eu, ovh-ca or ovh-us/,
  );
});

test('ovh: 429 and 5xx are retried, then reported', async () => {
  const p = await provider(appEnv());
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { class: 'Client::TooManyRequests', message: 'Too many requests' },
    },
    2,
    (q) => q.path.includes('/domain/'),
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(
    { status: 503, json: { class: 'Server::ServiceUnavailable', message: 'Service unavailable' } },
    4,
    (q) => q.path.includes('/domain/'),
  );
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /OVHcloud API error while trying to .*Server::ServiceUnavailable: Service unavailable.*try again/,
  );
});
