import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, isZoneFinder, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  cloudflareFailure,
  type FakeCloudflare,
  startFakeCloudflare,
} from '../../support/fake-cloud/cloudflare.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const DNS_TOKEN = secret('cf-dns-token');
const ZONE_TOKEN = secret('cf-zone-token');
const READ_ONLY_TOKEN = secret('cf-read-only');
const OTHER_ZONE_TOKEN = secret('cf-other-zone');
const WRONG_TOKEN = secret('cf-wrong-token');
const EMAIL = 'owner@example.test';
const GLOBAL_KEY = secret('cf-global-key');
const CANARIES = [DNS_TOKEN, ZONE_TOKEN, READ_ONLY_TOKEN, OTHER_ZONE_TOKEN, WRONG_TOKEN, GLOBAL_KEY];

let ca: TestCa;
let cf: FakeCloudflare;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  cf = await startFakeCloudflare({
    ca,
    zones: ['example.test', 'other.test'],
    tokens: {
      [DNS_TOKEN]: {},
      [ZONE_TOKEN]: { edit: false },
      [READ_ONLY_TOKEN]: { edit: false, zones: ['example.test'] },
      [OTHER_ZONE_TOKEN]: { zones: ['other.test'] },
    },
    globalKey: { email: EMAIL, key: GLOBAL_KEY },
    // Pages of one record: every name with two values needs paging.
    maxPerPage: 1,
  });
});
after(async () => {
  await cf?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('cloudflare', {
    env: { CLOUDFLARE_BASE_URL: cf.baseUrl, ...env },
    caBundle: ca.rootPem,
    logger,
  });
  return loaded.provider;
}

let n = 0;
function record(host = `t${++n}`, zone = ZONE, ttl = 120): TxtRecord {
  const fqdn = `_acme-challenge.${host}.${zone}`;
  const value = randomBytes(32).toString('base64url');
  return { fqdn, zone, name: relativeName(fqdn, zone), value, ttl };
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
  const text = [String(err), (err as Error).stack ?? '', JSON.stringify(err) ?? ''].join('\n');
  for (const c of CANARIES) assert.ok(!text.includes(c), 'a secret appears in the error');
}

dnsProviderContract({
  name: 'cloudflare (fake API)',
  zone: ZONE,
  create: () => provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN }),
  createWithBadCredentials: () => provider({ CLOUDFLARE_DNS_API_TOKEN: WRONG_TOKEN }),
  values: (fqdn) => cf.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('cloudflare: writes quoted content with the Bearer token, at least 60 s TTL, and logs without secrets', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const r = record(undefined, ZONE, 30);
  const from = cf.requests.length;
  await p.present(r, live());
  assert.deepEqual(cf.contents(r.fqdn), [`"${r.value}"`]);
  const post = cf.requests.slice(from).find((q) => q.method === 'POST');
  assert.ok(post, 'a POST was sent');
  assert.equal(post.headers.authorization, `Bearer ${DNS_TOKEN}`);
  assert.equal(post.headers['x-auth-key'], undefined);
  assert.equal(JSON.parse(post.body).ttl, 60);
  assert.ok(
    cf.requests
      .slice(from)
      .every((q) => !q.path.includes(DNS_TOKEN) && !q.query.toString().includes(DNS_TOKEN)),
  );
  await p.cleanup(r, live());
  assert.deepEqual(await cf.values(r.fqdn), []);
  assert.match(logLines.join('\n'), /cloudflare: API call/);
  for (const c of CANARIES) assert.ok(!logLines.join('\n').includes(c));
});

test('cloudflare: e-mail and Global API Key go in X-Auth-Email and X-Auth-Key', async () => {
  const p = await provider({ CLOUDFLARE_EMAIL: EMAIL, CLOUDFLARE_API_KEY: GLOBAL_KEY });
  const r = record();
  const from = cf.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = cf.requests.slice(from);
  assert.ok(sent.length >= 3);
  for (const q of sent) {
    assert.equal(q.headers['x-auth-email'], EMAIL);
    assert.equal(q.headers['x-auth-key'], GLOBAL_KEY);
    assert.equal(q.headers.authorization, undefined);
    assert.ok(q.status < 300, `${q.method} ${q.path} answered ${q.status}`);
  }
  assert.deepEqual(await cf.values(r.fqdn), []);
});

test('cloudflare: CLOUDFLARE_ZONE_API_TOKEN looks the zone up, the DNS token writes', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN, CLOUDFLARE_ZONE_API_TOKEN: ZONE_TOKEN });
  const r = record();
  const from = cf.requests.length;
  await p.present(r, live());
  const sent = cf.requests.slice(from);
  const zoneLookup = sent.find((q) => q.path.endsWith('/zones'));
  assert.equal(zoneLookup?.headers.authorization, `Bearer ${ZONE_TOKEN}`);
  for (const q of sent.filter((x) => x.path.includes('/dns_records'))) {
    assert.equal(q.headers.authorization, `Bearer ${DNS_TOKEN}`);
  }
  assert.deepEqual(await cf.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
});

