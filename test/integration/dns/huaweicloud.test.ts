import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeHuawei, startFakeHuawei } from '../../support/fake-cloud/huaweicloud.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The Huawei Cloud DNS provider: AK/SK signatures, the project looked up in IAM, record sets read and
// written back, against a fake that checks every signature itself.

const ZONE = 'example.test.';
const REGION = 'ap-southeast-1';
const AK = 'HPUAFAKEACCESSKEY01';
const SK = secret('huawei-sk');
const WRONG = secret('huawei-wrong');
const CANARIES = [SK, WRONG];

let h: RestDnsHarness;
let fake: FakeHuawei;
const good = { HUAWEICLOUD_ACCESS_KEY_ID: AK, HUAWEICLOUD_SECRET_ACCESS_KEY: SK, HUAWEICLOUD_REGION: REGION };
before(async () => {
  h = await restDnsHarness({
    code: 'huaweicloud',
    zone: ZONE,
    baseEnv: () => ({ HUAWEICLOUD_API_URL: fake.url, HUAWEICLOUD_IAM_URL: fake.url }),
    canaries: CANARIES,
  });
  fake = await startFakeHuawei({
    ca: h.ca,
    region: REGION,
    keys: {
      [AK]: {
        sk: SK,
        projectId: '0c9a1d2e3f4a5b6c7d8e9f0a1b2c3d4e',
        zones: ['other1.test', 'other2.test', 'example.test'],
      },
    },
    pageCap: 2,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'huaweicloud (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, HUAWEICLOUD_SECRET_ACCESS_KEY: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('huaweicloud: project from IAM once, signed calls with X-Project-Id, one record set per name, quoted values', async () => {
  const p = await h.provider(good);
  const a = h.record(null);
  const b = { ...h.record(null), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  const sent = fake.requests.slice(from);
  assert.equal(sent.filter((q) => q.path === '/v3/projects').length, 1);
  assert.equal(sent[0]?.query.get('name'), REGION);
  for (const q of sent) {
    assert.match(
      String(q.headers.authorization),
      /^SDK-HMAC-SHA256 Access=HPUAFAKEACCESSKEY01, SignedHeaders=content-type;host;/,
    );
    assert.equal(q.status < 300, true, `${q.method} ${q.path} answered ${q.status}`);
  }
  const post = sent.find((q) => q.method === 'POST')!;
  assert.deepEqual(JSON.parse(post.body), {
    name: 'example.test.',
    type: 'TXT',
    ttl: 60,
    records: [JSON.stringify(a.value)],
    description: 'ACME dns-01 challenge (acmekit)',
  });
  const sets = fake.recordSets().filter((s) => s.name === 'example.test.');
  assert.equal(sets.length, 1);
  assert.deepEqual([...sets[0]!.records].sort(), [`"${a.value}"`, `"${b.value}"`].sort());
  assert.equal(sets[0]!.status, 'ACTIVE', 'present waited for the change to apply');
  await p.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  await p.cleanup(b, live());
  assert.equal(
    fake.recordSets().filter((s) => s.name === 'example.test.').length,
    0,
    'the empty record set is deleted',
  );
});

test('huaweicloud: refused keys, a region without project and unknown zones give actionable errors', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, HUAWEICLOUD_SECRET_ACCESS_KEY: WRONG })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused by Huawei Cloud IAM .*verify aksk signature fail.*check HUAWEICLOUD_ACCESS_KEY_ID/,
  );
  const region = await h.failure(
    (await h.provider({ ...good, HUAWEICLOUD_REGION: 'cn-north-4' })).present(h.record(), live()),
  );
  assert.match(region.message, /no project for region cn-north-4: check HUAWEICLOUD_REGION/);
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /public zone nothere\.test is not in the Huawei Cloud account/);
  await assert.rejects(
    h.provider({ ...good, HUAWEICLOUD_REGION: 'eu/../x' }),
    /HUAWEICLOUD_REGION must be a region name/,
  );
});

test('huaweicloud: 429 and 5xx are retried (signed again), then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { error_code: 'APIGW.0308', error_msg: 'too many requests' },
    },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 500, json: { code: 'DNS.0001', message: 'internal error' } }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 500);
  assert.match(
    err.message,
    /Huawei Cloud DNS API error while trying to .*DNS\.0001: internal error.*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
