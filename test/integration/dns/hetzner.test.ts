import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeHetzner, startFakeHetzner } from '../../support/fake-cloud/hetzner.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Hetzner Cloud DNS provider on the REST layer, against a fake of the Cloud API's Zone RRSets.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('hetzner-good');
const READ_ONLY = secret('hetzner-read');
const WRONG = secret('hetzner-wrong');
const CANARIES = [TOKEN, READ_ONLY, WRONG];

let ca: TestCa;
let fake: FakeHetzner;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeHetzner({
    ca,
    zones: ['example.test', 'other.test', { name: 'secondary.test', mode: 'secondary' }],
    tokens: { [TOKEN]: {}, [READ_ONLY]: { write: false } },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource, code = 'hetzner'): Promise<DnsProvider> {
  const loaded = await createDnsProvider(code, {
    env: { HETZNER_API_URL: fake.apiUrl, ...env },
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
  name: 'hetzner (fake Cloud API)',
  zone: ZONE,
  create: () => provider({ HETZNER_API_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ HETZNER_API_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('hetzner: Bearer token, the zone by name, add_records with a quoted value and the TTL, the action followed', async () => {
  const p = await provider({ HETZNER_API_TOKEN: TOKEN });
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}`),
    [
      'GET /v1/zones/example.test',
      'GET /v1/zones/1000/rrsets/_acme-challenge.shape/TXT',
      'POST /v1/zones/1000/rrsets/_acme-challenge.shape/TXT/actions/add_records',
      `GET /v1/actions/${/\d+$/.exec(sent[3]?.path ?? '')?.[0]}`,
    ],
  );
  assert.deepEqual(JSON.parse(sent[2]!.body), { ttl: 60, records: [{ value: `"${r.value}"` }] });
  assert.equal(fake.ttl(r.fqdn), 60);
  const cleanupFrom = fake.requests.length;
  await p.cleanup(r, live());
  const removal = fake.requests.slice(cleanupFrom).find((q) => q.path.endsWith('/remove_records'));
  assert.deepEqual(JSON.parse(removal!.body), { records: [{ value: `"${r.value}"` }] });
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('hetzner: the apex is "@"; hetznerv1 is the same provider; a short TTL is raised to 60', async () => {
  const p = await provider({ HETZNER_API_TOKEN: TOKEN, HETZNER_TTL: '30' }, 'hetznerv1');
  const apex = { ...record(null), ttl: 30 };
  const from = fake.requests.length;
  await p.present(apex, live());
  assert.ok(
    fake.requests.slice(from).some((q) => q.path === '/v1/zones/1000/rrsets/@/TXT/actions/add_records'),
  );
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  assert.equal(fake.ttl(ZONE), 60);
  await (await provider({ HETZNER_API_TOKEN: TOKEN })).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('hetzner: a value removed by someone else meanwhile is not an error at cleanup', async () => {
  const p = await provider({ HETZNER_API_TOKEN: TOKEN });
  const a = record('gone');
  const b = { ...record('gone'), fqdn: a.fqdn, name: a.name };
  await p.present(a, live());
  await p.present(b, live());
  await (await provider({ HETZNER_API_TOKEN: TOKEN })).cleanup(a, live());
  await p.cleanup(a, live());
  assert.deepEqual(await fake.values(a.fqdn), [b.value]);
  await p.cleanup(b, live());
});

test('hetzner: refused and read-only tokens, unknown and secondary zones, a failed action', async () => {
  const wrong = await failure((await provider({ HETZNER_API_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*unauthorized: unable to authenticate.*HETZNER_API_TOKEN/,
  );
  const readOnly = await failure(
    (await provider({ HETZNER_API_TOKEN: READ_ONLY })).present(record(), live()),
  );
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.message, /token_readonly/);
  const good = await provider({ HETZNER_API_TOKEN: TOKEN });
  const missing = await failure(good.present(record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /zone nothere\.test is not in the Hetzner Cloud project of HETZNER_API_TOKEN/,
  );
  const secondary = await failure(good.present(record('x', 'secondary.test.'), live()));
  assert.match(secondary.message, /secondary zone/);
  fake.failNextAction('zone is locked');
  const failed = await failure(good.present(record('failed'), live()));
  assert.match(failed.message, /action to add the TXT value .* failed: action_failed: zone is locked/);
});

test('hetzner: HETZNER_API_KEY alone (the old DNS Console API) is refused with what to do', async () => {
  await assert.rejects(
    provider({ HETZNER_API_KEY: secret('legacy') }),
    (err: unknown) =>
      err instanceof InvalidInputError &&
      /old Hetzner DNS Console API.*set HETZNER_API_TOKEN/.test(err.message),
  );
  await assert.rejects(provider({}), (err: unknown) => err instanceof InvalidInputError);
});

test('hetzner: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({ HETZNER_API_TOKEN: TOKEN });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { error: { code: 'rate_limit_exceeded', message: 'limit of 3600 requests per hour reached' } },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: { code: 'unavailable', message: 'try again later' } } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /Hetzner Cloud API error while trying to .*try again in a few minutes/);
});
