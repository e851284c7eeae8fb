import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { AcmeClient, Dns01Solver, obtainCertificate } from '../../../src/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeHurricane, startFakeHurricane } from '../../support/fake-cloud/hurricane.ts';
import { opensslText } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// Hurricane Electric's dynamic TXT records (one value per record, each with its own key, set up beforehand
// at dns.he.net; no delete) against a fake of dyn.dns.he.net/nic/update.

const ZONE = 'example.test.';
/** The records "set up at dns.he.net": _acme-challenge.p<i>.example.test, each with its own key. */
const POOL = Array.from({ length: 6 }, (_, i) => `p${i}`);
const KEYS = Object.fromEntries(POOL.map((l) => [l, secret(`he-key-${l}`)]));
const WRONG = secret('he-wrong');
const CANARIES = [...Object.values(KEYS), WRONG];
const TOKENS = POOL.map((l) => `${l}.example.test:${KEYS[l]}`).join(',');
const BAD_TOKENS = POOL.map((l) => `${l}.example.test:${WRONG}`).join(',');

let h: RestDnsHarness;
let fake: FakeHurricane;
before(async () => {
  h = await restDnsHarness({
    code: 'hurricane',
    zone: ZONE,
    baseEnv: () => ({ HURRICANE_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeHurricane({
    ca: h.ca,
    records: Object.fromEntries(POOL.map((l) => [`_acme-challenge.${l}.example.test`, KEYS[l]!])),
    initial: '.',
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

let next = 0;
/** Cleanup leaves lego's placeholder ".", which is no challenge value. */
const challengeValues = async (fqdn: string) => (await fake.values(fqdn)).filter((v) => v !== '.');

// Left out: "two values at one name" (a dynamic TXT record holds one value); the contract checks instead
// that the provider asks to be solved one challenge at a time. Each test writes one of the records set up
// beforehand (a record cannot be created through this API).
dnsProviderContract({
  name: 'hurricane (fake API)',
  zone: ZONE,
  oneValuePerName: true,
  label: () => POOL[next++ % POOL.length]!,
  create: () => h.provider({ HURRICANE_TOKENS: TOKENS }),
  createWithBadCredentials: () => h.provider({ HURRICANE_TOKENS: BAD_TOKENS }),
  values: challengeValues,
  canaries: CANARIES,
  logs: () => h.logs(),
});

function recordAt(fqdn: string, zone = ZONE): TxtRecord {
  return { ...h.record(), fqdn, zone, name: relativeName(fqdn, zone) };
}

test('hurricane: one form POST to /nic/update with hostname, password and txt; cleanup writes "."', async () => {
  const p = await h.provider({ HURRICANE_TOKENS: TOKENS });
  const r = h.record('p1');
  const from = fake.requests.length;
  await p.present(r, live());
  await p.present(r, live()); // nochg: fine
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), ['.']);
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path} ${q.query.size} ${q.status}`),
    ['POST /nic/update 0 200', 'POST /nic/update 0 200', 'POST /nic/update 0 200'],
  );
  for (const q of sent) assert.equal(q.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(sent[0]!.body)), {
    hostname: '_acme-challenge.p1.example.test',
    password: KEYS.p1,
    txt: r.value,
  });
  assert.equal(new URLSearchParams(sent[2]!.body).get('txt'), '.');
});

test('hurricane: the key is found by the name without _acme-challenge., or by the full name (a CNAME target)', async () => {
  fake.addRecord('_acme-challenge.example.test', 'apex-key-0001');
  fake.addRecord('acme.delegated.test', 'cname-key-0001');
  const p = await h.provider({
    HURRICANE_TOKENS: ' Example.Test. : apex-key-0001 , acme.delegated.test:cname-key-0001,',
  });
  const apex = recordAt('_acme-challenge.example.test.');
  await p.present(apex, live());
  assert.deepEqual(await fake.values(apex.fqdn), [apex.value]);
  await p.cleanup(apex, live());
  const target = recordAt('acme.delegated.test.', 'delegated.test.');
  await p.present(target, live());
  assert.deepEqual(await fake.values(target.fqdn), [target.value]);
  await p.cleanup(target, live());

  const before = fake.requests.length;
  const missing = await h.failure(p.present(h.record('nokey'), live()));
  assert.match(
    missing.message,
    /HURRICANE_TOKENS has no key for nokey\.example\.test: add nokey\.example\.test:<key>.*known names: example\.test, acme\.delegated\.test/,
  );
  assert.equal(fake.requests.length, before, 'nothing sent without a key');
});

test('hurricane: HURRICANE_TOKENS is read as lego reads it; lego’s defaults; HURRICANE_SEQUENCE_INTERVAL', async () => {
  const base = { HURRICANE_API_URL: fake.apiUrl };
  const loaded = await createDnsProvider('hurricane', { env: { ...base, HURRICANE_TOKENS: TOKENS } });
  assert.equal(loaded.provider.sequentialIntervalMs, 60_000);
  assert.equal(loaded.provider.zoneless, true);
  assert.deepEqual(
    { ...loaded.settings },
    { ttl: 300, propagationTimeoutMs: 300_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  );
  const tuned = await createDnsProvider('hurricane', {
    env: { ...base, HURRICANE_TOKENS: TOKENS, HURRICANE_SEQUENCE_INTERVAL: '2' },
  });
  assert.deepEqual(new Dns01Solver({ provider: tuned }).sequential, { intervalMs: 2_000 });
  for (const bad of [`a.test:${WRONG},b.test`, `a.test:${WRONG}:x`, `:${WRONG}`, 'a.test:']) {
    const err = await createDnsProvider('hurricane', { env: { ...base, HURRICANE_TOKENS: bad } }).then(
      () => assert.fail(`accepted ${bad}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, /HURRICANE_TOKENS entry \d of \d is not <name>:<key>/);
    assert.ok(!`${err.message} ${JSON.stringify(err)}`.includes(WRONG), 'the key is not shown');
  }
});

test('hurricane: badauth, nohost, interval, abuse and notfqdn give errors that say what to do, without keys', async () => {
  const wrong = await h.failure(
    (await h.provider({ HURRICANE_TOKENS: `p2.example.test:${WRONG}` })).present(h.record('p2'), live()),
  );
  assert.equal(wrong.status, 'badauth');
  assert.match(
    wrong.message,
    /^hurricane: present: Hurricane Electric refused the key .*HURRICANE_TOKENS.*\(badauth\)$/,
  );
  const p = await h.provider({ HURRICANE_TOKENS: `${TOKENS},unset.example.test:${KEYS.p0}` });
  const nohost = await h.failure(p.present(h.record('unset'), live()));
  assert.match(
    nohost.message,
    /no dynamic TXT record _acme-challenge\.unset\.example\.test at dns\.he\.net.*\(nohost\)/,
  );
  const said = async (text: string) => {
    fake.failNext({ status: 200, text });
    return (await h.failure(p.present(h.record('p3'), live()))).message;
  };
  assert.match(await said('interval'), /refuses updates of .* this often; wait a few minutes/);
  assert.match(await said('abuse'), /blocked updates of _acme-challenge\.p3\.example\.test for abuse/);
  assert.match(
    await said('notfqdn'),
    /not take _acme-challenge\.p3\.example\.test as a fully qualified name/,
  );
  assert.match(await said('<html>Oops</html>'), /an answer acmekit does not know .*Oops/);
});

test('hurricane: 429 and 5xx are retried (Retry-After honoured), then reported', async () => {
  const p = await h.provider({ HURRICANE_TOKENS: TOKENS });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'slow down' }, 2);
  const r = h.record('p4');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'set after two 429s');
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 502);
  assert.match(
    err.message,
    /Hurricane Electric failed while trying to reset \(to "\."\) .*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await challengeValues(r.fqdn), []);
});

