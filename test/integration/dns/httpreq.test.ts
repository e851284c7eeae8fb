import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeHttpReq, startFakeHttpReq } from '../../support/fake-cloud/httpreq.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

const ZONE = 'example.test.';
const USER = 'acme-agent';
const PASSWORD = `httpreq-password-${randomBytes(12).toString('hex')}`;
const WRONG = `httpreq-wrong-${randomBytes(12).toString('hex')}`;
const CANARIES = [PASSWORD, WRONG];

let ca: TestCa;
let fake: FakeHttpReq;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeHttpReq({
    ca,
    basePath: '/api/dns',
    credentials: { username: USER, password: PASSWORD },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource, endpoint = fake.endpoint): Promise<DnsProvider> {
  const loaded = await createDnsProvider('httpreq', {
    env: { HTTPREQ_ENDPOINT: endpoint, ...env },
    caBundle: ca.rootPem,
    logger,
  });
  return loaded.provider;
}
const authed = (password = PASSWORD): EnvSource => ({ HTTPREQ_USERNAME: USER, HTTPREQ_PASSWORD: password });

let n = 0;
function record(host = `t${++n}`): TxtRecord {
  const fqdn = `_acme-challenge.${host}.${ZONE}`;
  return {
    fqdn,
    zone: ZONE,
    name: relativeName(fqdn, ZONE),
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
  assertNoSecret(err);
  return err;
}

function assertNoSecret(err: unknown): void {
  const basic = (p: string) => Buffer.from(`${USER}:${p}`).toString('base64');
  const texts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    texts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e) ?? '');
  }
  for (const c of [...CANARIES, ...CANARIES.map(basic)]) {
    assert.ok(!texts.join('\n').includes(c), 'a secret appears in the error');
  }
}

