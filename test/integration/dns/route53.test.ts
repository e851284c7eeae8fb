import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider, TxtRecord } from '../../../src/dns/provider.ts';
import { isZoneFinder, relativeName } from '../../../src/dns/provider.ts';
import { parseAwsError } from '../../../src/dns/providers/route53/aws-error.ts';
import { normaliseName, quoteTxt, unquoteTxt } from '../../../src/dns/providers/route53/txt.ts';
import { parseXml, textAt } from '../../../src/dns/providers/route53/xml.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { DnsProviderError } from '../../../src/errors/dns.ts';
import { systemClock } from '../../../src/internal/clock.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { FakeAwsMetadata } from '../../support/fake-cloud/aws-metadata.ts';
import { FakeRoute53 } from '../../support/fake-cloud/route53.ts';
import { freePort } from '../../support/free-port.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

const ZONE = 'example.test.';
const KEY_ID = 'ASIAACMEKITTEST00001';
const SECRET = `secret-canary-${randomBytes(12).toString('hex')}`;
const TOKEN = `token-canary-${randomBytes(24).toString('hex')}`;

let ca: TestCa;
let fake: FakeRoute53;
let metadata: FakeAwsMetadata;
let dir: string;
let zoneId: string;
let closedPort: number;
const logLines: string[] = [];
const logger: Logger = {
  debug: (o, m) => logLines.push(`${m} ${JSON.stringify(o)}`),
  info: (o, m) => logLines.push(`${m} ${JSON.stringify(o)}`),
  warn: (o, m) => logLines.push(`${m} ${JSON.stringify(o)}`),
  error: (o, m) => logLines.push(`${m} ${JSON.stringify(o)}`),
};

before(async () => {
  ca = await createTestCa();
  fake = await FakeRoute53.start(ca);
  metadata = await FakeAwsMetadata.start(() => fake.mintKey());
  dir = await mkdtemp(join(tmpdir(), 'acmekit-route53-'));
  closedPort = await freePort();
  zoneId = fake.addZone(ZONE);
  fake.addKey({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN });
});