test('hurricane: Pebble validates example.test and *.example.test, one challenge after the other', async () => {
  let pebble: PebbleServer | undefined;
  let client: AcmeClient | undefined;
  let he: FakeHurricane | undefined;
  try {
    pebble = await startPebble({ authzReuse: 0 });
    const dns = pebble.challtestsrv!;
    const key = secret('he-apex');
    // The record's one value is what Pebble's resolver serves.
    he = await startFakeHurricane({
      ca: h.ca,
      records: { '_acme-challenge.example.test': key },
      async onChange(hostname, value) {
        await dns.clearTxt(hostname);
        await dns.addTxt(hostname, value);
      },
    });
    const loaded = await createDnsProvider('hurricane', {
      env: {
        HURRICANE_TOKENS: `example.test:${key}`,
        HURRICANE_API_URL: he.apiUrl,
        HURRICANE_SEQUENCE_INTERVAL: '1',
      },
      caBundle: h.ca.rootPem,
    });
    const solver = new Dns01Solver({
      provider: loaded,
      resolvers: [dns.dnsAddress],
      propagation: { intervalMs: 100, timeoutMs: 10_000 },
    });
    client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
    const account = await client.createAccount({ acceptTos: true });
    const result = await obtainCertificate(account, {
      names: ['example.test', '*.example.test'],
      solvers: [solver],
    });
    const text = await opensslText(result.certificate);
    assert.match(text, /DNS:example\.test/);
    assert.match(text, /DNS:\*\.example\.test/);
    // Set, reset to ".", (the interval), set, reset: never two values wanted at once.
    const values = he.changes.map((c) => c.value);
    assert.equal(values.length, 4, values.join(' '));
    assert.deepEqual([values[1], values[3]], ['.', '.']);
    assert.notEqual(values[0], values[2], 'two challenges, two values');
    const gap = he.changes[2]!.at - he.changes[1]!.at;
    assert.ok(gap >= 950, `the second challenge began ${gap} ms after the first was reset`);
    assert.deepEqual(await he.values('_acme-challenge.example.test'), ['.']);
  } finally {
    client?.close();
    await he?.close();
    await pebble?.stop();
  }
});
