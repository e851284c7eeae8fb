import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { AcmeClient, Dns01Solver, obtainCertificate } from '../../../src/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeDuckDns, startFakeDuckDns } from '../../support/fake-cloud/duckdns.ts';
import { freePort } from '../../support/free-port.ts';
import { opensslText } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// Duck DNS (one TXT value per subdomain, solved one challenge at a time) against a fake of its update URL.

const ZONE = 'my.duckdns.org.';
const TOKEN = secret('duck-good');
const OTHER = secret('duck-other');
const WRONG = secret('duck-wrong');
const CANARIES = [TOKEN, OTHER, WRONG];

let h: RestDnsHarness;
let fake: FakeDuckDns;
before(async () => {
  h = await restDnsHarness({
    code: 'duckdns',
    zone: ZONE,
    baseEnv: () => ({ DUCKDNS_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  fake = await startFakeDuckDns({ ca: h.ca, accounts: { [TOKEN]: ['my', 'second'], [OTHER]: ['other'] } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

// Left out: "two values at one name" (a Duck DNS subdomain holds one TXT value, for it and every name under
// it); the contract checks instead that the provider asks to be solved one challenge at a time.
dnsProviderContract({
  name: 'duckdns (fake API)',
  zone: ZONE,
  oneValuePerName: true,
  create: () => h.provider({ DUCKDNS_TOKEN: TOKEN }),
  createWithBadCredentials: () => h.provider({ DUCKDNS_TOKEN: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

function recordAt(fqdn: string, zone = ZONE): TxtRecord {
  return { ...h.record(), fqdn, zone, name: relativeName(fqdn, zone) };
}

test('duckdns: one GET /update with domains, token, txt and verbose; cleanup clears; names under the subdomain', async () => {
  const p = await h.provider({ DUCKDNS_TOKEN: TOKEN });
  const r = recordAt('_acme-challenge.www.my.duckdns.org.');
  const from = fake.requests.length;
  await p.present(r, live());
  assert.deepEqual(await fake.values('my.duckdns.org'), [r.value], 'the subdomain holds it');
  assert.deepEqual(await fake.values('anything.under.my.duckdns.org'), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values('my.duckdns.org'), []);
  const [set, clear] = fake.requests.slice(from);
  assert.equal(set?.method, 'GET');
  assert.equal(set?.path, '/update');
  assert.equal(set?.body, '');
  assert.deepEqual(Object.fromEntries(set!.query), {
    domains: 'my',
    token: TOKEN,
    txt: r.value,
    verbose: 'true',
  });
  assert.deepEqual(Object.fromEntries(clear!.query), {
    domains: 'my',
    token: TOKEN,
    clear: 'true',
    verbose: 'true',
  });
  // The subdomain itself (its own _acme-challenge, or the name a CNAME points at).
  const apex = recordAt('second.duckdns.org.', 'duckdns.org.');
  await p.present(apex, live());
  assert.equal(fake.requests.at(-1)?.query.get('domains'), 'second');
  await p.cleanup(apex, live());
});

test('duckdns: lego’s defaults, DUCKDNS_SEQUENCE_INTERVAL, and one challenge at a time', async () => {
  const base = { DUCKDNS_TOKEN: TOKEN, DUCKDNS_API_URL: fake.apiUrl };
  const loaded = await createDnsProvider('duckdns', { env: base });
  assert.equal(loaded.provider.sequentialIntervalMs, 60_000);
  assert.equal(loaded.provider.zoneless, true);
  assert.deepEqual(
    { ...loaded.settings },
    { ttl: 60, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  );
  const tuned = await createDnsProvider('duckdns', { env: { ...base, DUCKDNS_SEQUENCE_INTERVAL: '5' } });
  assert.equal(tuned.provider.sequentialIntervalMs, 5_000);
  assert.deepEqual(new Dns01Solver({ provider: tuned }).sequential, { intervalMs: 5_000 });
});

test('duckdns: KO (a wrong token, a subdomain of another account) and names outside duckdns.org', async () => {
  const wrong = await h.failure((await h.provider({ DUCKDNS_TOKEN: WRONG })).present(h.record(), live()));
  assert.equal(wrong.status, 'KO');
  assert.match(
    wrong.message,
    /^duckdns: present: Duck DNS refused to set the TXT record of my\.duckdns\.org \(KO\): check DUCKDNS_TOKEN/,
  );
  const p = await h.provider({ DUCKDNS_TOKEN: TOKEN });
  const foreign = await h.failure(
    p.present(recordAt('_acme-challenge.other.duckdns.org.', 'duckdns.org.'), live()),
  );
  assert.match(foreign.message, /other is a subdomain of its account/);
  const before = fake.requests.length;
  const own = await h.failure(p.present(recordAt('_acme-challenge.example.com.', 'example.com.'), live()));
  assert.match(own.message, /not under a <name>\.duckdns\.org subdomain.*CNAME/);
  await h.failure(p.cleanup(recordAt('duckdns.org.', 'duckdns.org.'), live()));
  assert.equal(fake.requests.length, before, 'nothing sent for a name Duck DNS does not serve');
});

test('duckdns: 429 and 5xx are retried, then reported; an unknown answer and a dead URL say so without the token', async () => {
  const p = await h.provider({ DUCKDNS_TOKEN: TOKEN });
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'slow down' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'set after two 429s');
  fake.failNext({ status: 503, text: `upstream ${TOKEN} unavailable` }, 4);
  const down = await h.failure(p.cleanup(r, live()));
  assert.equal(down.status, 503);
  assert.match(
    down.message,
    /Duck DNS failed while trying to clear .*\[redacted\].*try again in a few minutes/,
  );
  fake.failNext({ status: 200, text: '<html>maintenance</html>' });
  const odd = await h.failure(p.cleanup(r, live()));
  assert.match(odd.message, /an answer acmekit does not know .*maintenance/);
  await p.cleanup(r, live());

  // Nothing listens there: the transport's error names the URL, whose query holds the token.
  const dead = await h.provider({
    DUCKDNS_TOKEN: TOKEN,
    DUCKDNS_API_URL: `https://127.0.0.1:${await freePort()}`,
  });
  const gone = await h.failure(dead.present(h.record(), live()));
  assert.match(gone.message, /did not answer: .*https:\/\/127\.0\.0\.1:\d+\/update[^?]*check the network/);
  assert.equal(gone.cause, undefined);
  assert.ok(!h.logs().includes(TOKEN), 'no token in the logs');
});

test('duckdns: Pebble validates example.test and *.example.test through a CNAME, one challenge after the other', async () => {
  let pebble: PebbleServer | undefined;
  let client: AcmeClient | undefined;
  let duck: FakeDuckDns | undefined;
  try {
    pebble = await startPebble({ authzReuse: 0 });
    const dns = pebble.challtestsrv!;
    // Duck DNS serves the subdomain's value for it and the names under it; the fake publishes it where
    // Pebble's resolver looks: _acme-challenge.example.test is a CNAME to my.duckdns.org.
    duck = await startFakeDuckDns({
      ca: h.ca,
      accounts: { [TOKEN]: ['my'] },
      async onChange(sub, value) {
        await dns.clearTxt(`${sub}.duckdns.org`);
        if (value !== undefined) await dns.addTxt(`${sub}.duckdns.org`, value);
      },
    });
    await dns.setCname('_acme-challenge.example.test', 'my.duckdns.org');
    const loaded = await createDnsProvider('duckdns', {
      env: { DUCKDNS_TOKEN: TOKEN, DUCKDNS_API_URL: duck.apiUrl, DUCKDNS_SEQUENCE_INTERVAL: '1' },
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
    // Set, cleared, (the interval), set, cleared: never two values wanted at once.
    const seen = duck.changes.map((c) => (c.value === undefined ? 'clear' : 'set'));
    assert.deepEqual(seen, ['set', 'clear', 'set', 'clear']);
    assert.notEqual(duck.changes[0]!.value, duck.changes[2]!.value, 'two challenges, two values');
    const gap = duck.changes[2]!.at - duck.changes[1]!.at;
    assert.ok(gap >= 950, `the second challenge began ${gap} ms after the first was cleared`);
    assert.deepEqual(await duck.values('my.duckdns.org'), []);
  } finally {
    client?.close();
    await duck?.close();
    await pebble?.stop();
  }
});