after(async () => {
  await fake?.close();
  await metadata?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

/** Loopback only: endpoints point at the fakes, shared files at nothing, instance metadata at a closed port. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_ROUTE_53: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${closedPort}`,
    AWS_POLLING_INTERVAL: '20ms',
    AWS_PROPAGATION_TIMEOUT: '5s',
    ...extra,
  };
}

const goodKeys = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN };

async function provider(
  extra: Record<string, string> = {},
  opts: { clock?: typeof systemClock } = {},
): Promise<DnsProvider> {
  const loaded = await createDnsProvider('route53', {
    env: baseEnv(extra),
    caBundle: ca.rootPem,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return loaded.provider;
}

let n = 0;
function rec(
  label: string,
  zone = ZONE,
  value = `v${(n++).toString().padStart(3, '0')}${randomBytes(20).toString('base64url')}`,
): TxtRecord {
  const fqdn = `_acme-challenge.${label}.${zone}`;
  return { fqdn, zone, name: relativeName(fqdn, zone), value: value.slice(0, 43), ttl: 60 };
}
const live = (): AbortSignal => new AbortController().signal;

/** present() failing: the error, checked to be a DnsProviderError without any secret in it. */
async function presentError(
  p: DnsProvider,
  r: TxtRecord,
  secrets: readonly string[] = [SECRET, TOKEN],
): Promise<DnsProviderError> {
  const err = await p.present(r, live()).then(
    () => assert.fail('present succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DnsProviderError, `expected DnsProviderError, got ${String(err)}`);
  assert.match(err.message, /^route53: present: /);
  const text = [String(err), err.stack ?? '', JSON.stringify(err), String((err as Error).cause ?? '')].join(
    '\n',
  );
  for (const s of secrets) assert.ok(!text.includes(s), 'a secret leaked into the error');
  assert.ok(
    !/Signature=|Credential=|x-amz-security-token/i.test(text),
    'request headers leaked into the error',
  );
  return err;
}

dnsProviderContract({
  name: 'route53 (fake API)',
  zone: ZONE,
  create: () => provider(goodKeys),
  values: async (fqdn) => fake.values(fqdn),
  createWithBadCredentials: () => provider({ ...goodKeys, AWS_SECRET_ACCESS_KEY: 'not-the-right-secret' }),
  canaries: [SECRET, TOKEN],
  logs: () => logLines.join('\n'),
});

describe('route53: record sets', () => {
  test('all values of a name live in one TXT record set, quoted, with the record TTL', async () => {
    const p = await provider(goodKeys);
    const a = rec('one');
    const b = { ...rec('one'), fqdn: a.fqdn, name: a.name };
    await p.present(a, live());
    await p.present(b, live());
    const sets = fake.txtSets(a.fqdn);
    assert.equal(sets.length, 1);
    assert.equal(sets[0]!.zoneId, zoneId);
    assert.equal(sets[0]!.ttl, 60);
    assert.deepEqual([...sets[0]!.stored].sort(), [`"${a.value}"`, `"${b.value}"`].sort());
    await p.cleanup(a, live());
    assert.deepEqual(fake.txtSets(a.fqdn)[0]!.stored, [`"${b.value}"`]);
    await p.cleanup(b, live());
    assert.deepEqual(fake.txtSets(a.fqdn), []);
  });

  test('values presented in parallel at one name (example.com and *.example.com) all survive', async () => {
    const p = await provider({ ...goodKeys, AWS_WAIT_FOR_RECORD_SETS_CHANGED: 'false' });
    const first = rec('parallel');
    const others = [1, 2, 3].map(() => ({ ...rec('parallel'), fqdn: first.fqdn, name: first.name }));
    await Promise.all([first, ...others].map((r) => p.present(r, live())));
    assert.deepEqual(fake.values(first.fqdn).sort(), [first, ...others].map((r) => r.value).sort());
    await Promise.all([first, ...others].map((r) => p.cleanup(r, live())));
    assert.deepEqual(fake.txtSets(first.fqdn), []);
  });

  test('values written by someone else are kept, and removing the last value DELETEs the exact set', async () => {
    const p = await provider(goodKeys);
    const r = rec('foreign');
    fake.putTxt(zoneId, r.fqdn, 300, ['"v=spf1 -all"', '"split" "string"']);
    await p.present(r, live());
    assert.deepEqual(fake.values(r.fqdn).sort(), ['splitstring', 'v=spf1 -all', r.value].sort());
    assert.deepEqual(fake.txtSets(r.fqdn)[0]!.stored.slice(0, 2), ['"v=spf1 -all"', '"split" "string"']);
    assert.equal(fake.txtSets(r.fqdn)[0]!.ttl, 60, 'present wrote the record TTL');
    fake.putTxt(zoneId, r.fqdn, 300, [...fake.txtSets(r.fqdn)[0]!.stored]);
    await p.cleanup(r, live());
    assert.deepEqual(fake.txtSets(r.fqdn)[0]!.stored, ['"v=spf1 -all"', '"split" "string"']);
    assert.equal(fake.txtSets(r.fqdn)[0]!.ttl, 300, 'cleanup keeps the TTL the set has');
  });

  test('cleanup DELETE that races another writer reads the set again and removes only its value', async () => {
    const p = await provider(goodKeys);
    const r = rec('race');
    await p.present(r, live());
    // Another writer adds a value between our read and our DELETE: Route 53 refuses the stale DELETE.
    fake.onNextChange(() => fake.putTxt(zoneId, r.fqdn, 60, [`"${r.value}"`, '"late-arrival"']));
    const refusedBefore = fake.calls.filter(
      (c) => c.action === 'ChangeResourceRecordSets' && c.status === 400,
    ).length;
    await p.cleanup(r, live());
    assert.deepEqual(fake.values(r.fqdn), ['late-arrival']);
    const refused = fake.calls.filter(
      (c) => c.action === 'ChangeResourceRecordSets' && c.status === 400,
    ).length;
    assert.equal(
      refused - refusedBefore,
      1,
      'the stale DELETE was refused once, then the set was read again',
    );
  });

  test('present waits until GetChange reports INSYNC; with waiting off it returns at once', async () => {
    fake.insyncAfterPolls = 3;
    try {
      const before = fake.count('GetChange');
      const p = await provider(goodKeys);
      const r = rec('insync');
      await p.present(r, live());
      assert.equal(fake.count('GetChange') - before, 3, 'polled until the third answer said INSYNC');
      const noWait = await provider({ ...goodKeys, AWS_WAIT_FOR_RECORD_SETS_CHANGED: 'false' });
      const mid = fake.count('GetChange');
      await noWait.cleanup(r, live());
      assert.equal(fake.count('GetChange'), mid);
    } finally {
      fake.insyncAfterPolls = 2;
    }
  });

  test('a change that never gets INSYNC fails after the propagation timeout with what to do', async () => {
    fake.insyncAfterPolls = 1_000_000;
    try {
      const p = await provider({ ...goodKeys, AWS_PROPAGATION_TIMEOUT: '150ms' });
      const err = await presentError(p, rec('never'));
      assert.match(err.message, /still PENDING/);
      assert.match(err.message, /AWS_WAIT_FOR_RECORD_SETS_CHANGED=false/);
    } finally {
      fake.insyncAfterPolls = 2;
    }
  });

  test('an abort while waiting for INSYNC rejects promptly', async () => {
    fake.insyncAfterPolls = 1_000_000;
    try {
      const p = await provider(goodKeys);
      const ac = new AbortController();
      const started = Date.now();
      const pending = p.present(rec('abort-wait'), ac.signal);
      setTimeout(() => ac.abort(new Error('stop')), 100);
      await assert.rejects(pending);
      assert.ok(Date.now() - started < 1500);
    } finally {
      fake.insyncAfterPolls = 2;
    }
  });
});

describe('route53: retries', () => {
  for (const [what, refusal] of [
    ['Throttling (400)', { status: 400, code: 'Throttling', message: 'Rate exceeded' }],
    [
      'PriorRequestNotComplete (400)',
      {
        status: 400,
        code: 'PriorRequestNotComplete',
        message: 'The request was rejected because Route 53 was still processing a prior request.',
      },
    ],
    ['ServiceUnavailable (503)', { status: 503, code: 'ServiceUnavailable', message: 'Service Unavailable' }],
  ] as const) {
    test(`${what} is retried with backoff, then the change goes through`, async () => {
      const p = await provider({ ...goodKeys, AWS_WAIT_FOR_RECORD_SETS_CHANGED: 'false' });
      const r = rec(`throttled-${refusal.code.toLowerCase()}`);
      const before = fake.calls.filter((c) => c.action === 'ChangeResourceRecordSets').length;
      fake.failNext('ChangeResourceRecordSets', 2, refusal);
      await p.present(r, live());
      const changes = fake.calls.filter((c) => c.action === 'ChangeResourceRecordSets').slice(before);
      assert.deepEqual(
        changes.map((c) => c.status),
        [refusal.status, refusal.status, 200],
      );
      assert.deepEqual(fake.values(r.fqdn), [r.value]);
      await p.cleanup(r, live());
    });
  }

  test('throttling beyond AWS_MAX_RETRIES gives an error that names the setting', async () => {
    const p = await provider({ ...goodKeys, AWS_MAX_RETRIES: '1' });
    fake.failNext('ListResourceRecordSets', 2, { status: 400, code: 'Throttling', message: 'Rate exceeded' });
    const err = await presentError(p, rec('throttled-out'));
    assert.match(err.message, /Throttling/);
    assert.match(err.message, /AWS_MAX_RETRIES/);
    assert.equal(err.status, 400);
  });
});

describe('route53: error replies become clear DnsProviderErrors', () => {
  test('unknown access key → credentials refused, InvalidClientTokenId', async () => {
    const p = await provider({ AWS_ACCESS_KEY_ID: 'AKIANOTKNOWN00000000', AWS_SECRET_ACCESS_KEY: SECRET });
    const err = await presentError(p, rec('bad-key'));
    assert.match(err.message, /credentials refused/);
    assert.match(err.message, /InvalidClientTokenId/);
    assert.match(err.message, /AWS_ACCESS_KEY_ID/);
    assert.equal(err.status, 403);
  });

  test('wrong secret → signature does not match, points at AWS_SECRET_ACCESS_KEY', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const p = await provider({ ...goodKeys, AWS_SECRET_ACCESS_KEY: wrong });
    const err = await presentError(p, rec('bad-secret'), [SECRET, TOKEN, wrong]);
    assert.match(err.message, /SignatureDoesNotMatch/);
    assert.match(err.message, /AWS_SECRET_ACCESS_KEY/);
  });

  test('a clock 10 minutes slow → the signature expired: says to fix the system time', async () => {
    const slow = { now: () => Date.now() - 10 * 60_000, sleep: systemClock.sleep };
    const p = await provider(goodKeys, { clock: slow });
    const err = await presentError(p, rec('skew'));
    assert.match(err.message, /clock/);
    assert.match(err.message, /Signature expired/);
    assert.match(err.message, /NTP/);
  });

  test('missing IAM permission → AccessDenied names the route53 action', async () => {
    const limited = fake.addKey({
      accessKeyId: 'AKIALIMITED000000001',
      secretAccessKey: `limited-${randomBytes(8).toString('hex')}`,
    });
    fake.deny(limited.accessKeyId, 'ChangeResourceRecordSets');
    const p = await provider({
      AWS_ACCESS_KEY_ID: limited.accessKeyId,
      AWS_SECRET_ACCESS_KEY: limited.secretAccessKey,
    });
    const err = await presentError(p, rec('denied'), [limited.secretAccessKey]);
    assert.match(err.message, /missing IAM permission route53:ChangeResourceRecordSets/);
    assert.equal(err.status, 403);
  });

  test('AWS_HOSTED_ZONE_ID of a zone that does not exist → NoSuchHostedZone, check the variable', async () => {
    const p = await provider({ ...goodKeys, AWS_HOSTED_ZONE_ID: '/hostedzone/ZDOESNOTEXIST' });
    const err = await presentError(p, rec('nozone'));
    assert.match(err.message, /ZDOESNOTEXIST/);
    assert.match(err.message, /NoSuchHostedZone/);
    assert.match(err.message, /AWS_HOSTED_ZONE_ID/);
  });

  test('a name outside every hosted zone → no hosted zone, with the names looked for', async () => {
    const p = await provider(goodKeys);
    const err = await presentError(p, rec('x', 'elsewhere.test.'));
    assert.match(err.message, /no public hosted zone/);
    assert.match(err.message, /elsewhere\.test\./);
    assert.match(err.message, /AWS_HOSTED_ZONE_ID/);
  });

  test('InvalidChangeBatch → Route 53 refused the change, with its messages', async () => {
    const p = await provider(goodKeys);
    fake.rejectNextChange([
      'RRSet of type TXT with DNS name _acme-challenge.x.example.test. is not permitted because a conflicting RRSet of type CNAME exists',
    ]);
    const err = await presentError(p, rec('conflict'));
    assert.match(err.message, /refused the change/);
    assert.match(err.message, /conflicting RRSet of type CNAME/);
    assert.equal(err.status, 400);
  });

  test('an unreachable endpoint → could not reach Route 53', async () => {
    const p = await provider({
      ...goodKeys,
      AWS_ENDPOINT_URL_ROUTE_53: `https://127.0.0.1:${closedPort}`,
      AWS_MAX_RETRIES: '0',
    });
    const err = await presentError(p, rec('down'));
    assert.match(err.message, /could not reach Route 53/);
  });
});

describe('route53: hosted zones', () => {
  test('the longest matching zone wins; private zones only with AWS_PRIVATE_ZONE=true; findZone agrees', async () => {
    const sub = fake.addZone('sub.example.test.');
    const priv = fake.addZone('example.test.', { private: true });
    const p = await provider(goodKeys);
    const r = rec('a', 'sub.example.test.');
    await p.present(r, live());
    assert.equal(fake.txtSets(r.fqdn)[0]!.zoneId, sub);
    assert.ok(isZoneFinder(p));
    assert.equal(await p.findZone(r.fqdn, live()), 'sub.example.test.');
    assert.equal(await p.findZone('_acme-challenge.www.example.test.', live()), 'example.test.');
    await p.cleanup(r, live());

    const privately = await provider({ ...goodKeys, AWS_PRIVATE_ZONE: 'true' });
    const q = rec('inside');
    await privately.present(q, live());
    assert.equal(fake.txtSets(q.fqdn)[0]!.zoneId, priv);
    await privately.cleanup(q, live());
  });

  test('AWS_HOSTED_ZONE_ID skips the lookup; findZone reads the zone name from its apex', async () => {
    const before = fake.count('ListHostedZonesByName');
    const p = await provider({ ...goodKeys, AWS_HOSTED_ZONE_ID: zoneId });
    const r = rec('pinned');
    await p.present(r, live());
    await p.cleanup(r, live());
    assert.equal(fake.count('ListHostedZonesByName'), before);
    assert.ok(isZoneFinder(p));
    assert.equal(await p.findZone(r.fqdn, live()), ZONE);
  });
});

describe('route53: credential sources', () => {
  test('shared credentials file with AWS_PROFILE (explicit profile beats environment keys)', async () => {
    const key = fake.addKey({
      accessKeyId: 'AKIAPROFILEOPS000001',
      secretAccessKey: `ops-${randomBytes(8).toString('hex')}`,
    });
    const credentials = join(dir, 'credentials');
    await writeFile(
      credentials,
      `[default]\naws_access_key_id = AKIANOTKNOWN00000000\naws_secret_access_key = nope\n\n# ops account\n[ops]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`,
    );
    const p = await provider({
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_PROFILE: 'ops',
      AWS_ACCESS_KEY_ID: 'AKIANOTKNOWN00000000',
      AWS_SECRET_ACCESS_KEY: 'ignored',
    });
    const r = rec('profile');
    await p.present(r, live());
    assert.equal(fake.calls.at(-1)?.keyId, key.accessKeyId);
    await p.cleanup(r, live());
    assert.deepEqual(fake.values(r.fqdn), []);
  });

  test('a profile with role_arn and source_profile in the config file assumes the role through STS', async () => {
    const base = fake.addKey({
      accessKeyId: 'AKIABASEPROFILE00001',
      secretAccessKey: `base-${randomBytes(8).toString('hex')}`,
    });
    fake.sts.addRole({
      arn: 'arn:aws:iam::123456789012:role/dns',
      trusted: [base.accessKeyId],
      externalId: 'ext-1',
    });
    const credentials = join(dir, 'credentials-base');
    const config = join(dir, 'config-role');
    await writeFile(
      credentials,
      `[base]\naws_access_key_id=${base.accessKeyId}\naws_secret_access_key=${base.secretAccessKey}\n`,
    );
    await writeFile(
      config,
      '[profile dns]\nrole_arn = arn:aws:iam::123456789012:role/dns\nsource_profile = base\nexternal_id = ext-1\nregion = us-east-1\n',
    );
    const p = await provider({
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: config,
      AWS_PROFILE: 'dns',
    });
    const r = rec('profile-role');
    await p.present(r, live());
    const call = fake.sts.calls.at(-1)!;
    assert.equal(call.action, 'AssumeRole');
    assert.equal(call.signedBy, base.accessKeyId);
    assert.equal(call.externalId, 'ext-1');
    assert.match(fake.calls.at(-1)?.keyId ?? '', /^ASIA/);
    await p.cleanup(r, live());
  });

  test('web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN through STS, fetched once and cached', async () => {
    const jwt = `eyJ.${randomBytes(32).toString('base64url')}.sig`;
    fake.sts.addRole({ arn: 'arn:aws:iam::123456789012:role/irsa', webIdentityToken: jwt });
    const tokenFile = join(dir, 'web-identity-token');
    await writeFile(tokenFile, `${jwt}\n`);
    const before = fake.sts.calls.length;
    const p = await provider({
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/irsa',
      AWS_ROLE_SESSION_NAME: 'acmekit-test',
    });
    const r = rec('irsa');
    await p.present(r, live());
    await p.cleanup(r, live());
    const calls = fake.sts.calls.slice(before);
    assert.deepEqual(
      calls.map((c) => [c.action, c.roleArn, c.sessionName]),
      [['AssumeRoleWithWebIdentity', 'arn:aws:iam::123456789012:role/irsa', 'acmekit-test']],
    );
    assert.match(fake.calls.at(-1)?.keyId ?? '', /^ASIA/);
    assert.ok(!logLines.join('\n').includes(jwt), 'the web identity token is never logged');
  });

  test('web identity token refused by STS → DnsProviderError naming the token file, not the token', async () => {
    const tokenFile = join(dir, 'stale-token');
    const stale = `eyJ.${randomBytes(16).toString('base64url')}.stale`;
    await writeFile(tokenFile, stale);
    const p = await provider({
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/irsa',
    });
    const err = await presentError(p, rec('irsa-bad'), [stale]);
    assert.match(err.message, /InvalidIdentityToken/);
    assert.ok(err.message.includes(tokenFile));
  });

  test('AWS_ASSUME_ROLE_ARN with AWS_EXTERNAL_ID: environment keys assume the role', async () => {
    fake.sts.addRole({ arn: 'arn:aws:iam::123456789012:role/lego', externalId: 'shared-secret-id' });
    const before = fake.sts.calls.length;
    const p = await provider({
      ...goodKeys,
      AWS_ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/lego',
      AWS_EXTERNAL_ID: 'shared-secret-id',
    });
    const r = rec('assume');
    await p.present(r, live());
    await p.cleanup(r, live());
    const calls = fake.sts.calls.slice(before);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.signedBy, KEY_ID);
    assert.match(fake.calls.at(-1)?.keyId ?? '', /^ASIA/);
    assert.notEqual(fake.calls.at(-1)?.keyId, KEY_ID);
  });

  test('container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI + token file)', async () => {
    const tokenFile = join(dir, 'pod-identity-token');
    const podToken = `pod-${randomBytes(12).toString('hex')}`;
    await writeFile(tokenFile, podToken);
    metadata.containerToken = podToken;
    try {
      const before = metadata.calls.length;
      const p = await provider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${metadata.url}/container/creds`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      });
      const r = rec('container');
      await p.present(r, live());
      await p.cleanup(r, live());
      assert.deepEqual(
        metadata.calls.slice(before).map((c) => [c.method, c.path, c.status]),
        [['GET', '/container/creds', 200]],
      );
      assert.match(fake.calls.at(-1)?.keyId ?? '', /^ASIA/);

      await writeFile(tokenFile, 'wrong-token');
      const refused = await provider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${metadata.url}/container/creds`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      });
      const err = await presentError(refused, rec('container-bad'), ['wrong-token', podToken]);
      assert.match(err.message, /HTTP 401/);
      assert.match(err.message, /AWS_CONTAINER_AUTHORIZATION_TOKEN/);
    } finally {
      metadata.containerToken = undefined;
    }
  });

  test('EC2 instance metadata (IMDSv2): token PUT, role name, then the role credentials', async () => {
    const before = metadata.calls.length;
    const p = await provider({ AWS_EC2_METADATA_SERVICE_ENDPOINT: metadata.url });
    const r = rec('imds');
    await p.present(r, live());
    await p.cleanup(r, live());
    assert.deepEqual(
      metadata.calls.slice(before).map((c) => [c.method, c.path, c.status]),
      [
        ['PUT', '/latest/api/token', 200],
        ['GET', '/latest/meta-data/iam/security-credentials/', 200],
        ['GET', '/latest/meta-data/iam/security-credentials/acmekit-test-role', 200],
      ],
    );
    assert.match(fake.calls.at(-1)?.keyId ?? '', /^ASIA/);
  });

  test('no credentials anywhere → InvalidInputError listing every source tried', async () => {
    const started = Date.now();
    const p = await provider({});
    const err = await p.present(rec('nocreds'), live()).then(
      () => assert.fail('present succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, `got ${String(err)}`);
    assert.match(err.message, /^route53: no AWS credentials found/);
    for (const source of [
      'environment variables',
      'web identity',
      'shared files',
      'container endpoint',
      'EC2 instance metadata',
    ]) {
      assert.ok(err.message.includes(source), `mentions ${source}`);
    }
    assert.match(err.message, /AWS_ACCESS_KEY_ID/);
    assert.ok(Date.now() - started < 3000, 'fails fast');
  });

  test('half-set keys fail before any request', async () => {
    await assert.rejects(
      createDnsProvider('route53', { env: baseEnv({ AWS_ACCESS_KEY_ID: KEY_ID }), caBundle: ca.rootPem }),
      (e: unknown) => e instanceof InvalidInputError && /AWS_SECRET_ACCESS_KEY is not/.test(e.message),
    );
    await assert.rejects(
      createDnsProvider('route53', {
        env: baseEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://198.51.100.7/creds' }),
        caBundle: ca.rootPem,
      }),
      (e: unknown) => e instanceof InvalidInputError && /loopback/.test(e.message),
    );
  });
});

describe('route53: wire format helpers', () => {
  test('XML: entities, numeric references, CDATA and namespace prefixes; a DOCTYPE is refused', () => {
    const doc = parseXml(
      '<?xml version="1.0"?>\n<!-- c --><r:A xmlns:r="urn:x"><B>&quot;a&amp;b&quot; &#65;&#x42;</B><C><![CDATA[<raw>]]></C><D/></r:A>',
    );
    assert.equal(doc.name, 'A');
    assert.equal(textAt(doc, 'B'), '"a&b" AB');
    assert.equal(textAt(doc, 'C'), '<raw>');
    assert.equal(textAt(doc, 'D'), '');
    assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), /DOCTYPE/);
    assert.throws(() => parseXml('<a><b></a>'));
  });

  test('AWS error documents: ErrorResponse, InvalidChangeBatch; anything else is not parsed', () => {
    assert.deepEqual(
      parseAwsError(
        '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate  exceeded</Message></Error></ErrorResponse>',
      ),
      { code: 'Throttling', message: 'Rate exceeded', messages: [] },
    );
    assert.deepEqual(
      parseAwsError(
        '<InvalidChangeBatch><Messages><Message>m1</Message><Message>m2</Message></Messages></InvalidChangeBatch>',
      ),
      {
        code: 'InvalidChangeBatch',
        message: 'm1; m2',
        messages: ['m1', 'm2'],
      },
    );
    assert.equal(parseAwsError('<html><body>502 Bad Gateway</body></html>'), undefined);
    assert.equal(parseAwsError(''), undefined);
  });

  test('TXT values are quoted as Route 53 wants them and read back, long values split at 255 bytes', () => {
    assert.equal(quoteTxt('abc'), '"abc"');
    assert.equal(quoteTxt('a"b\\c'), '"a\\"b\\\\c"');
    const long = 'x'.repeat(300);
    assert.equal(quoteTxt(long), `"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
    for (const v of ['abc', 'a"b\\c', long, 'caf\u00e9']) assert.equal(unquoteTxt(quoteTxt(v)), v);
    assert.equal(unquoteTxt('"\\101\\102"'), 'AB');
    assert.equal(normaliseName('\\052.Example.COM'), '*.example.com.');
  });
});
