import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeTencent, startFakeTencent, tencentError } from '../../support/fake-cloud/tencentcloud.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// The tencentcloud provider on the REST layer against a fake of the DNSPod API 3.0 that recomputes
// every TC3-HMAC-SHA256 signature.

const ZONE = 'example.test.';
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
const ID = 'AKIDgoodgoodgoodgoodgoodgoodgood1234';
const KEY = secret('tc-key');
const TEMP_ID = 'AKIDtemptemptemptemptemptemptemp5678';
const TEMP_KEY = secret('tc-temp-key');
const TOKEN = secret('tc-session-token');
const READER_ID = 'AKIDreaderreaderreaderreaderreade999';
const READER_KEY = secret('tc-reader-key');
const WRONG = secret('tc-wrong-key');
const CANARIES = [KEY, TEMP_KEY, TOKEN, READER_KEY, WRONG];

let ca: TestCa;
let fake: FakeTencent;
const logLines: string[] = [];
const logger: Logger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

before(async () => {
  ca = await createTestCa();
  fake = await startFakeTencent({
    ca,
    // Enough domains that the zone is on a later page.
    domains: ['a.test', 'b.test', 'c.test', 'example.test'],
    keys: {
      [ID]: { secretKey: KEY },
      [TEMP_ID]: { secretKey: TEMP_KEY, token: TOKEN },
      [READER_ID]: { secretKey: READER_KEY, actions: ['DescribeDomainList', 'DescribeRecordList'] },
    },
    maxLimit: 2,
  });
});
after(async () => {
  await fake?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

async function provider(env: EnvSource): Promise<DnsProvider> {
  const loaded = await createDnsProvider('tencentcloud', {
    env: { TENCENTCLOUD_API_URL: fake.apiUrl, ...env },
    caBundle: ca.rootPem,
    logger,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  return loaded.provider;
}
const good = () => provider({ TENCENTCLOUD_SECRET_ID: ID, TENCENTCLOUD_SECRET_KEY: KEY });

let n = 0;
function record(host: string | null = `t${++n}`, zone = ZONE): TxtRecord {
  const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
  return {
    fqdn,
    zone,
    name: relativeName(fqdn, zone),
    value: randomBytes(32).toString('base64url'),
    ttl: 600,
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
  name: 'tencentcloud (fake DNSPod API)',
  zone: ZONE,
  create: good,
  createWithBadCredentials: () => provider({ TENCENTCLOUD_SECRET_ID: ID, TENCENTCLOUD_SECRET_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => logLines.join('\n'),
});

test('tencentcloud: signed POSTs to "/" with X-TC-* headers; the domain found across pages; lego\'s four actions', async () => {
  const p = await good();
  const r = record('shape');
  const from = fake.requests.length;
  await p.present(r, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => q.headers['x-tc-action']),
    ['DescribeDomainList', 'DescribeDomainList', 'DescribeRecordList', 'CreateRecord'],
  );
  for (const q of sent) {
    assert.equal(q.method, 'POST');
    assert.equal(q.url, '/');
    assert.equal(q.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(q.headers['x-tc-version'], '2021-03-23');
    assert.equal(q.headers['x-tc-region'], undefined, 'no region unless TENCENTCLOUD_REGION is set');
    assert.match(
      String(q.headers.authorization),
      new RegExp(
        `^TC3-HMAC-SHA256 Credential=${ID}/\\d{4}-\\d{2}-\\d{2}/dnspod/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$`,
      ),
    );
  }
  assert.deepEqual(JSON.parse(sent[1]!.body), { Offset: 2, Limit: 100 });
  assert.deepEqual(JSON.parse(sent[2]!.body), {
    Domain: 'example.test',
    DomainId: 1003,
    Subdomain: r.name,
    RecordType: 'TXT',
    RecordLine: '默认',
    Offset: 0,
    Limit: 100,
  });
  assert.deepEqual(JSON.parse(sent[3]!.body), {
    Domain: 'example.test',
    DomainId: 1003,
    SubDomain: r.name,
    RecordType: 'TXT',
    RecordLine: '默认',
    Value: r.value,
    TTL: 600,
  });
  await p.cleanup(r, live());

  // The apex is "@"; five values at one name need three pages of two.
  const apex = record(null);
  await p.present(apex, live());
  assert.equal(JSON.parse(fake.requests.at(-1)!.body).SubDomain, '@');
  const many = Array.from({ length: 5 }, () => ({
    ...record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
    name: '_acme-challenge.paged',
  }));
  for (const m of many) await p.present(m, live());
  const fresh = await good();
  await fresh.cleanup(many[4]!, live());
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const m of [...many.slice(0, 4), apex]) await fresh.cleanup(m, live());
  assert.deepEqual(await fake.values(many[0]!.fqdn), []);
  assert.deepEqual(await fake.values(ZONE), []);
});

test('tencentcloud: temporary keys send X-TC-Token; TENCENTCLOUD_REGION sends X-TC-Region', async () => {
  const p = await provider({
    TENCENTCLOUD_SECRET_ID: TEMP_ID,
    TENCENTCLOUD_SECRET_KEY: TEMP_KEY,
    TENCENTCLOUD_SESSION_TOKEN: TOKEN,
    TENCENTCLOUD_REGION: 'ap-guangzhou',
  });
  const r = record('temp');
  const from = fake.requests.length;
  await p.present(r, live());
  for (const q of fake.requests.slice(from)) {
    assert.equal(q.headers['x-tc-token'], TOKEN);
    assert.equal(q.headers['x-tc-region'], 'ap-guangzhou');
  }
  await p.cleanup(r, live());
  const noToken = await failure(
    provider({ TENCENTCLOUD_SECRET_ID: TEMP_ID, TENCENTCLOUD_SECRET_KEY: TEMP_KEY }).then((q) =>
      q.present(record(), live()),
    ),
  );
  assert.match(noToken.message, /AuthFailure\.TokenFailure.*TENCENTCLOUD_SESSION_TOKEN/);
});

test('tencentcloud: refused keys, CAM limits and unknown domains give actionable errors', async () => {
  const wrong = await failure(
    (await provider({ TENCENTCLOUD_SECRET_ID: ID, TENCENTCLOUD_SECRET_KEY: WRONG })).present(
      record(),
      live(),
    ),
  );
  assert.match(
    wrong.message,
    /^tencentcloud: present: credentials refused while trying to .*AuthFailure\.SignatureFailure.*check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY/,
  );
  const unknown = await failure(
    (await provider({ TENCENTCLOUD_SECRET_ID: 'AKIDnobody', TENCENTCLOUD_SECRET_KEY: KEY })).present(
      record(),
      live(),
    ),
  );
  assert.match(unknown.message, /AuthFailure\.SecretIdNotFound/);
  const reader = await failure(
    (await provider({ TENCENTCLOUD_SECRET_ID: READER_ID, TENCENTCLOUD_SECRET_KEY: READER_KEY })).present(
      record(),
      live(),
    ),
  );
  assert.match(
    reader.message,
    /create the TXT record .*AuthFailure\.UnauthorizedOperation.*CAM policy allows dnspod:/,
  );
  const missing = await failure((await good()).present(record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /domain nothere\.test is not in the DNSPod account of TENCENTCLOUD_SECRET_ID/,
  );
  await assert.rejects(provider({ TENCENTCLOUD_SECRET_ID: ID }), /TENCENTCLOUD_SECRET_KEY is not set/);
});

test('tencentcloud: RequestLimitExceeded (inside HTTP 200) and 5xx are retried, then reported', async () => {
  const p = await good();
  fake.failNext(
    tencentError(
      'RequestLimitExceeded',
      'Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second.',
    ),
    2,
  );
  const r = record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext(tencentError('RequestLimitExceeded', 'too many requests'), 4);
  const limited = await failure(p.present(record(), live()));
  assert.match(limited.message, /rate limited while trying to .*RequestLimitExceeded/);
  fake.failNext({ status: 502, text: 'Bad Gateway' }, 4);
  const down = await failure(p.present(record(), live()));
  assert.equal(down.status, 502);
  assert.match(down.message, /Tencent Cloud DNSPod API error .*try again in a few minutes/);
});
