import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
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
import { type FakeCpanel, startFakeCpanel } from '../../support/fake-cloud/cpanel.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The cPanel provider on the REST layer, against fakes of cPanel's UAPI and of WHM API 1 (CPANEL_MODE=whm).

const ZONE = 'example.test.';
const ALICE = canary('cpanel-alice');
const BOB = canary('cpanel-bob');
const ROOT = canary('whm-root');
const WRONG = canary('cpanel-wrong');
const CANARIES = [ALICE, BOB, ROOT, WRONG];

let ca: TestCa;
let cpanel: FakeCpanel;
let whm: FakeCpanel;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  ca = await createTestCa();
  const zones = { 'example.test': 'alice', 'bobs.test': 'bob' };
  cpanel = await startFakeCpanel({ ca, mode: 'cpanel', zones, tokens: { alice: ALICE, bob: BOB } });
  whm = await startFakeCpanel({ ca, mode: 'whm', zones, tokens: { root: ROOT } });
});
after(async () => {
  await cpanel?.close();
  await whm?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource, server: FakeCpanel = cpanel): Promise<DnsProvider> {
  const loaded = await createDnsProvider('cpanel', {
    env: { CPANEL_BASE_URL: server.baseUrl, CPANEL_USERNAME: 'alice', CPANEL_TOKEN: ALICE, ...env },
    caBundle: ca.rootPem,
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}
const whmEnv = { CPANEL_MODE: 'whm', CPANEL_USERNAME: 'root', CPANEL_TOKEN: ROOT };

dnsProviderContract({
  name: 'cpanel (fake UAPI)',
  zone: ZONE,
  create: () => provider({}),
  createWithBadCredentials: () => provider({ CPANEL_TOKEN: WRONG }),
  values: (fqdn) => cpanel.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

dnsProviderContract({
  name: 'cpanel (fake WHM API 1)',
  zone: ZONE,
  create: () => provider(whmEnv, whm),
  createWithBadCredentials: () => provider({ ...whmEnv, CPANEL_TOKEN: WRONG }, whm),
  values: (fqdn) => whm.values(fqdn),
  canaries: CANARIES,
  logs: () => logs.text(),
});

test('cpanel: UAPI calls with "cpanel user:token": parse_zone, then mass_edit_zone with the serial', async () => {
  const p = await provider({});
  const r = record('shape');
  const serial = cpanel.serial(ZONE);
  const from = cpanel.requests.length;
  await p.present(r, live());
  const sent = cpanel.requests.slice(from);
  for (const q of sent) assert.equal(q.headers.authorization, `cpanel alice:${ALICE}`);
  assert.deepEqual(
    sent.map((q) => `${q.method} ${q.path}?${q.query}`),
    [
      'GET /execute/DNS/parse_zone?zone=example.test',
      'GET /execute/DNS/parse_zone?zone=example.test',
      `GET /execute/DNS/mass_edit_zone?${new URLSearchParams({
        zone: 'example.test',
        serial: String(serial),
        add: JSON.stringify({ dname: r.fqdn, ttl: 60, record_type: 'TXT', data: [r.value] }),
      })}`,
    ],
  );
  assert.equal(cpanel.serial(ZONE), serial + 1);
  await p.cleanup(r, live());
  const remove = cpanel.requests.at(-1)!;
  assert.equal(remove.query.get('serial'), String(serial + 1));
  assert.match(remove.query.get('remove') ?? '', /^\d+$/);
  assert.deepEqual(await cpanel.values(r.fqdn), []);
});

test('cpanel: WHM API 1 calls with api.version=1 and "whm user:token"', async () => {
  const p = await provider(whmEnv, whm);
  const r = record(null);
  const from = whm.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = whm.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.headers.authorization, `whm root:${ROOT}`);
    assert.equal(q.query.get('api.version'), '1');
  }
  assert.deepEqual(
    [...new Set(sent.map((q) => q.path))],
    ['/json-api/parse_dns_zone', '/json-api/mass_edit_dns_zone'],
  );
  // WHM's root token reaches another user's zone.
  const other = record('x', 'bobs.test.');
  await p.present(other, live());
  assert.deepEqual(await whm.values(other.fqdn), [other.value]);
  await p.cleanup(other, live());
});

test('cpanel: a record written by name relative to the zone is found; each value is its own record', async () => {
  const p = await provider({});
  const r = record('rel');
  cpanel.addElsewhere(ZONE, '_acme-challenge.rel', r.value);
  const second = sameName(r);
  await p.present(r, live()); // already there: nothing added
  await p.present(second, live());
  assert.deepEqual((await cpanel.values(r.fqdn)).sort(), [r.value, second.value].sort());
  const edits = cpanel.requests.filter((q) => q.path.endsWith('mass_edit_zone')).slice(-1);
  assert.deepEqual(JSON.parse(edits[0]!.query.get('add')!).data, [second.value]);
  await (await provider({})).cleanup(r, live());
  assert.deepEqual(await cpanel.values(r.fqdn), [second.value]);
  await p.cleanup(second, live());
  assert.deepEqual(await cpanel.values(r.fqdn), []);
});

test('cpanel: writes racing at other names in the zone are read again and retried with the new serial', async () => {
  const p = await provider({});
  const rs = ['race1', 'race2', 'race3'].map((h) => record(h));
  const from = cpanel.requests.length;
  await Promise.all(rs.map((r) => p.present(r, live())));
  const edits = cpanel.requests.slice(from).filter((q) => q.path.endsWith('/mass_edit_zone'));
  assert.ok(edits.length > rs.length, 'a stale serial was refused and the edit sent again');
  for (const r of rs) assert.deepEqual(await cpanel.values(r.fqdn), [r.value]);
  await Promise.all(rs.map((r) => p.cleanup(r, live())));
  for (const r of rs) assert.deepEqual(await cpanel.values(r.fqdn), []);
});

test("cpanel: a wrong token, another user's zone and a bad mode give actionable errors", async () => {
  const wrong = await failure((await provider({ CPANEL_TOKEN: WRONG })).present(record(), live()), CANARIES);
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /credentials refused .*Access denied.*check CPANEL_USERNAME and CPANEL_TOKEN/);
  const foreign = await failure((await provider({})).present(record('x', 'bobs.test.'), live()), CANARIES);
  assert.match(
    foreign.message,
    /cPanel refused to .*You do not have access to a DNS zone named “bobs\.test”.*check that the zone bobs\.test is in the account of CPANEL_USERNAME/,
  );
  await assert.rejects(
    provider({ CPANEL_MODE: 'plesk' }),
    (e: unknown) => e instanceof InvalidInputError && /CPANEL_MODE must be cpanel or whm/.test(e.message),
  );
});

test('cpanel: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await provider({});
  cpanel.failNext({ status: 503, text: 'Service Unavailable' }, 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await cpanel.values(r.fqdn), [r.value], 'succeeded after two 503s');
  await p.cleanup(r, live());
  cpanel.failNext({ status: 500, text: 'Internal Server Error' }, 4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 500);
  assert.match(err.message, /cPanel API error while trying to .*try again in a few minutes/);
});
