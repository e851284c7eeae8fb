import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { after, before, test } from 'node:test';
import {
  createDnsProvider,
  type DnsProvider,
  type EnvSource,
  type EnvVarSpec,
  isZoneFinder,
  type TxtRecord,
} from '../../../src/dns/index.ts';
import { signAcs3 } from '../../../src/dns/providers/alidns/acs3-signer.ts';
import { AbortedError, DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import { throwIfAborted } from '../../../src/internal/abort.ts';
import { type Clock, systemClock } from '../../../src/internal/clock.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { Secret } from '../../../src/internal/secret.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  type FakeAlidns,
  type FakeAlidnsOptions,
  type FakeEcsMetadataOptions,
  startFakeAlidns,
  startFakeEcsMetadata,
} from '../../support/fake-cloud/alidns.ts';
import { freePort } from '../../support/free-port.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

const KEY_ID = 'LTAI5tAcmekitTestKey01';
// A canary: it must never show up in an error or a log line.
const SECRET = `canary-${randomBytes(12).toString('hex')}`;

let ca: TestCa;
let api: FakeAlidns;
const started: { close(): Promise<void> }[] = [];

before(async () => {
  ca = await createTestCa();
  api = await startFakeAlidns(ca, { domains: ['laeni.cn'], keys: { [KEY_ID]: SECRET } });
  started.push(api);
});
after(async () => {
  await Promise.all(started.map((s) => s.close()));
  await rm(ca.dir, { recursive: true, force: true });
});

/** Everything every provider below logged, as text. */
const logLines: string[] = [];
const logger: Logger = {
  debug: (o, m) => logLines.push(`${JSON.stringify(o)} ${m ?? ''}`),
  info: (o, m) => logLines.push(`${JSON.stringify(o)} ${m ?? ''}`),
  warn: (o, m) => logLines.push(`${JSON.stringify(o)} ${m ?? ''}`),
  error: (o, m) => logLines.push(`${JSON.stringify(o)} ${m ?? ''}`),
};

/** Real time for x-acs-date, but backoff pauses return at once (and are recorded). */
function instantClock(sleeps: number[] = []): Clock {
  return {
    now: () => Date.now(),
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      throwIfAborted(signal);
    },
  };
}

async function alidns(
  env: EnvSource = {},
  o: { fake?: FakeAlidns; clock?: Clock; keys?: boolean } = {},
): Promise<DnsProvider> {
  const base: EnvSource =
    o.keys === false ? {} : { ALICLOUD_ACCESS_KEY: KEY_ID, ALICLOUD_SECRET_KEY: SECRET };
  const loaded = await createDnsProvider('alidns', {
    env: { ...base, ALICLOUD_API_URL: (o.fake ?? api).url, ...env },
    caBundle: ca.rootPem,
    logger,
    clock: o.clock ?? instantClock(),
  });
  return loaded.provider;
}

async function fake(o: Partial<FakeAlidnsOptions> = {}): Promise<FakeAlidns> {
  const f = await startFakeAlidns(ca, { domains: ['laeni.cn'], keys: { [KEY_ID]: SECRET }, ...o });
  started.push(f);
  return f;
}

async function metadata(o: Omit<FakeEcsMetadataOptions, 'alidns'> & { alidns?: FakeAlidns }) {
  const m = await startFakeEcsMetadata({ alidns: o.alidns ?? api, ...o });
  started.push(m);
  return m;
}

let n = 0;
function txt(fqdn: string, zone = 'laeni.cn.'): TxtRecord {
  n += 1;
  const value = `${String(n).padStart(3, '0')}${randomBytes(30).toString('base64url')}`.slice(0, 43);
  const name = fqdn === zone ? '@' : fqdn.slice(0, -(zone.length + 1));
  return { fqdn, zone, name, value, ttl: 600 };
}
const live = (): AbortSignal => new AbortController().signal;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

/** The error is a DnsProviderError for `operation` that never carries a canary. */
function assertProviderError(
  err: unknown,
  operation: string,
  message: RegExp,
  canaries: readonly string[] = [SECRET],
): asserts err is DnsProviderError {
  assert.ok(err instanceof DnsProviderError, `expected DnsProviderError, got ${String(err)}`);
  assert.equal(err.operation, operation);
  assert.match(err.message, /^alidns: /);
  assert.match(err.message, message);
  const texts = [err.message, err.stack ?? '', JSON.stringify(err), String(err.cause ?? '')];
  for (const c of canaries)
    for (const t of texts) assert.ok(!t.includes(c), 'a secret leaked into the error');
  // Never the request's signature or the server's string to sign.
  assert.doesNotMatch(err.message, /Signature=|string to sign|x-acs-/i);
}

