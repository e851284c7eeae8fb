import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { jsonBody } from '../../support/fake-cloud/server.ts';
import { type FakeYandex, startFakeYandex } from '../../support/fake-cloud/yandexcloud.ts';
import { live, type RestDnsHarness, restDnsHarness } from '../../support/rest-dns-harness.ts';

// The Yandex Cloud DNS provider: an authorized key → PS256 JWT → IAM token, then getRecordSet and
// updateRecordSets, against a fake that verifies the JWT with the key's public half.

const ZONE = 'example.test.';
const FOLDER = 'b1gfolder0000000001';
const SA = 'aje5rr4l5kj0lqvp4b5t';

function authorizedKey(id: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const json = {
    id,
    service_account_id: SA,
    created_at: '2024-05-01T10:00:00Z',
    key_algorithm: 'RSA_2048',
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    // What `yc iam key create` writes: a notice line, then the PEM.
    private_key: `PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <${id}>\n${pem}`,
  };
  return {
    b64: Buffer.from(JSON.stringify(json)).toString('base64'),
    json,
    publicPem: json.public_key,
    body: pem.split('\n')[2]!,
  };
}
const key = authorizedKey('ajeq1k5jfmvqaveb1s0c');
const stranger = authorizedKey('ajeunknownkey0000000');
const CANARIES = [key.b64, key.body, stranger.b64, stranger.body];

let h: RestDnsHarness;
let fake: FakeYandex;
const good = () => ({ YANDEX_CLOUD_IAM_TOKEN: key.b64, YANDEX_CLOUD_FOLDER_ID: FOLDER });
before(async () => {
  h = await restDnsHarness({
    code: 'yandexcloud',
    zone: ZONE,
    baseEnv: () => ({ YANDEX_CLOUD_API_URL: fake.url, YANDEX_CLOUD_IAM_URL: fake.url }),
    canaries: CANARIES,
  });
  fake = await startFakeYandex({
    ca: h.ca,
    keys: { [key.json.id]: { serviceAccountId: SA, publicKeyPem: key.publicPem } },
    folders: {
      [FOLDER]: { editors: [SA], zones: ['a.test', 'b.test', 'example.test'] },
      b1gotherfolder00002: { editors: [], zones: ['other.test'] },
    },
    pageSize: 2,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'yandexcloud (fake API)',
  zone: ZONE,
  create: () => h.provider(good()),
  createWithBadCredentials: () => h.provider({ ...good(), YANDEX_CLOUD_IAM_TOKEN: stranger.b64 }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('yandexcloud: one IAM token per instance, the zone from a paged list, deletions matching the stored set', async () => {
  const p = await h.provider(good());
  const a = h.record(null);
  const b = { ...h.record(null), fqdn: a.fqdn, name: a.name };
  const from = fake.requests.length;
  const issued = fake.tokensIssued();
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.equal(fake.tokensIssued() - issued, 1);
  const sent = fake.requests.slice(from);
  assert.equal(sent[0]?.path, '/iam/v1/tokens');
  for (const q of sent.slice(1)) assert.match(String(q.headers.authorization), /^Bearer t1\./);
  assert.equal(sent.filter((q) => q.path === '/dns/v1/zones').length, 2, 'two pages of two zones');
  const updates = sent.filter((q) => q.path.endsWith(':updateRecordSets')).map((q) => jsonBody(q));
  assert.deepEqual(updates[0], {
    deletions: [],
    additions: [{ name: '@', type: 'TXT', ttl: '60', data: [a.value] }],
  });
  assert.deepEqual(updates[1], {
    deletions: [{ name: 'example.test.', type: 'TXT', ttl: '60', data: [a.value] }],
    additions: [{ name: '@', type: 'TXT', ttl: '60', data: [a.value, b.value] }],
  });
  await p.cleanup(a, live());
  assert.deepEqual(await fake.values(ZONE), [b.value]);
  await p.cleanup(b, live());
  assert.deepEqual(fake.recordSets(), []);
});

test('yandexcloud: the key JSON itself (from a _FILE) works too; malformed keys are refused at configure', async () => {
  const p = await h.provider({ ...good(), YANDEX_CLOUD_IAM_TOKEN: JSON.stringify(key.json) });
  const r = h.record();
  await p.present(r, live());
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
  await assert.rejects(
    h.provider({ ...good(), YANDEX_CLOUD_IAM_TOKEN: 't1.not-a-key' }),
    /must be the base64 of an authorized key's JSON/,
  );
  await assert.rejects(
    h.provider({ ...good(), YANDEX_CLOUD_IAM_TOKEN: Buffer.from('{"id":"x"}').toString('base64') }),
    /lacks id, service_account_id or private_key/,
  );
});

test('yandexcloud: an unknown key, a folder without the role and an unknown zone give actionable errors', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good(), YANDEX_CLOUD_IAM_TOKEN: stranger.b64 })).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused by Yandex Cloud IAM .*Authorized key not found.*check YANDEX_CLOUD_IAM_TOKEN/,
  );
  const folder = await h.failure(
    (await h.provider({ ...good(), YANDEX_CLOUD_FOLDER_ID: 'b1gotherfolder00002' })).present(
      h.record('x', 'other.test.'),
      live(),
    ),
  );
  assert.equal(folder.status, 403);
  assert.match(folder.message, /credentials refused .*Permission denied/);
  const missing = await h.failure((await h.provider(good())).present(h.record('x', 'nothere.test.'), live()));
  assert.match(missing.message, /zone nothere\.test is not in folder YANDEX_CLOUD_FOLDER_ID/);
});

test('yandexcloud: 429 and 5xx are retried, then reported', async () => {
  const p = await h.provider(good());
  const r = h.record();
  fake.failNext(
    { status: 429, headers: { 'retry-after': '1' }, json: { code: 8, message: 'quota exceeded' } },
    2,
    (q) => q.path.startsWith('/dns/'),
  );
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 503, json: { code: 14, message: 'unavailable' } }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /Yandex Cloud DNS API error while trying to .*unavailable.*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