dnsProviderContract({
  name: 'httpreq (fake service)',
  zone: ZONE,
  create: () => provider(authed()),
  createWithBadCredentials: () => provider(authed(WRONG)),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('httpreq: POSTs {fqdn, value} as JSON to <endpoint>/present and /cleanup with Basic authentication', async () => {
  const p = await provider(authed());
  const r = record();
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const [present, cleanup] = fake.requests.slice(from);
  assert.ok(present && cleanup);
  assert.equal(present.method, 'POST');
  assert.equal(present.path, '/api/dns/present');
  assert.equal(cleanup.path, '/api/dns/cleanup');
  assert.match(String(present.headers['content-type']), /^application\/json/);
  assert.equal(
    present.headers.authorization,
    `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
  );
  assert.deepEqual(JSON.parse(present.body), { fqdn: r.fqdn, value: r.value });
  assert.deepEqual(JSON.parse(cleanup.body), { fqdn: r.fqdn, value: r.value });
  assert.match(logLines.join('\n'), /httpreq: request/);
  for (const c of CANARIES) assert.ok(!logLines.join('\n').includes(c));
});

test('httpreq: HTTPREQ_PASSWORD_FILE is read', async () => {
  const file = join(ca.dir, 'httpreq-password');
  await writeFile(file, `${PASSWORD}\n`);
  const p = await provider({ HTTPREQ_USERNAME: USER, HTTPREQ_PASSWORD_FILE: file });
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
});

test('httpreq: a wrong password is refused by the service, changes nothing, and names both variables', async () => {
  const p = await provider(authed(WRONG));
  const r = record();
  const from = fake.requests.length;
  const err = await failure(p.present(r, live()));
  assert.equal(err.provider, 'httpreq');
  assert.equal(err.status, 401);
  assert.match(
    err.message,
    /^httpreq: present: https:\/\/127\.0\.0\.1:\d+\/api\/dns\/present refused the credentials/,
  );
  assert.match(err.message, /HTTPREQ_USERNAME and HTTPREQ_PASSWORD/);
  // The service's only endpoints write; the request must have stopped at its authentication check.
  assert.deepEqual(
    fake.requests.slice(from).map((q) => q.status),
    [401],
  );
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('httpreq: without credentials, a service that wants them says to set them', async () => {
  const p = await provider({});
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 401);
  assert.match(err.message, /wants authentication .*set HTTPREQ_USERNAME and HTTPREQ_PASSWORD/);
});

test('F2: httpreq: non-2xx answers are DnsProviderErrors with the status and the (redacted) body', async () => {
  const p = await provider(authed());
  fake.failNext({ status: 500, text: `database down; request had password ${PASSWORD}` });
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /HTTP 500: database down; request had password \[redacted\]/);
  assert.match(err.message, /check the service's logs/);

  fake.failNext({ status: 429, headers: { 'retry-after': '12' }, text: 'slow down' });
  const err2 = await failure(p.cleanup(record(), live()));
  assert.equal(err2.operation, 'cleanup');
  assert.equal(err2.status, 429);
  assert.match(err2.message, /rate limiting .*retry after 12 s/);

  const wrongPath = await provider(authed(), fake.endpoint.replace('/api/dns', '/api'));
  const err3 = await failure(wrongPath.present(record(), live()));
  assert.equal(err3.status, 404);
  assert.match(err3.message, /\/api\/present does not exist .*HTTPREQ_ENDPOINT/);
});

test('httpreq: RAW mode sends {domain, token, keyAuth}; the service works out the same value', async (t) => {
  const raw = await startFakeHttpReq({ ca, mode: 'RAW' });
  t.after(() => raw.close());
  const p = await provider({ HTTPREQ_MODE: 'RAW' }, raw.endpoint);
  const token = randomBytes(16).toString('base64url');
  const keyAuthorization = `${token}.${randomBytes(32).toString('base64url')}`;
  const value = createHash('sha256').update(keyAuthorization).digest('base64url');
  const fqdn = `_acme-challenge.www.${ZONE}`;
  const r: TxtRecord = {
    fqdn,
    zone: ZONE,
    name: relativeName(fqdn, ZONE),
    value,
    ttl: 60,
    acme: { domain: `www.${ZONE}`, token, keyAuthorization },
  };
  await p.present(r, live());
  assert.deepEqual(JSON.parse(raw.requests.at(-1)!.body), {
    domain: 'www.example.test',
    token,
    keyAuth: keyAuthorization,
  });
  assert.deepEqual(await raw.values(fqdn), [value]);
  await p.cleanup(r, live());
  assert.deepEqual(await raw.values(fqdn), []);

  // Without the ACME values (a caller outside the dns-01 solver) RAW cannot work: said before any request.
  const { acme: _, ...bare } = r;
  const before = raw.requests.length;
  const err = await failure(p.present(bare, live()));
  assert.match(err.message, /HTTPREQ_MODE=RAW needs the ACME token and key authorization/);
  assert.equal(raw.requests.length, before);
});

test('httpreq: bad configuration fails before any request, naming the variable and never the password', async () => {
  const before = fake.requests.length;
  const cases: [EnvSource, RegExp, unknown][] = [
    [{}, /HTTPREQ_ENDPOINT is not set/, 'HTTPREQ_ENDPOINT'],
    [{ HTTPREQ_ENDPOINT: 'not a url' }, /HTTPREQ_ENDPOINT must be an http\(s\) URL/, 'not a url'],
    [
      { HTTPREQ_ENDPOINT: fake.endpoint, HTTPREQ_USERNAME: USER },
      /HTTPREQ_PASSWORD is not set/,
      'HTTPREQ_PASSWORD',
    ],
    [
      { HTTPREQ_ENDPOINT: fake.endpoint, HTTPREQ_PASSWORD: PASSWORD },
      /HTTPREQ_USERNAME is not set/,
      'HTTPREQ_USERNAME',
    ],
    [{ HTTPREQ_ENDPOINT: fake.endpoint, HTTPREQ_MODE: 'JSON' }, /HTTPREQ_MODE must be RAW or unset/, 'JSON'],
    [
      { HTTPREQ_ENDPOINT: fake.endpoint.replace('https://', `https://${USER}:${PASSWORD}@`) },
      /must not carry a user name or password; set HTTPREQ_USERNAME and HTTPREQ_PASSWORD/,
      'HTTPREQ_ENDPOINT',
    ],
  ];
  for (const [env, message, value] of cases) {
    const err = await createDnsProvider('httpreq', { env, caBundle: ca.rootPem }).then(
      () => assert.fail(`configured with ${Object.keys(env).join(', ')}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, message);
    assert.equal(err.value, value);
    assertNoSecret(err);
  }
  assert.equal(fake.requests.length, before);
});