dnsProviderContract({
  name: 'alidns (fake Alidns API)',
  zone: 'laeni.cn.',
  create: () => alidns(),
  values: async (fqdn) => api.values(fqdn),
  createWithBadCredentials: () => alidns({ ALICLOUD_SECRET_KEY: `wrong-${SECRET}` }),
  canaries: [SECRET],
  logs: () => logLines.join('\n'),
});

test('alidns: wildcard + apex: two values at _acme-challenge.laeni.cn. coexist; cleanup removes only its own', async () => {
  const p = await alidns();
  const apex = txt('_acme-challenge.laeni.cn.');
  const wildcard = txt('_acme-challenge.laeni.cn.');
  await Promise.all([p.present(apex, live()), p.present(wildcard, live())]);
  assert.deepEqual(api.values('_acme-challenge.laeni.cn.').sort(), [apex.value, wildcard.value].sort());
  const added = api.records().filter((r) => r.Value === apex.value);
  assert.deepEqual(
    added.map(({ RR, Type, TTL, Line, DomainName }) => ({ RR, Type, TTL, Line, DomainName })),
    [{ RR: '_acme-challenge', Type: 'TXT', TTL: 600, Line: 'default', DomainName: 'laeni.cn' }],
  );
  await (await alidns()).cleanup(apex, live());
  assert.deepEqual(api.values('_acme-challenge.laeni.cn.'), [wildcard.value]);
  await p.cleanup(wildcard, live());
  assert.deepEqual(api.values('_acme-challenge.laeni.cn.'), []);
});

test('alidns: a record at the zone apex uses RR "@"', async () => {
  const p = await alidns();
  const r = txt('laeni.cn.');
  await p.present(r, live());
  assert.equal(api.records().find((x) => x.Value === r.value)?.RR, '@');
  assert.deepEqual(api.values('laeni.cn.'), [r.value]);
  await p.cleanup(r, live());
  assert.deepEqual(api.values('laeni.cn.'), []);
});

test('alidns: cleanup pages through DescribeDomainRecords and deletes only the matching value', async () => {
  const f = await fake({ pageSizeCap: 2 });
  const p = await alidns({}, { fake: f });
  const same = Array.from({ length: 5 }, () => txt('_acme-challenge.www.laeni.cn.'));
  // Names RRKeyWord also matches as a substring; they must survive.
  const similar = [txt('_acme-challenge.www2.laeni.cn.'), txt('x._acme-challenge.www.laeni.cn.')];
  for (const r of [...same, ...similar]) await p.present(r, live());
  const oldest = same[0]!;
  const before = f.log.length;
  await (await alidns({}, { fake: f })).cleanup(oldest, live());
  const lists = f.log.slice(before).filter((l) => l.action === 'DescribeDomainRecords');
  assert.ok(lists.length >= 3, `expected several pages, got ${lists.length}`);
  assert.deepEqual(lists[0]?.params.RRKeyWord, '_acme-challenge.www');
  assert.deepEqual(
    f.values('_acme-challenge.www.laeni.cn.').sort(),
    same
      .slice(1)
      .map((r) => r.value)
      .sort(),
  );
  for (const r of similar) assert.deepEqual(f.values(r.fqdn), [r.value]);
  const deletes = f.log.slice(before).filter((l) => l.action === 'DeleteDomainRecord');
  assert.equal(deletes.length, 1);
});

