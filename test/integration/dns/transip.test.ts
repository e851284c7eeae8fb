import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeTransip, startFakeTransip } from '../../support/fake-cloud/transip.ts';
import { live, type RestDnsHarness, restDnsHarness } from '../../support/rest-dns-harness.ts';

// The TransIP provider: a token from a request signed with the account's RSA key, then the DNS entries
// of a domain, against a fake that verifies the signature with the public key.

const ZONE = 'example.test.';
const ACCOUNT = 'acmekit';
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof pair.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
// Lines from the middle of both private keys: never in an error or a log.
const CANARIES = [pem(pair.privateKey).split('\n')[5]!, pem(other.privateKey).split('\n')[5]!];

let h: RestDnsHarness;
let fake: FakeTransip;
let keyPath: string;
let wrongKeyPath: string;
const good = () => ({ TRANSIP_ACCOUNT_NAME: ACCOUNT, TRANSIP_PRIVATE_KEY_PATH: keyPath });
before(async () => {
  h = await restDnsHarness({
    code: 'transip',
    zone: ZONE,
    baseEnv: () => ({ TRANSIP_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  keyPath = join(h.ca.dir, 'transip.key');
  wrongKeyPath = join(h.ca.dir, 'other.key');
  await writeFile(keyPath, pem(pair.privateKey));
  await writeFile(wrongKeyPath, pem(other.privateKey));
  fake = await startFakeTransip({
    ca: h.ca,
    accounts: { [ACCOUNT]: { publicKey: pair.publicKey, domains: ['example.test'] } },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'transip (fake API)',
  zone: ZONE,
  create: () => h.provider(good()),
  createWithBadCredentials: () => h.provider({ ...good(), TRANSIP_PRIVATE_KEY_PATH: wrongKeyPath }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('transip: one signed token request, Bearer calls, entries by relative name, DELETE of the exact entry', async () => {
  const p = await h.provider(good());
  const a = h.record('shape');
  const b = { ...h.record('shape'), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  const issued = fake.tokensIssued();
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.equal(fake.tokensIssued() - issued, 1);
  const sent = fake.requests.slice(from);
  const auth = sent[0]!;
  assert.equal(`${auth.method} ${auth.path} ${auth.status}`, 'POST /v6/auth 201');
  const body = JSON.parse(auth.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), [
    'login',
    'nonce',
    'read_only',
    'expiration_time',
    'label',
    'global_key',
  ]);
  assert.equal(body.login, ACCOUNT);
  assert.equal(body.read_only, false);
  assert.equal(body.expiration_time, '30 minutes');
  assert.equal(body.global_key, true);
  assert.match(String(auth.headers.signature), /^[A-Za-z0-9+/]+=*$/);
  for (const q of sent.slice(1))
    assert.match(String(q.headers.authorization), /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const post = sent.find((q) => q.method === 'POST' && q.path !== '/v6/auth')!;
  assert.equal(post.path, '/v6/domains/example.test/dns');
  assert.deepEqual(JSON.parse(post.body), {
    dnsEntry: { name: a.name, expire: 60, type: 'TXT', content: a.value },
  });
  assert.deepEqual((await fake.values(a.fqdn)).sort(), [a.value, b.value].sort());
  const fresh = await h.provider(good());
  await fresh.cleanup(a, live());
  const del = fake.requests.at(-1)!;
  assert.equal(`${del.method} ${del.path} ${del.status}`, 'DELETE /v6/domains/example.test/dns 204');
  assert.deepEqual(JSON.parse(del.body), {
    dnsEntry: { name: a.name, expire: 60, type: 'TXT', content: a.value },
  });
  assert.deepEqual(await fake.values(a.fqdn), [b.value]);
  await p.cleanup(b, live());
  const apex = h.record(null);
  await p.present(apex, live());
  assert.equal((JSON.parse(fake.requests.at(-1)!.body) as { dnsEntry: { name: string } }).dnsEntry.name, '@');
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await p.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('transip: a token near its end is replaced by a new signed request', async () => {
  let skew = 0;
  const loaded = await createDnsProvider('transip', {
    env: { ...good(), TRANSIP_API_URL: fake.apiUrl },
    caBundle: h.ca.rootPem,
    clock: { now: () => Date.now() + skew, sleep: async () => {} },
  });
  const issued = fake.tokensIssued();
  const r = h.record();
  await loaded.provider.present(r, live());
  skew = 30 * 60_000;
  fake.expireTokens();
  await loaded.provider.cleanup(r, live());
  assert.equal(fake.tokensIssued() - issued, 2);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('transip: another key, an unreadable or non-RSA key file and a foreign domain give actionable errors', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good(), TRANSIP_PRIVATE_KEY_PATH: wrongKeyPath })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /^transip: present: credentials refused .*Signature is invalid.*TRANSIP_PRIVATE_KEY_PATH/,
  );
  await assert.rejects(
    h.provider({ ...good(), TRANSIP_PRIVATE_KEY_PATH: join(h.ca.dir, 'missing.key') }),
    (e: unknown) =>
      e instanceof InvalidInputError && /missing\.key, which cannot be read \(ENOENT\)/.test(e.message),
  );
  const ecPath = join(h.ca.dir, 'ec.key');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(ecPath, ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await assert.rejects(
    h.provider({ ...good(), TRANSIP_PRIVATE_KEY_PATH: ecPath }),
    (e: unknown) =>
      e instanceof InvalidInputError && /holds a ec key; TransIP key pairs are RSA/.test(e.message),
  );
  const junkPath = join(h.ca.dir, 'junk.key');
  await writeFile(junkPath, 'not a key');
  await assert.rejects(
    h.provider({ ...good(), TRANSIP_PRIVATE_KEY_PATH: junkPath }),
    (e: unknown) => e instanceof InvalidInputError && /holds no readable private key/.test(e.message),
  );
  const outside = await h.failure((await h.provider(good())).present(h.record('x', 'other.test.'), live()));
  assert.equal(outside.status, 404);
  assert.match(outside.message, /Domain with name 'other\.test' not found/);
});

test('transip: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good());
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: 'Rate limit exceeded' } },
    2,
    (q) => q.path.endsWith('/dns'),
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, json: { error: 'Maintenance' } }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /TransIP API error .*Maintenance.*try again in a few minutes/);
});
