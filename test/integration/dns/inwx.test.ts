import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeInwx, startFakeInwx } from '../../support/fake-cloud/inwx.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The INWX provider: the DomRobot JSON-RPC API in a cookie session, with the TOTP unlock of accounts that
// use two-factor authentication, against a fake DomRobot.

const ZONE = 'example.test.';
const PASSWORD = secret('inwx-password');
const WRONG = secret('inwx-wrong');
// A base32 secret (20 random bytes' worth) for the two-factor accounts.
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const CANARIES = [PASSWORD, WRONG, TOTP_SECRET];

let h: RestDnsHarness;
let fake: FakeInwx;
/** The time of the fake and of the providers built by `at`: sleeps move it on. */
let t = Date.now();
const good = { INWX_USERNAME: 'plain', INWX_PASSWORD: PASSWORD };
before(async () => {
  h = await restDnsHarness({
    code: 'inwx',
    zone: ZONE,
    baseEnv: () => ({ INWX_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeInwx({
    ca: h.ca,
    now: () => t,
    accounts: {
      plain: { password: PASSWORD, domains: ['example.test'] },
      tfa: { password: PASSWORD, domains: ['example.test'], totpSecret: TOTP_SECRET },
      tfa2: { password: PASSWORD, domains: ['example.test'], totpSecret: TOTP_SECRET },
    },
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

/** A provider on the shared time `t`, whose sleeps advance it. */
async function at(env: Record<string, string>) {
  const loaded = await createDnsProvider('inwx', {
    env: { INWX_API_URL: fake.apiUrl, ...env },
    caBundle: h.ca.rootPem,
    logger: { debug: () => {}, info: (o, m) => waits.push({ o, m }), warn: () => {}, error: () => {} },
    clock: {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
    },
  });
  return loaded.provider;
}
const waits: { o: unknown; m: string | undefined }[] = [];

dnsProviderContract({
  name: 'inwx (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, INWX_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('inwx: one login, then calls with the domrobot cookie; full names, TTL at least 300, delete by id', async () => {
  const p = await h.provider(good);
  const r = h.record('shape');
  const from = fake.requests.length;
  const before = fake.methods().length;
  await p.present(r, live());
  await p.cleanup(r, live());
  assert.deepEqual(fake.methods().slice(before), [
    'account.login',
    'nameserver.info',
    'nameserver.createRecord',
    'nameserver.deleteRecord',
  ]);
  const sent = fake.requests.slice(from);
  for (const q of sent) assert.equal(`${q.method} ${q.path}`, 'POST /jsonrpc/');
  assert.deepEqual(JSON.parse(sent[0]!.body), {
    method: 'account.login',
    params: { user: 'plain', pass: PASSWORD },
  });
  assert.equal(sent[0]!.headers.cookie, undefined);
  const cookie = String(sent[1]!.headers.cookie);
  assert.match(cookie, /^domrobot=[0-9a-f]{32}$/);
  for (const q of sent.slice(1)) assert.equal(q.headers.cookie, cookie);
  assert.deepEqual(JSON.parse(sent[1]!.body), {
    method: 'nameserver.info',
    params: { domain: 'example.test', name: r.fqdn.slice(0, -1), type: 'TXT' },
  });
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    method: 'nameserver.createRecord',
    params: { domain: 'example.test', name: r.fqdn.slice(0, -1), type: 'TXT', content: r.value, ttl: 300 },
  });
  assert.equal(typeof (JSON.parse(sent[3]!.body) as { params: { id: unknown } }).params.id, 'number');
  const apex = h.record(null);
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  await (await h.provider(good)).cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('inwx: an ended session is replaced by a new login, once', async () => {
  const p = await h.provider(good);
  const r = h.record();
  await p.present(r, live());
  fake.endSessions();
  const before = fake.methods().length;
  await p.cleanup(r, live());
  // The id is remembered from present: the delete, refused, then a login and the delete again.
  assert.deepEqual(fake.methods().slice(before), [
    'nameserver.deleteRecord',
    'account.login',
    'nameserver.deleteRecord',
  ]);
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('inwx: two-factor accounts unlock with a TOTP code, a second login waits for the next step', async () => {
  const env = { INWX_USERNAME: 'tfa', INWX_PASSWORD: PASSWORD, INWX_SHARED_SECRET: TOTP_SECRET };
  const a = await at(env);
  const b = await at(env);
  const r = h.record();
  const before = fake.methods().length;
  const started = t;
  await a.present(r, live());
  // Another instance in the same process: its code must come from a later step.
  await b.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  assert.deepEqual(
    fake
      .methods()
      .slice(before)
      .filter((m) => m.startsWith('account.')),
    ['account.login', 'account.unlock', 'account.login', 'account.unlock'],
  );
  assert.ok(
    t > started && Math.floor(t / 30_000) === Math.floor(started / 30_000) + 1,
    'waited for the next step',
  );
  const wait = waits.find((w) => (w.o as { wait?: string }).wait === 'dns-delay');
  assert.ok(wait, 'the wait was logged');
  assert.equal((wait.o as { waitFor?: string }).waitFor, 'INWX two-factor code');

  const missing = await h.failure(
    (await at({ ...env, INWX_USERNAME: 'tfa2', INWX_SHARED_SECRET: '' })).present(h.record(), live()),
  );
  assert.match(missing.message, /asks for two-factor authentication \(GOOGLE-AUTH\): set INWX_SHARED_SECRET/);
  const wrong = await h.failure(
    (await at({ ...env, INWX_USERNAME: 'tfa2', INWX_SHARED_SECRET: 'MFRGGZDFMZTWQ2LK' })).present(
      h.record(),
      live(),
    ),
  );
  assert.match(
    wrong.message,
    /two-factor code was refused by account\.unlock \(code 2200: .*Invalid TAN\).*INWX_SHARED_SECRET/,
  );
  await assert.rejects(
    at({ ...env, INWX_SHARED_SECRET: 'not base32!' }),
    (e: unknown) =>
      e instanceof InvalidInputError && /INWX_SHARED_SECRET must be the base32 secret/.test(e.message),
  );
});

test('inwx: INWX_SANDBOX selects the OTE endpoint; INWX_API_URL overrides it', async () => {
  const seen: string[] = [];
  const offline = {
    request: async (_m: string, url: string) => {
      seen.push(url);
      throw new Error('offline');
    },
  };
  for (const env of [
    { INWX_SANDBOX: 'true' },
    {},
    { INWX_SANDBOX: 'true', INWX_API_URL: 'https://proxy.test/rpc' },
  ]) {
    const { provider } = await createDnsProvider('inwx', { env: { ...good, ...env }, http: offline });
    await assert.rejects(provider.present(h.record(), live()), /did not answer account\.login: offline/);
  }
  assert.deepEqual(seen, [
    'https://api.ote.domrobot.com/jsonrpc/',
    'https://api.domrobot.com/jsonrpc/',
    'https://proxy.test/rpc/',
  ]);
});

test('inwx: a refused login, an unknown domain and server errors give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, INWX_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.match(
    wrong.message,
    /^inwx: present: credentials refused by account\.login \(code 2200: Authentication error\)/,
  );
  const outside = await h.failure((await h.provider(good)).present(h.record('x', 'other.test.'), live()));
  assert.match(
    outside.message,
    /domain other\.test has no nameserver zone in the INWX account of INWX_USERNAME/,
  );
  const p = await h.provider(good);
  const r = h.record();
  await p.present(r, live());
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 2);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /INWX API error .*try again in a few minutes/);
});