test('alidns: refused AccessKeys name the variables to check, never the secret', async () => {
  const unknownKey = await rejection(
    (await alidns({ ALICLOUD_ACCESS_KEY: 'LTAI5tNoSuchKey' })).present(
      txt('_acme-challenge.a.laeni.cn.'),
      live(),
    ),
  );
  assertProviderError(
    unknownKey,
    'present',
    /AccessKey refused \(InvalidAccessKeyId\.NotFound.*check ALICLOUD_ACCESS_KEY\/ALICLOUD_SECRET_KEY/,
  );
  assert.equal(unknownKey.status, 404);

  const wrongSecret = `wrong-${SECRET}`;
  const badSignature = await rejection(
    (await alidns({ ALICLOUD_SECRET_KEY: wrongSecret })).cleanup(txt('_acme-challenge.a.laeni.cn.'), live()),
  );
  assertProviderError(
    badSignature,
    'cleanup',
    /AccessKey refused \(SignatureDoesNotMatch, RequestId \w+\): check ALICLOUD_ACCESS_KEY\/ALICLOUD_SECRET_KEY/,
    [SECRET, wrongSecret],
  );
  assert.equal(badSignature.status, 400);
});

test('alidns: a missing RAM permission names the action', async () => {
  const f = await fake();
  f.deny('AddDomainRecord');
  f.deny('DescribeDomainRecords');
  const p = await alidns({}, { fake: f });
  const present = await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live()));
  assertProviderError(present, 'present', /missing RAM permission alidns:AddDomainRecord \(Forbidden\.RAM/);
  assert.equal(present.status, 403);
  const cleanup = await rejection(p.cleanup(txt('_acme-challenge.laeni.cn.'), live()));
  assertProviderError(cleanup, 'cleanup', /missing RAM permission alidns:DescribeDomainRecords/);
});

test('alidns: a zone that is not in the account says so, for present and cleanup', async () => {
  const p = await alidns();
  const r = txt('_acme-challenge.other.cn.', 'other.cn.');
  assertProviderError(
    await rejection(p.present(r, live())),
    'present',
    /zone other\.cn is not in this account \(InvalidDomainName\.NoExist/,
  );
  assertProviderError(
    await rejection(p.cleanup(r, live())),
    'cleanup',
    /zone other\.cn is not in this account/,
  );
});

test('alidns: the domain comes from the account when the given zone is not an Alidns domain', async () => {
  const f = await fake({ domains: ['laeni.cn', 'b.laeni.cn'] });
  const p = await alidns({}, { fake: f });
  assert.ok(isZoneFinder(p));
  assert.equal(await p.findZone('_acme-challenge.a.b.laeni.cn.', live()), 'b.laeni.cn.');
  assert.equal(await p.findZone('_acme-challenge.www.laeni.cn.', live()), 'laeni.cn.');
  assert.equal(f.log.filter((l) => l.action === 'DescribeDomains').length, 1, 'the domain list is reused');
  assertProviderError(
    await rejection(p.findZone('_acme-challenge.other.cn.', live())),
    'findZone',
    /no Alidns domain of this account holds _acme-challenge\.other\.cn \(the account has b\.laeni\.cn, laeni\.cn\)/,
  );

  // The core's SOA walk said www.laeni.cn, but the account only has laeni.cn.
  const r = txt('_acme-challenge.www.laeni.cn.', 'www.laeni.cn.');
  await p.present(r, live());
  assert.equal(f.records().find((x) => x.Value === r.value)?.RR, '_acme-challenge.www');
  assert.deepEqual(f.values(r.fqdn), [r.value]);
  await (await alidns({}, { fake: f })).cleanup(r, live());
  assert.deepEqual(f.values(r.fqdn), []);
});

test('alidns: throttling is retried with growing pauses, then reported clearly', async () => {
  const f = await fake();
  f.fail({ action: 'AddDomainRecord', code: 'Throttling.User', status: 400, times: 2 });
  const sleeps: number[] = [];
  const p = await alidns({}, { fake: f, clock: instantClock(sleeps) });
  const r = txt('_acme-challenge.laeni.cn.');
  await p.present(r, live());
  assert.deepEqual(f.values(r.fqdn), [r.value]);
  assert.deepEqual(
    f.log.filter((l) => l.action === 'AddDomainRecord').map((l) => l.code ?? 'ok'),
    ['Throttling.User', 'Throttling.User', 'ok'],
  );
  assert.equal(sleeps.length, 2);
  assert.ok(sleeps[0]! >= 800 && sleeps[0]! <= 1200 && sleeps[1]! >= 1600 && sleeps[1]! <= 2400, `${sleeps}`);

  f.fail({ action: 'AddDomainRecord', code: 'Throttling.User', status: 400, times: 10 });
  const err = await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live()));
  assertProviderError(err, 'present', /kept throttling requests \(Throttling\.User.*after 4 attempts/);
});