test('cloudflare: CF_* fallbacks and <NAME>_FILE are read', async (t) => {
  const file = join(ca.dir, 'cf-token');
  await writeFile(file, `${DNS_TOKEN}\n`);
  for (const env of [{ CF_DNS_API_TOKEN: DNS_TOKEN }, { CLOUDFLARE_DNS_API_TOKEN_FILE: file }]) {
    await t.test(Object.keys(env)[0]!, async () => {
      const p = await provider(env);
      const r = record();
      await p.present(r, live());
      assert.deepEqual(await cf.values(r.fqdn), [r.value]);
      await p.cleanup(r, live());
      assert.deepEqual(await cf.values(r.fqdn), []);
    });
  }
});

test('cloudflare: a wrong token is refused at the zone lookup and never reaches a write endpoint', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: WRONG_TOKEN });
  const from = cf.requests.length;
  const err = await failure(p.present(record(), live()));
  assert.equal(err.provider, 'cloudflare');
  assert.equal(err.operation, 'present');
  assert.equal(err.status, 401);
  assert.match(err.message, /^cloudflare: present: token refused/);
  assert.match(err.message, /CLOUDFLARE_DNS_API_TOKEN/);
  assert.match(err.message, /9109/);
  const sent = cf.requests.slice(from);
  assert.ok(sent.length > 0);
  assert.deepEqual(
    sent.filter((q) => q.method !== 'GET'),
    [],
  );
});

test('cloudflare: a token without DNS edit rights names the permission and the zone', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: READ_ONLY_TOKEN });
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 403);
  assert.match(
    err.message,
    /token refused: check CLOUDFLARE_DNS_API_TOKEN has Zone:DNS:Edit for zone example\.test/,
  );
});

test('cloudflare: a refused Global API Key names CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY', async () => {
  const p = await provider({ CLOUDFLARE_EMAIL: EMAIL, CLOUDFLARE_API_KEY: WRONG_TOKEN });
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 403);
  assert.match(err.message, /CLOUDFLARE_EMAIL.*CLOUDFLARE_API_KEY/);
  assert.match(err.message, /9103/);
});

test('cloudflare: a zone the account does not hold (or the token cannot see) is reported by name', async () => {
  const missing = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const err = await failure(missing.present(record(undefined, 'nothere.test.'), live()));
  assert.match(err.message, /zone nothere\.test not found/);
  assert.match(err.message, /CLOUDFLARE_DNS_API_TOKEN/);

  const scoped = await provider({ CLOUDFLARE_DNS_API_TOKEN: OTHER_ZONE_TOKEN });
  const err2 = await failure(scoped.present(record(), live()));
  assert.match(err2.message, /zone example\.test not found.*Zone → Zone → Read/);
});

test('cloudflare: a zone removed after it was looked up is reported, and looked up again next time', async () => {
  const local = await startFakeCloudflare({ ca, zones: ['gone.test'], tokens: { [DNS_TOKEN]: {} } });
  try {
    const p = (
      await createDnsProvider('cloudflare', {
        env: { CLOUDFLARE_BASE_URL: local.baseUrl, CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN },
        caBundle: ca.rootPem,
      })
    ).provider;
    const first = record(undefined, 'gone.test.');
    await p.present(first, live());
    local.removeZone('gone.test');
    const err = await failure(p.present(record(undefined, 'gone.test.'), live()));
    assert.match(err.message, /zone gone\.test not found.*removed/);
    assert.match(err.message, /7003/);
    const again = await failure(p.present(record(undefined, 'gone.test.'), live()));
    assert.match(again.message, /zone gone\.test not found: no zone of that name/);
  } finally {
    await local.close();
  }
});

test('D10: cloudflare: 429 says when to retry, from Retry-After', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  cf.rateLimitNext(42);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 429);
  assert.match(err.message, /rate limited/);
  assert.match(err.message, /retry after 42 s \(at \d{4}-\d\d-\d\dT/);
  assert.match(err.message, /971/);
});

test('cloudflare: 429 without Retry-After points at the five-minute block', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  cf.failNext(cloudflareFailure(429, 971, 'Please wait and consider throttling your request speed'));
  const err = await failure(p.present(record(), live()));
  assert.match(err.message, /retry in 5 minutes/);
});

