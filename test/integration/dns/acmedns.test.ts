import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider, TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { canary, failure, instantClock, keptLogs, live } from '../../support/dns-rest-harness.ts';
import {
  type FakeAccountStorage,
  type FakeAcmeDns,
  startFakeAccountStorage,
  startFakeAcmeDns,
} from '../../support/fake-cloud/acmedns.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The acme-dns provider against a fake of joohoi's acme-dns API, with accounts in lego's JSON file or on a
// fake of lego's HTTP account storage.

const ZONE = 'example.test.';
const PASSWORDS = canary('acmednsPw').slice(0, 24);
const WRONG = `wrong${randomBytes(30).toString('base64url')}`.slice(0, 40);
const CANARIES = [PASSWORDS, WRONG];

let ca: TestCa;
let acmeDns: FakeAcmeDns;
let storage: FakeAccountStorage;
let askUser: FakeAccountStorage;
let liar: FakeAccountStorage;
let dir: string;
const logs = keptLogs();

before(async () => {
  ca = await createTestCa();
  acmeDns = await startFakeAcmeDns({ ca, passwordPrefix: PASSWORDS });
  storage = await startFakeAccountStorage({ ca, putStatus: 201 });
  askUser = await startFakeAccountStorage({ ca, putStatus: 200 });
  // Hands out, for any domain, an account the acme-dns server does not know.
  liar = await startFakeAccountStorage({
    ca,
    answer: () => ({
      fulldomain: `${randomUUID()}.auth.acme-dns.test`,
      subdomain: randomUUID(),
      username: randomUUID(),
      password: WRONG,
      server_url: acmeDns.apiBase,
    }),
  });
  dir = await mkdtemp(join(tmpdir(), 'acmekit-acmedns-'));
});
after(async () => {
  for (const s of [acmeDns, storage, askUser, liar]) await s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('acmedns', {
    env: { ACME_DNS_API_BASE: acmeDns.apiBase, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

/** What acme-dns serves for a domain's challenge name, through the account stored for the domain. */
function servedFor(fqdn: string, accounts: ReadonlyMap<string, unknown> = storage.accounts): string[] {
  const domain = fqdn.replace(/^_acme-challenge\./, '').replace(/\.$/, '');
  const account = accounts.get(domain) as { subdomain: string } | undefined;
  return account ? acmeDns.values(account.subdomain) : [];
}

let n = 0;
function record(domain = `d${++n}${randomBytes(2).toString('hex')}.${ZONE}`, wildcard = false): TxtRecord {
  const fqdn = `_acme-challenge.${domain}`;
  return {
    fqdn,
    zone: domain,
    name: '_acme-challenge',
    value: randomBytes(32).toString('base64url'),
    ttl: 120,
    acme: { domain, token: `tok${n}`, keyAuthorization: `tok${n}.${wildcard ? 'w' : 'x'}` },
  };
}

dnsProviderContract({
  name: 'acmedns (fake acme-dns, HTTP storage)',
  zone: ZONE,
  create: () => provider({ ACME_DNS_STORAGE_BASE_URL: storage.baseUrl }),
  createWithBadCredentials: () => provider({ ACME_DNS_STORAGE_BASE_URL: liar.baseUrl }),
  values: async (fqdn) => servedFor(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
  cleanupLeavesValues: true,
});

test('acmedns: the first run registers, saves the account as lego does (0600) and prints the CNAME once', async () => {
  const path = join(dir, 'accounts.json');
  // A file lego wrote for another domain: kept as it is.
  const other = {
    fulldomain: 'aaaa.auth.acme-dns.test',
    subdomain: 'aaaa',
    username: randomUUID(),
    password: 'p'.repeat(40),
    server_url: 'https://auth.acme-dns.test',
  };
  await writeFile(path, JSON.stringify({ 'other.test': other }), { mode: 0o600 });
  const r = record('www.example.test.');
  const from = logs.text().length;
  const err = await failure((await provider({ ACME_DNS_STORAGE_PATH: path })).present(r, live()), CANARIES);
  const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, string>>;
  assert.deepEqual(saved['other.test'], other);
  const account = saved['www.example.test']!;
  assert.deepEqual(Object.keys(account).sort(), [
    'fulldomain',
    'password',
    'server_url',
    'subdomain',
    'username',
  ]);
  assert.equal(account.fulldomain, `${account.subdomain}.auth.acme-dns.test`);
  assert.equal(account.server_url, acmeDns.apiBase);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.match(
    err.message,
    new RegExp(
      `^acmedns: present: registered a new acme-dns account for www\\.example\\.test .*ACME_DNS_STORAGE_PATH.*\\n` +
        `  _acme-challenge\\.www\\.example\\.test\\. CNAME ${account.fulldomain!.replaceAll('.', '\\.')}\\.$`,
    ),
  );
  assert.ok(logs.text().slice(from).includes(`CNAME ${account.fulldomain}.`), 'the CNAME line is logged');
  // The register request: no body without ACME_DNS_ALLOWLIST; nothing updated yet.
  const register = acmeDns.requests.filter((q) => q.path === '/register').at(-1)!;
  assert.equal(register.body, '');
  assert.deepEqual(acmeDns.values(account.subdomain!), []);

  // The next run (another instance) uses the saved account: no second registration, no CNAME message.
  const registrations = acmeDns.requests.filter((q) => q.path === '/register').length;
  const again = await provider({ ACME_DNS_STORAGE_PATH: path });
  await again.present(r, live());
  assert.equal(acmeDns.requests.filter((q) => q.path === '/register').length, registrations);
  const update = acmeDns.requests.at(-1)!;
  assert.equal(update.path, '/update');
  assert.equal(update.headers['x-api-user'], account.username);
  assert.equal(update.headers['x-api-key'], account.password);
  assert.equal(update.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(update.body), { subdomain: account.subdomain, txt: r.value });
  assert.deepEqual(acmeDns.values(account.fulldomain!), [r.value]);
  await again.cleanup(r, live());
});

test('acmedns: example.com and *.example.com share the account; a third value pushes the oldest out', async () => {
  const path = join(dir, 'shared.json');
  const domain = 'shared.example.test.';
  const first = await provider({ ACME_DNS_STORAGE_PATH: path });
  // Both names at once: one registration, one CNAME message.
  const before = acmeDns.requests.filter((q) => q.path === '/register').length;
  const results = await Promise.allSettled([
    first.present(record(domain), live()),
    first.present(record(domain, true), live()),
  ]);
  assert.equal(acmeDns.requests.filter((q) => q.path === '/register').length, before + 1);
  assert.ok(results.some((s) => s.status === 'rejected'));
  const p = await provider({ ACME_DNS_STORAGE_PATH: path });
  const apex = record(domain);
  const wildcard = { ...record(domain, true), fqdn: apex.fqdn };
  await Promise.all([p.present(apex, live()), p.present(wildcard, live())]);
  const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, { subdomain: string }>;
  const sub = saved['shared.example.test']!.subdomain;
  assert.deepEqual(acmeDns.values(sub).sort(), [apex.value, wildcard.value].sort());
  const third = record(domain);
  await p.present(third, live());
  assert.deepEqual(acmeDns.values(sub).sort(), [wildcard.value, third.value].sort());
});

test('acmedns: a name that already followed the CNAME finds its account by the full domain', async () => {
  const path = join(dir, 'followed.json');
  await (await provider({ ACME_DNS_STORAGE_PATH: path }))
    .present(record('f.example.test.'), live())
    .catch(() => {});
  const saved = JSON.parse(await readFile(path, 'utf8')) as Record<
    string,
    { fulldomain: string; subdomain: string }
  >;
  const account = saved['f.example.test']!;
  const followed: TxtRecord = {
    fqdn: `${account.fulldomain}.`,
    zone: 'auth.acme-dns.test.',
    name: account.subdomain,
    value: randomBytes(32).toString('base64url'),
    ttl: 120,
  };
  await (await provider({ ACME_DNS_STORAGE_PATH: path })).present(followed, live());
  assert.deepEqual(acmeDns.values(account.subdomain), [followed.value]);
});

test('acmedns: ACME_DNS_ALLOWLIST goes into the registration; an update from outside it is refused', async () => {
  const path = join(dir, 'allow.json');
  const r = record('allow.example.test.');
  await (await provider({ ACME_DNS_STORAGE_PATH: path, ACME_DNS_ALLOWLIST: '192.0.2.0/24, 2001:db8::/32' }))
    .present(r, live())
    .catch(() => {});
  const register = acmeDns.requests.filter((q) => q.path === '/register').at(-1)!;
  assert.deepEqual(JSON.parse(register.body), { allowfrom: ['192.0.2.0/24', '2001:db8::/32'] });
  const refused = await failure(
    (await provider({ ACME_DNS_STORAGE_PATH: path })).present(r, live()),
    CANARIES,
  );
  assert.equal(refused.status, 401);
  assert.match(
    refused.message,
    /credentials refused .*HTTP 401, forbidden.*ACME_DNS_ALLOWLIST.*remove its entry to register a new account/,
  );
});

test('acmedns: a storage server answering 200 to a new account means the user creates the CNAME', async () => {
  const r = record('ask.example.test.');
  const err = await failure(
    (await provider({ ACME_DNS_STORAGE_BASE_URL: askUser.baseUrl })).present(r, live()),
    CANARIES,
  );
  assert.match(err.message, /saved it in the storage server at ACME_DNS_STORAGE_BASE_URL.*CNAME/s);
  const account = askUser.accounts.get('ask.example.test') as { password: string };
  assert.match(account.password, new RegExp(`^${PASSWORDS}`));
  // Saved: the next run updates.
  await (await provider({ ACME_DNS_STORAGE_BASE_URL: askUser.baseUrl })).present(r, live());
  assert.deepEqual(servedFor(r.fqdn, askUser.accounts), [r.value]);
});

test('acmedns: 5xx answers are retried, then reported with what to do', async () => {
  const p = await provider({ ACME_DNS_STORAGE_BASE_URL: storage.baseUrl });
  const r = record();
  acmeDns.failNext({ status: 503, json: { error: 'db_error' } }, 2, (q) => q.path === '/update');
  await p.present(r, live());
  assert.deepEqual(servedFor(r.fqdn), [r.value], 'succeeded after two 503s');
  acmeDns.failNext({ status: 500, json: { error: 'db_error' } }, 4, (q) => q.path === '/update');
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /could not update the TXT value of .*HTTP 500, db_error.*try again in a few minutes/,
  );
});

test('acmedns: one storage is required, not two; the allow list must be CIDR networks; acme-dns is an alias', async () => {
  const refuses = async (env: EnvSource, pattern: RegExp) =>
    assert.rejects(
      createDnsProvider('acmedns', { env: { ACME_DNS_API_BASE: 'https://a.test', ...env } }),
      (e: unknown) => e instanceof InvalidInputError && pattern.test(e.message),
    );
  await refuses({}, /set ACME_DNS_STORAGE_PATH .* or ACME_DNS_STORAGE_BASE_URL/);
  await refuses(
    { ACME_DNS_STORAGE_PATH: '/x.json', ACME_DNS_STORAGE_BASE_URL: 'https://s.test' },
    /cannot be used together/,
  );
  await refuses({ ACME_DNS_STORAGE_PATH: '/x.json', ACME_DNS_ALLOWLIST: '10.0.0.1' }, /CIDR notation/);
  const alias = await createDnsProvider('acme-dns', {
    env: { ACME_DNS_API_BASE: 'https://a.test', ACME_DNS_STORAGE_PATH: '/x.json' },
  });
  assert.equal(alias.code, 'acmedns');
  assert.equal(alias.provider.zoneless, true);
});