test('alidns: server errors are retried, then reported with the status', async () => {
  const f = await fake();
  f.fail({ code: 'InternalError', status: 500, times: 4 });
  const p = await alidns({}, { fake: f });
  const err = await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live()));
  assertProviderError(
    err,
    'present',
    /API failed with HTTP 500 \(InternalError.*after 4 attempts: try again later/,
  );
  assert.equal(err.status, 500);
  f.fail({ code: 'ServiceUnavailable', status: 503, times: 1 });
  await p.present(txt('_acme-challenge.laeni.cn.'), live());
});

test('alidns: an abort during a backoff pause rejects at once with the abort, not a provider error', async () => {
  const f = await fake();
  f.fail({ code: 'Throttling.User', status: 400, times: 10 });
  const p = await alidns({}, { fake: f, clock: systemClock });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('stop')), 200);
  const t0 = Date.now();
  const err = await rejection(p.present(txt('_acme-challenge.laeni.cn.'), ac.signal));
  assert.ok(err instanceof AbortedError, String(err));
  assert.ok(Date.now() - t0 < 1000);
});

test('alidns: a clock more than 15 minutes off is reported as such', async () => {
  const skewed: Clock = { ...instantClock(), now: () => Date.now() - 20 * 60_000 };
  const err = await rejection(
    (await alidns({}, { clock: skewed })).present(txt('_acme-challenge.laeni.cn.'), live()),
  );
  assertProviderError(err, 'present', /request time \(InvalidTimeStamp\.Expired.*clock.*NTP/);
});

test('alidns: other API errors keep the code and the API message; an unreachable API says so', async () => {
  const f = await fake();
  f.fail({ action: 'AddDomainRecord', code: 'DomainRecordConflict', status: 400, message: 'conflict' });
  f.fail({ action: 'AddDomainRecord', code: 'InvalidRR.Format', status: 400, message: 'The RR is invalid.' });
  const p = await alidns({}, { fake: f });
  assertProviderError(
    await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live())),
    'present',
    /conflicts with a TXT record \(DomainRecordConflict/,
  );
  assertProviderError(
    await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live())),
    'present',
    /AddDomainRecord failed \(InvalidRR\.Format, RequestId \w+\): The RR is invalid\./,
  );

  const closed = `https://127.0.0.1:${await freePort()}`;
  const down = await alidns({ ALICLOUD_API_URL: closed });
  assertProviderError(
    await rejection(down.present(txt('_acme-challenge.laeni.cn.'), live())),
    'present',
    /cannot reach the Alidns API at https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
});

test('alidns: RAM role credentials come from the metadata service (hardened mode), are cached, and sign with the STS token', async () => {
  const meta = await metadata({ roles: ['acmekit-dns'], requireToken: true });
  const env = { ALICLOUD_RAM_ROLE: 'acmekit-dns', ALICLOUD_METADATA_URL: meta.url };
  const p = await alidns(env, { keys: false });
  const a = txt('_acme-challenge.laeni.cn.');
  const b = txt('_acme-challenge.laeni.cn.');
  const before = api.log.length;
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  await p.cleanup(a, live());
  assert.deepEqual(api.values(a.fqdn), [b.value]);
  await p.cleanup(b, live());

  assert.equal(meta.issued.length, 1, 'one metadata fetch for every call');
  const issued = meta.issued[0]!;
  assert.equal(issued.withSessionToken, true);
  const calls = api.log.slice(before);
  assert.ok(calls.length >= 4);
  for (const c of calls) {
    assert.equal(c.accessKeyId, issued.accessKeyId);
    assert.equal(c.securityToken, issued.securityToken);
    assert.equal(c.status, 200);
  }
  const logs = logLines.join('\n');
  assert.ok(
    !logs.includes(issued.accessKeySecret) && !logs.includes(issued.securityToken),
    'role secret in logs',
  );
});

test('alidns: RAM role credentials close to expiry are fetched again; refused ones are replaced once', async () => {
  // Lifetime below the 3-minute refresh margin: every call fetches.
  const short = await metadata({ roles: ['r'], lifetimeMs: 150_000, tokenEndpoint: false });
  const p = await alidns({ ALICLOUD_RAM_ROLE: 'r', ALICLOUD_METADATA_URL: short.url }, { keys: false });
  const r = txt('_acme-challenge.laeni.cn.');
  await p.present(r, live());
  await p.cleanup(r, live());
  assert.ok(short.issued.length >= 2, `fetched ${short.issued.length} times`);
  assert.equal(short.issued[0]?.withSessionToken, false, 'plain GET when there is no token endpoint');

  const long = await metadata({ roles: ['r'] });
  const q = await alidns({ ALICLOUD_RAM_ROLE: 'r', ALICLOUD_METADATA_URL: long.url }, { keys: false });
  await q.present(txt('_acme-challenge.laeni.cn.'), live());
  api.fail({ action: 'AddDomainRecord', code: 'InvalidSecurityToken.Expired', status: 400 });
  await q.present(txt('_acme-challenge.laeni.cn.'), live());
  assert.equal(long.issued.length, 2, 'fresh credentials after the API refused the token');
});

