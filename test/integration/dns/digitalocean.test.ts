import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeDigitalOcean, startFakeDigitalOcean } from '../../support/fake-cloud/digitalocean.ts';
import { freePort } from '../../support/free-port.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('dop_v1_good');
const READ_ONLY = secret('dop_v1_read');
const WRONG = secret('dop_v1_wrong');
const CANARIES = [TOKEN, READ_ONLY, WRONG];

let ca: TestCa;
let fake: FakeDigitalOcean;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeDigitalOcean({
    ca,
    domains: ['example.test'],
    tokens: { [TOKEN]: {}, [READ_ONLY]: { write: false } },
    // Pages of two records: a name with three values needs paging.
    maxPerPage: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource, opts: { trustTestCa?: boolean } = {}): Promise<DnsProvider> {
  const loaded = await createDnsProvider('digitalocean', {
    env: { DO_API_URL: fake.apiUrl, ...env },
    ...(opts.trustTestCa === false ? {} : { caBundle: ca.rootPem }),
    logger,
  });
  return loaded.provider;
}

let n = 0;
/** `host` null: the zone apex. */
function record(host: string | null = `t${++n}`, zone = ZONE, ttl = 60): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return { fqdn, zone, name: relativeName(fqdn, zone), value: randomBytes(32).toString('base64url'), ttl };
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
  const texts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    texts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e) ?? '');
  }
  for (const c of CANARIES) assert.ok(!texts.join('\n').includes(c), 'a secret appears in the error');
}

dnsProviderContract({
  name: 'digitalocean (fake API)',
  zone: ZONE,
  create: () => provider({ DO_AUTH_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ DO_AUTH_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('digitalocean: sends the Bearer token, a relative name and at least 30 s TTL; logs hold no secret', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  const r = record(null, ZONE, 5);
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  const post = sent.find((q) => q.method === 'POST');
  assert.ok(post);
  assert.equal(post.path, '/v2/domains/example.test/records');
  assert.deepEqual(JSON.parse(post.body), { type: 'TXT', name: '@', data: r.value, ttl: 30 });
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(await fake.values(ZONE), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(ZONE), []);

  const sub = record();
  await p.present(sub, live());
  assert.equal(JSON.parse(fake.requests.findLast((q) => q.method === 'POST')!.body).name, sub.name);
  await p.cleanup(sub, live());
  assert.match(logLines.join('\n'), /digitalocean: API call/);
  for (const c of CANARIES) assert.ok(!logLines.join('\n').includes(c));
});

test('digitalocean: DO_AUTH_TOKEN_FILE is read', async () => {
  const file = join(ca.dir, 'do-token');
  await writeFile(file, `${TOKEN}\n`);
  const p = await provider({ DO_AUTH_TOKEN_FILE: file });
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('digitalocean: a wrong token gives an actionable error and never reaches a write endpoint', async () => {
  const p = await provider({ DO_AUTH_TOKEN: WRONG });
  const from = fake.requests.length;
  const err = await failure(p.present(record(), live()));
  assert.equal(err.provider, 'digitalocean');
  assert.equal(err.status, 401);
  assert.match(
    err.message,
    /^digitalocean: present: token refused .*Unable to authenticate you.*check DO_AUTH_TOKEN/,
  );
  const sent = fake.requests.slice(from);
  assert.ok(sent.length > 0);
  assert.deepEqual(
    sent.filter((q) => q.method !== 'GET'),
    [],
  );
  const err2 = await failure(p.cleanup(record(), live()));
  assert.equal(err2.operation, 'cleanup');
  assert.equal(err2.status, 401);
});

test('digitalocean: a read-only token names the scopes it needs', async () => {
  const p = await provider({ DO_AUTH_TOKEN: READ_ONLY });
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 403);
  assert.match(err.message, /DO_AUTH_TOKEN has the Write scope .*domain:create.* for domain example\.test/);
});

test('digitalocean: a domain not in the account is reported by name', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  const err = await failure(p.present(record(undefined, 'nothere.test.'), live()));
  assert.equal(err.status, 404);
  assert.match(err.message, /domain nothere\.test not found .*not_found.*Networking → Domains/);
});

test('D10: digitalocean: 429 says when to retry, from Retry-After or else RateLimit-Reset', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  fake.rateLimitNext({ retryAfterSeconds: 17 });
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 429);
  assert.match(err.message, /rate limited .*too_many_requests: API Rate limit exceeded.*retry after 17 s/);

  const resetAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 600_000);
  fake.rateLimitNext({ resetAt });
  const err2 = await failure(p.present(record(), live()));
  assert.ok(err2.message.includes(`(at ${resetAt.toISOString()})`), err2.message);
});