test('cloudflare: a 5xx from the edge (HTML, not JSON) is a DnsProviderError saying to try again', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  cf.serverErrorNext(502);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 502);
  assert.match(err.message, /Cloudflare API error .*HTTP 502.*try again/);

  // The same during cleanup, which must not claim success.
  const r = record();
  await p.present(r, live());
  cf.serverErrorNext(500);
  const err2 = await failure(p.cleanup(r, live()));
  assert.equal(err2.operation, 'cleanup');
  assert.equal(err2.status, 500);
  assert.deepEqual(await cf.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await cf.values(r.fqdn), []);
});

test('cloudflare: "identical record already exists" after our lookup (a concurrent run) counts as success', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const r = record();
  cf.failNext(
    cloudflareFailure(400, 81058, 'An identical record already exists.'),
    1,
    (q) => q.method === 'POST',
  );
  await p.present(r, live());
  assert.deepEqual(await cf.values(r.fqdn), []);
});

test('cloudflare: a value written unquoted by another client is found, kept single, and removed', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const r = record();
  cf.addRecord(r.fqdn, r.value);
  await p.present(r, live());
  assert.deepEqual(cf.contents(r.fqdn), [r.value]);
  await (await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN })).cleanup(r, live());
  assert.deepEqual(await cf.values(r.fqdn), []);
});

test('cloudflare: with three values at one name (three pages), cleanup removes exactly the one asked', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const host = `paged${++n}`;
  const [a, b, c] = [record(host), record(host), record(host)];
  for (const r of [a, b, c]) await p.present(r, live());
  await p.present(c, live());
  assert.deepEqual((await cf.values(a.fqdn)).sort(), [a.value, b.value, c.value].sort());
  const fresh = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  await fresh.cleanup(c, live());
  assert.deepEqual((await cf.values(a.fqdn)).sort(), [a.value, b.value].sort());
  await fresh.cleanup(a, live());
  assert.deepEqual(await cf.values(a.fqdn), [b.value]);
  await fresh.cleanup(b, live());
});

test('cloudflare: findZone names the enclosing zone the account holds', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  assert.ok(isZoneFinder(p));
  assert.equal(await p.findZone('_acme-challenge.a.b.example.test.', live()), 'example.test.');
  assert.equal(await p.findZone('_acme-challenge.other.test', live()), 'other.test.');
  const err = await failure(p.findZone('_acme-challenge.nothere.test.', live()));
  assert.equal(err.operation, 'findZone');
  assert.match(err.message, /no zone enclosing _acme-challenge\.nothere\.test/);
});

test('cloudflare: missing or half credentials fail before any request, naming the variable and not its value', async () => {
  const before = cf.requests.length;
  const cases: [EnvSource, RegExp, string][] = [
    [{}, /CLOUDFLARE_DNS_API_TOKEN \(or CF_DNS_API_TOKEN\) is not set/, 'CLOUDFLARE_DNS_API_TOKEN'],
    [{ CLOUDFLARE_EMAIL: EMAIL }, /CLOUDFLARE_API_KEY \(or CF_API_KEY\) is not set/, 'CLOUDFLARE_API_KEY'],
    [
      { CLOUDFLARE_API_KEY: GLOBAL_KEY },
      /CLOUDFLARE_EMAIL \(or CF_API_EMAIL\) is not set/,
      'CLOUDFLARE_EMAIL',
    ],
    [{ CLOUDFLARE_ZONE_API_TOKEN: ZONE_TOKEN }, /CLOUDFLARE_DNS_API_TOKEN/, 'CLOUDFLARE_DNS_API_TOKEN'],
  ];
  for (const [env, message, field] of cases) {
    const err = await createDnsProvider('cloudflare', { env, caBundle: ca.rootPem }).then(
      () => assert.fail('configured without credentials'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, message);
    assert.equal(err.value, field);
    assertNoSecret(err);
  }
  await assert.rejects(
    createDnsProvider('cloudflare', {
      env: { CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN, CLOUDFLARE_BASE_URL: 'ftp://x' },
    }),
    (e: unknown) =>
      e instanceof InvalidInputError && /CLOUDFLARE_BASE_URL must be an http\(s\) URL/.test(e.message),
  );
  assert.equal(cf.requests.length, before);
});

test('cloudflare: cleanup of a record someone else already deleted (81044) does not throw', async () => {
  const p = await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN });
  const r = record();
  await p.present(r, live());
  await (await provider({ CLOUDFLARE_DNS_API_TOKEN: DNS_TOKEN })).cleanup(r, live());
  const from = cf.requests.length;
  await p.cleanup(r, live());
  assert.deepEqual(
    cf.requests.slice(from).map((q) => [q.method, q.status]),
    [['DELETE', 404]],
  );
});