test('alidns: one caller aborting the shared metadata fetch does not fail the other', async () => {
  const meta = await metadata({ roles: ['r'], delayMs: 300 });
  const p = await alidns({ ALICLOUD_RAM_ROLE: 'r', ALICLOUD_METADATA_URL: meta.url }, { keys: false });
  const ac = new AbortController();
  const first = p.present(txt('_acme-challenge.laeni.cn.'), ac.signal);
  const second = txt('_acme-challenge.laeni.cn.');
  const secondDone = p.present(second, live());
  setTimeout(() => ac.abort(new Error('first caller gave up')), 50);
  assert.ok((await rejection(first)) instanceof AbortedError);
  await secondDone;
  assert.ok(api.values(second.fqdn).includes(second.value));
  assert.equal(meta.issued.length, 2, 'the aborted fetch, then the one the second caller needed');
});

test('alidns: RAM role problems say what to check, without the credentials', async () => {
  const meta = await metadata({ roles: ['acmekit-dns'] });
  const wrongRole = await alidns(
    { ALICLOUD_RAM_ROLE: 'nope', ALICLOUD_METADATA_URL: meta.url },
    { keys: false },
  );
  assertProviderError(
    await rejection(wrongRole.present(txt('_acme-challenge.laeni.cn.'), live())),
    'present',
    /no RAM role named nope: check ALICLOUD_RAM_ROLE/,
  );
  const noService = await alidns(
    { ALICLOUD_RAM_ROLE: 'acmekit-dns', ALICLOUD_METADATA_URL: `http://127.0.0.1:${await freePort()}` },
    { keys: false },
  );
  assertProviderError(
    await rejection(noService.cleanup(txt('_acme-challenge.laeni.cn.'), live())),
    'cleanup',
    /cannot reach the ECS metadata service at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): ALICLOUD_RAM_ROLE works only on an ECS instance/,
  );

  // Role credentials the API refuses even after a fresh fetch: the message points at the role.
  const f = await fake();
  const refusing = await metadata({ alidns: f, roles: ['acmekit-dns'] });
  f.fail({ code: 'InvalidAccessKeyId.NotFound', status: 404, times: 2 });
  const p = await alidns(
    { ALICLOUD_RAM_ROLE: 'acmekit-dns', ALICLOUD_METADATA_URL: refusing.url },
    { fake: f, keys: false },
  );
  const err = await rejection(p.present(txt('_acme-challenge.laeni.cn.'), live()));
  const canaries = refusing.issued.flatMap((i) => [i.accessKeySecret, i.securityToken]);
  assertProviderError(
    err,
    'present',
    /AccessKey refused .*RAM role acmekit-dns \(ALICLOUD_RAM_ROLE\)/,
    canaries,
  );
});

test('alidns: missing or half credentials fail before the network, naming the variable', async () => {
  const create = (env: EnvSource) => createDnsProvider('alidns', { env, caBundle: ca.rootPem });
  const none = await rejection(create({}));
  assert.ok(none instanceof InvalidInputError);
  assert.equal(none.value, 'ALICLOUD_ACCESS_KEY');
  assert.match(none.message, /^alidns: .*ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY.*ALICLOUD_RAM_ROLE/);

  const noSecret = await rejection(create({ ALICLOUD_ACCESS_KEY: KEY_ID }));
  assert.ok(noSecret instanceof InvalidInputError);
  assert.match(noSecret.message, /ALICLOUD_SECRET_KEY is not set/);

  const noKey = await rejection(create({ ALICLOUD_SECRET_KEY: SECRET, ALICLOUD_SECURITY_TOKEN: 'tok' }));
  assert.ok(noKey instanceof InvalidInputError);
  assert.match(noKey.message, /ALICLOUD_ACCESS_KEY is not set/);
  assert.ok(!JSON.stringify({ ...noKey, m: noKey.message }).includes(SECRET));

  const plainHttp = await rejection(
    create({
      ALICLOUD_ACCESS_KEY: KEY_ID,
      ALICLOUD_SECRET_KEY: SECRET,
      ALICLOUD_API_URL: 'http://alidns.example',
    }),
  );
  assert.ok(plainHttp instanceof InvalidInputError);
  assert.match(plainHttp.message, /ALICLOUD_API_URL must be an https URL/);
  const badRole = await rejection(create({ ALICLOUD_RAM_ROLE: '../x' }));
  assert.ok(badRole instanceof InvalidInputError);
  assert.match(badRole.message, /ALICLOUD_RAM_ROLE must be a RAM role name/);
});