test('digitalocean: 500 is a DnsProviderError saying to try again, and cleanup does not claim success', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  fake.serverErrorNext();
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(err.message, /DigitalOcean API error .*server_error: Unexpected server-side error.*try again/);

  const r = record();
  await p.present(r, live());
  fake.serverErrorNext(1);
  await failure(p.cleanup(r, live()));
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('digitalocean: with three values at one name (two pages), presenting again and cleanup stay exact', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  const host = `paged${++n}`;
  const [a, b, c] = [record(host), record(host), record(host)];
  for (const r of [a, b, c]) await p.present(r, live());
  // A fresh instance must find c on the second page instead of adding a duplicate.
  const fresh = await provider({ DO_AUTH_TOKEN: TOKEN });
  await fresh.present(c, live());
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value, c.value].sort());
  await fresh.cleanup(c, live());
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value].sort());
  await fresh.cleanup(a, live());
  await fresh.cleanup(b, live());
  assert.deepEqual(await fake.values(a.fqdn), []);
});

test('digitalocean: TLS is verified (no CA bundle → untrusted), and an unreachable API is a DnsProviderError', async () => {
  const untrusting = await provider({ DO_AUTH_TOKEN: TOKEN }, { trustTestCa: false });
  const from = fake.requests.length;
  const err = await failure(untrusting.present(record(), live()));
  assert.match(err.message, /did not answer: .*not trusted/);
  assert.equal(fake.requests.length, from, 'no request (and so no token) got through');

  const port = await freePort();
  const closed = await provider({ DO_AUTH_TOKEN: TOKEN, DO_API_URL: `https://127.0.0.1:${port}` });
  const err2 = await failure(closed.present(record(), live()));
  assert.match(err2.message, /the DigitalOcean API did not answer: .*ECONNREFUSED.*DO_API_URL/);
});

test('digitalocean: a missing token fails before any request, naming DO_AUTH_TOKEN', async () => {
  const before = fake.requests.length;
  for (const env of [{}, { DO_AUTH_TOKEN: '  ' }]) {
    const err = await createDnsProvider('digitalocean', { env, caBundle: ca.rootPem }).then(
      () => assert.fail('configured without a token'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, /^digitalocean: DO_AUTH_TOKEN is not set/);
    assert.equal(err.value, 'DO_AUTH_TOKEN');
  }
  const bad = await createDnsProvider('digitalocean', {
    env: { DO_AUTH_TOKEN: TOKEN, DO_API_URL: `https://user:${TOKEN}@127.0.0.1/` },
  }).then(
    () => assert.fail('accepted a URL with a password'),
    (e: unknown) => e,
  );
  assert.ok(bad instanceof InvalidInputError);
  assertNoSecret(bad);
  assert.equal(fake.requests.length, before);
});

test('digitalocean: cleanup of a record someone else already deleted (404) does not throw', async () => {
  const p = await provider({ DO_AUTH_TOKEN: TOKEN });
  const r = record();
  await p.present(r, live());
  await (await provider({ DO_AUTH_TOKEN: TOKEN })).cleanup(r, live());
  const from = fake.requests.length;
  await p.cleanup(r, live());
  assert.deepEqual(
    fake.requests.slice(from).map((q) => [q.method, q.status]),
    [['DELETE', 404]],
  );
});
