import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { parseXml } from '../../../src/dns/providers/route53/xml.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  canary,
  failure,
  instantClock,
  keptLogs,
  live,
  recordMaker,
  sameName,
} from '../../support/dns-rest-harness.ts';
import { type FakePlesk, startFakePlesk } from '../../support/fake-cloud/plesk.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The Plesk provider on the REST layer, against a fake of the Plesk XML API.

const ZONE = 'example.test.';
const PASSWORD = canary('plesk-admin');
const CUSTOMER = canary('plesk-customer');
const WRONG = canary('plesk-wrong');
const CANARIES = [PASSWORD, CUSTOMER, WRONG];

let ca: TestCa;
let fake: FakePlesk;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  fake = await startFakePlesk({
    ca,
    sites: { 'example.test': ['admin'], 'customer.test': ['admin', 'carol'] },
    logins: { admin: PASSWORD, carol: CUSTOMER },
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('plesk', {
    env: { PLESK_SERVER_BASE_URL: fake.baseUrl, PLESK_USERNAME: 'admin', PLESK_PASSWORD: PASSWORD, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

dnsProviderContract({
  name: 'plesk (fake XML API)',
  zone: ZONE,
  create: () => provider({}),
  createWithBadCredentials: () => provider({ PLESK_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('plesk: one packet per call to agent.php with the login headers: site get, get_rec, add_rec, del_rec', async () => {
  const p = await provider({});
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(`${q.method} ${q.path}`, 'POST /enterprise/control/agent.php');
    assert.equal(q.headers.http_auth_login, 'admin');
    assert.equal(q.headers.http_auth_passwd, PASSWORD);
    assert.match(String(q.headers['content-type']), /^text\/xml/);
  }
  const ops = sent.map((q) => {
    const operator = parseXml(q.body).children[0]!;
    return `${operator.name}/${operator.children[0]!.name}`;
  });
  assert.deepEqual(ops, ['site/get', 'dns/get_rec', 'dns/add_rec', 'dns/del_rec']);
  const add = parseXml(sent[2]!.body).children[0]!.children[0]!;
  assert.deepEqual(
    add.children.map((c) => [c.name, c.text]),
    [
      ['site-id', '80'],
      ['type', 'TXT'],
      ['host', '_acme-challenge.shape'],
      ['value', r.value],
    ],
  );
  assert.deepEqual(await fake.values(r.fqdn), []);
});

test('plesk: the apex, a record found again after a restart, two values at one name', async () => {
  const apex = record(null);
  const p = await provider({});
  await p.present(apex, live());
  assert.deepEqual(await fake.values(ZONE), [apex.value]);
  const a = record('pair');
  const b = sameName(a);
  await p.present(a, live());
  await p.present(b, live());
  const fresh = await provider({});
  await fresh.cleanup(a, live());
  assert.deepEqual(await fake.values(a.fqdn), [b.value]);
  await fresh.cleanup(b, live());
  await fresh.cleanup(apex, live());
  assert.deepEqual(await fake.values(ZONE), []);
});

test('plesk: a wrong password, an unknown site and a customer without the site give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ PLESK_PASSWORD: WRONG })).present(record(), live()),
    CANARIES,
  );
  assert.match(
    wrong.message,
    /^plesk: present: credentials refused .*incorrect username or password.*check PLESK_USERNAME and PLESK_PASSWORD/,
  );
  const missing = await failure((await provider({})).present(record('x', 'nothere.test.'), live()), CANARIES);
  assert.match(missing.message, /site nothere\.test does not exist in Plesk \(Site does not exist\)/);
  const carol = await provider({ PLESK_USERNAME: 'carol', PLESK_PASSWORD: CUSTOMER });
  const notHers = await failure(carol.present(record(), live()), CANARIES);
  assert.match(notHers.message, /site example\.test does not exist in Plesk/);
  const hers = record('c', 'customer.test.');
  await carol.present(hers, live());
  assert.deepEqual(await fake.values(hers.fqdn), [hers.value]);
  await carol.cleanup(hers, live());
});

test('plesk: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({});
  fake.failNext({ status: 503, text: '<html>Service Unavailable</html>' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value], 'succeeded after two 503s');
  await p.cleanup(r, live());
  fake.failNext({ status: 502, text: '<html>Bad Gateway</html>' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 502);
  assert.match(err.message, /Plesk API error while trying to .*try again in a few minutes/);
});
