import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { FakeAwsMetadata } from '../../support/fake-cloud/aws-metadata.ts';
import {
  type FakeLightsail,
  lightsailError,
  startFakeLightsail,
} from '../../support/fake-cloud/lightsail.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The lightsail provider (REST layer, SigV4 and the AWS credential chain from route53) against a fake of
// the Lightsail JSON API that checks every signature.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}/${randomBytes(15).toString('base64url')}`;
const KEY_ID = 'AKIAACMEKITLIGHTSAIL';
const SECRET = secret('ls-secret');
const TEMP_ID = 'ASIAACMEKITTEMPORARY';
const TEMP_SECRET = secret('ls-temp-secret');
const TOKEN = secret('ls-session-token');
const LEGO_ID = 'AKIAACMEKITLEGOPOLICY';
const LEGO_SECRET = secret('ls-lego-secret');
const PROFILE_ID = 'AKIAACMEKITPROFILE01';
const PROFILE_SECRET = secret('ls-profile-secret');
const WRONG = secret('ls-wrong');
const CANARIES = [SECRET, TEMP_SECRET, TOKEN, LEGO_SECRET, PROFILE_SECRET, WRONG];

let ca: TestCa;
let fake: FakeLightsail;
let metadata: FakeAwsMetadata;
let dir: string;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  dir = await mkdtemp(join(tmpdir(), 'acmekit-lightsail-'));
  fake = await startFakeLightsail({
    ca,
    domains: ['example.test', 'other.test'],
    keys: [
      { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      { accessKeyId: TEMP_ID, secretAccessKey: TEMP_SECRET, sessionToken: TOKEN },
      // The policy lego documents: no GetDomain.
      {
        accessKeyId: LEGO_ID,
        secretAccessKey: LEGO_SECRET,
        actions: ['lightsail:CreateDomainEntry', 'lightsail:DeleteDomainEntry'],
      },
      { accessKeyId: PROFILE_ID, secretAccessKey: PROFILE_SECRET },
    ],
  });
  metadata = await FakeAwsMetadata.start(() => {
    const key = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: randomBytes(30).toString('base64'),
      expiresAt: Date.now() + 3600_000,
    };
    fake.addKey(key);
    return key;
  });
  await writeFile(
    join(dir, 'credentials'),
    `[default]\naws_access_key_id = AKIAWRONGDEFAULT0000\naws_secret_access_key = nope\n\n[dns]\naws_access_key_id = ${PROFILE_ID}\naws_secret_access_key = ${PROFILE_SECRET}\n`,
  );
});
after(async () => {
  await fake?.close();
  await metadata?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('lightsail', {
    env: {
      AWS_ENDPOINT_URL_LIGHTSAIL: fake.endpoint,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}
const keys = (id = KEY_ID, key = SECRET): EnvSource => ({
  AWS_ACCESS_KEY_ID: id,
  AWS_SECRET_ACCESS_KEY: key,
});

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 120,
  };
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
  name: 'lightsail (fake Lightsail API)',
  zone: ZONE,
  create: () => provider(keys()),
  createWithBadCredentials: () => provider(keys(KEY_ID, WRONG)),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('lightsail: AWS JSON 1.1 POSTs signed SigV4 for lightsail/us-east-1; quoted TXT targets; delete by name, type and target', async () => {
  const p = await provider(keys());
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => q.headers['x-amz-target']),
    [
      'Lightsail_20161128.GetDomain',
      'Lightsail_20161128.CreateDomainEntry',
      'Lightsail_20161128.DeleteDomainEntry',
    ],
  );
  for (const q of sent) {
    assert.equal(q.headers['content-type'], 'application/x-amz-json-1.1');
    assert.match(
      String(q.headers.authorization),
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${KEY_ID}/\\d{8}/us-east-1/lightsail/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$`,
      ),
    );
  }
  assert.deepEqual(JSON.parse(sent[0]!.body), { domainName: 'example.test' });
  const entry = { name: r.fqdn.slice(0, -1), target: `"${r.value}"`, type: 'TXT' };
  assert.deepEqual(JSON.parse(sent[1]!.body), { domainName: 'example.test', domainEntry: entry });
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    domainName: 'example.test',
    domainEntry: { name: entry.name, type: 'TXT', target: entry.target },
  });

  // After a restart the entry is found with GetDomain and deleted by its id.
  const apex = record(null);
  await p.present(apex, live());
  const mark = fake.requests.length;
  await (await provider(keys())).cleanup(apex, live());
  const del = JSON.parse(
    fake.requests.slice(mark).find((q) => String(q.headers['x-amz-target']).endsWith('DeleteDomainEntry'))!
      .body,
  );
  assert.match(del.domainEntry.id, /^-\d+$/);
  assert.deepEqual(await fake.values(ZONE), []);

  // DNS_ZONE names the Lightsail domain whatever zone the solver found.
  const sub = { ...record('sub'), zone: 'sub.example.test.' };
  const z = await provider({ ...keys(), DNS_ZONE: 'example.test' });
  await z.present(sub, live());
  assert.deepEqual(await fake.values(sub.fqdn), [sub.value]);
  await z.cleanup(sub, live());
});

test("lightsail: lego's policy (no GetDomain) still presents and cleans up, even after a restart", async () => {
  const p = await provider(keys(LEGO_ID, LEGO_SECRET));
  const r = record('lego');
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  assert.match(logLines.join('\n'), /may not call lightsail:GetDomain/);
  await (await provider(keys(LEGO_ID, LEGO_SECRET))).cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  await (await provider(keys(LEGO_ID, LEGO_SECRET))).cleanup(record(), live());
});

test('lightsail: the credential chain: session tokens, a profile of the shared file, EC2 instance metadata', async () => {
  const temp = await provider({ ...keys(TEMP_ID, TEMP_SECRET), AWS_SESSION_TOKEN: TOKEN });
  const r1 = record('temp');
  await temp.present(r1, live());
  assert.equal(fake.requests.at(-1)!.headers['x-amz-security-token'], TOKEN);
  await temp.cleanup(r1, live());

  const profile = await provider({
    AWS_PROFILE: 'dns',
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
  });
  const r2 = record('profile');
  await profile.present(r2, live());
  assert.match(String(fake.requests.at(-1)!.headers.authorization), new RegExp(`Credential=${PROFILE_ID}/`));
  await profile.cleanup(r2, live());

  const vm = await provider({
    AWS_EC2_METADATA_DISABLED: 'false',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: metadata.url,
  });
  const r3 = record('vm');
  await vm.present(r3, live());
  assert.deepEqual(await fake.values(r3.fqdn), [r3.value]);
  await vm.cleanup(r3, live());

  // As for route53: a configuration error, named before any request.
  await assert.rejects((await provider({})).present(record(), live()), (e: unknown) => {
    assert.ok(e instanceof InvalidInputError);
    assert.match(e.message, /^lightsail: no AWS credentials found; tried: environment variables/);
    return true;
  });
});

test('lightsail: refused keys, missing rights and unknown domains give actionable errors', async () => {
  const wrong = await failure((await provider(keys(KEY_ID, WRONG))).present(record(), live()));
  assert.equal(wrong.status, 403);
  assert.match(
    wrong.message,
    /credentials refused while trying to .*InvalidSignatureException.*check the AWS credentials/,
  );
  const unknown = await failure(
    (await provider(keys('AKIANOBODY0000000000', SECRET))).present(record(), live()),
  );
  assert.match(unknown.message, /UnrecognizedClientException/);
  const missing = await failure((await provider(keys())).present(record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /domain nothere\.test is not a Lightsail DNS zone of this AWS account.*DNS_ZONE/,
  );
  await assert.rejects(
    provider({ AWS_ACCESS_KEY_ID: KEY_ID }),
    /^.*lightsail: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/,
  );
  await assert.rejects(
    provider({ ...keys(), LIGHTSAIL_REGION: 'mars' }),
    /LIGHTSAIL_REGION must look like us-east-1/,
  );
});

test('lightsail: ThrottlingException (HTTP 400) and 5xx are retried, then reported', async () => {
  const p = await provider(keys());
  fake.failNext(lightsailError('ThrottlingException', 'Rate exceeded'), 2);
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(lightsailError('ServiceException', 'Internal failure', 500), 4);
  const err = await failure(p.present(record(), live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /Amazon Lightsail API error while trying to .*ServiceException: Internal failure.*try again/,
  );
});