test("alidns: the definition documents lego's variables and the RAM actions", async () => {
  const { definition, settings } = await createDnsProvider('alidns', {
    env: { ALICLOUD_ACCESS_KEY: KEY_ID, ALICLOUD_SECRET_KEY: SECRET },
  });
  assert.equal(definition.title, 'Alibaba Cloud DNS');
  assert.equal(definition.envPrefix, 'ALICLOUD');
  const vars = new Map<string, EnvVarSpec>(definition.env.map((v: EnvVarSpec) => [v.name, v]));
  for (const name of ['ALICLOUD_SECRET_KEY', 'ALICLOUD_SECURITY_TOKEN'])
    assert.equal(vars.get(name)?.secret, true, name);
  assert.equal(vars.get('ALICLOUD_REGION_ID')?.default, 'cn-hangzhou');
  assert.equal(vars.get('ALICLOUD_API_URL')?.default, 'https://alidns.aliyuncs.com');
  assert.equal(vars.get('ALICLOUD_METADATA_URL')?.default, 'http://100.100.100.200');
  assert.ok(vars.has('ALICLOUD_RAM_ROLE') && vars.has('ALICLOUD_ACCESS_KEY'));
  for (const a of ['AddDomainRecord', 'DeleteDomainRecord', 'DescribeDomainRecords', 'DescribeDomains']) {
    assert.match(definition.permissions ?? '', new RegExp(`alidns:${a}\\b`));
  }
  assert.match(definition.example ?? '', /--dns alidns/);
  assert.match(definition.example ?? '', /'\*\.laeni\.cn'/);
  assert.equal(settings.ttl, 600);
});

test('fake Alidns: verifies signatures itself: replayed nonce, tampered query, stale date, unknown key', async () => {
  const f = await fake();
  const host = new URL(f.url).host;
  const send = (
    query: Record<string, string>,
    o: { date?: Date; nonce?: string; id?: string; tamper?: boolean } = {},
  ) => {
    const signed = signAcs3(
      {
        method: 'POST',
        host,
        query,
        headers: { 'x-acs-action': 'DescribeDomainRecords', 'x-acs-version': '2015-01-09' },
        body: '',
      },
      { accessKeyId: o.id ?? KEY_ID, accessKeySecret: new Secret(SECRET) },
      { date: o.date ?? new Date(), nonce: o.nonce ?? randomBytes(8).toString('hex') },
    );
    const qs = o.tamper ? signed.queryString.replace('laeni.cn', 'LAENI.cn') : signed.queryString;
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = httpsRequest(`${f.url}/?${qs}`, {
        method: 'POST',
        headers: signed.headers,
        ca: ca.rootPem,
        agent: false,
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });
  };
  const q = { DomainName: 'laeni.cn', PageSize: '10' };

  const ok = await send(q, { nonce: 'nonce-1' });
  assert.equal(ok.status, 200);
  assert.equal(typeof ok.body.TotalCount, 'number');
  const replay = await send(q, { nonce: 'nonce-1' });
  assert.deepEqual([replay.status, replay.body.Code], [400, 'SignatureNonceUsed']);
  const tampered = await send(q, { tamper: true });
  assert.deepEqual([tampered.status, tampered.body.Code], [400, 'SignatureDoesNotMatch']);
  const stale = await send(q, { date: new Date(Date.now() - 16 * 60_000) });
  assert.deepEqual([stale.status, stale.body.Code], [400, 'InvalidTimeStamp.Expired']);
  const unknown = await send(q, { id: 'LTAI5tUnknown' });
  assert.deepEqual([unknown.status, unknown.body.Code], [404, 'InvalidAccessKeyId.NotFound']);
  for (const r of [replay, tampered, stale, unknown]) {
    assert.deepEqual(Object.keys(r.body).sort(), ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
  }
});
