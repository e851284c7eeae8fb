import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeDesec, startFakeDesec } from '../../support/fake-cloud/desec.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The deSEC provider on the REST layer (src/dns/rest-provider.ts, RRsets read and written back), against
// a fake of the deSEC DNS API.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const TOKEN = secret('desec-good');
const WRONG = secret('desec-wrong');
const CANARIES = [TOKEN, WRONG];

let ca: TestCa;
let fake: FakeDesec;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeDesec({
    ca,
    domains: { 'example.test': {}, 'low.test': { minimumTtl: 60 } },
    tokens: [TOKEN],
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('desec', {
    env: { DESEC_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    // Retries of 429/5xx without real waiting.
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE, ttl = 3600): TxtRecord {
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
  const text = `${String(err)}\n${JSON.stringify(err)}\n${(err as Error).stack}`;
  for (const c of CANARIES) assert.ok(!text.includes(c), 'a secret appears in the error');
  return err;
}

dnsProviderContract({
  name: 'desec (fake API)',
  zone: ZONE,
  create: () => provider({ DESEC_TOKEN: TOKEN }),
  createWithBadCredentials: () => provider({ DESEC_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('desec: Token header; the RRset created, extended by PATCH, shrunk, then deleted; the apex as "@"', async () => {
  const p = await provider({ DESEC_TOKEN: TOKEN });
  const a = record(null);
  const b = { ...record(null), fqdn: a.fqdn };
  const from = fake.requests.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `Token ${TOKEN}`);
  const post = sent.find((q) => q.method === 'POST');
  assert.equal(post?.path, '/api/v1/domains/example.test/rrsets/');
  assert.deepEqual(JSON.parse(post!.body), {
    subname: '',
    type: 'TXT',
    ttl: 3600,
    records: [`"${a.value}"`],
  });
  const patch = sent.find((q) => q.method === 'PATCH');
  assert.equal(patch?.path, '/api/v1/domains/example.test/rrsets/@/TXT/');
  assert.deepEqual(JSON.parse(patch!.body), { records: [`"${a.value}"`, `"${b.value}"`] });
  assert.deepEqual((await fake.values(ZONE)).sort(), [a.value, b.value].sort());

  const fresh = await provider({ DESEC_TOKEN: TOKEN });
  await fresh.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  const last = fake.requests.length;
  await fresh.cleanup(b, live());
  assert.deepEqual(JSON.parse(fake.requests.slice(last).find((q) => q.method === 'PATCH')!.body), {
    records: [],
  });
  assert.equal(fake.ttl(ZONE), undefined, 'the empty RRset is deleted');
});

test('desec: two values presented at once at one name both survive (one writer per name)', async () => {
  const p = await provider({ DESEC_TOKEN: TOKEN });
  const a = record('both');
  const b = { ...record('both'), fqdn: a.fqdn };
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value].sort());
  await Promise.all([p.cleanup(a, live()), p.cleanup(b, live())]);
  assert.deepEqual(await fake.values(a.fqdn), []);
});

test("desec: a TTL below the domain's minimum_ttl is raised to it; a lower minimum is kept", async () => {
  const p = await provider({ DESEC_TOKEN: TOKEN });
  const short = record('short', ZONE, 60);
  await p.present(short, live());
  assert.equal(fake.ttl(short.fqdn), 3600);
  await p.cleanup(short, live());
  const low = record('low', 'low.test.', 60);
  await p.present(low, live());
  assert.equal(fake.ttl(low.fqdn), 60);
  await p.cleanup(low, live());
});

test('desec: a refused token and a domain not in the account give actionable errors without secrets', async () => {
  const wrong = await failure((await provider({ DESEC_TOKEN: WRONG })).present(record(), live()));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^desec: present: credentials refused .*Invalid token.*check DESEC_TOKEN/);
  const missing = await failure(
    (await provider({ DESEC_TOKEN: TOKEN })).present(record('x', 'nothere.test.'), live()),
  );
  assert.match(missing.message, /domain nothere\.test is not in the deSEC account of DESEC_TOKEN/);
});

test('desec: 429 and 5xx are retried (Retry-After honoured), then reported with what to do', async () => {
  const p = await provider({ DESEC_TOKEN: TOKEN });
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { detail: 'Request was throttled. Expected available in 1 second.' },
    },
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 429s');
  await p.cleanup(r, live());
  fake.failNext({ status: 500, json: { detail: 'Internal server error' } }, 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /deSEC API error while trying to .*Internal server error.*try again in a few minutes/,
  );
});
