import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeOci, startFakeOci } from '../../support/fake-cloud/oraclecloud.ts';
import { live, type RestDnsHarness, restDnsHarness } from '../../support/rest-dns-harness.ts';

// The OCI DNS provider: requests signed with an API key, GetDomainRecords and PatchDomainRecords, against
// a fake that verifies each signature with the public key.

const ZONE = 'example.test.';
const TENANCY = 'ocid1.tenancy.oc1..aaaatenancy';
const USER = 'ocid1.user.oc1..aaaauser';
const FINGERPRINT = '20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34';
const COMPARTMENT = 'ocid1.compartment.oc1..aaaacompartment';
const PASSPHRASE = 'oci-pass-5f1c9a7e2b';

const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const goodPem = good.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const encryptedPem = good.privateKey
  .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE })
  .toString();
const otherPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// The key bodies must never reach an error or a log.
const keyBody = (pem: string) => pem.split('\n').slice(1, 3).join('');
const CANARIES = [keyBody(goodPem), keyBody(encryptedPem), keyBody(otherPem), PASSPHRASE];

let h: RestDnsHarness;
let fake: FakeOci;
let keyPath: string;
let encryptedPath: string;
const env = () => ({
  OCI_PRIVATE_KEY_PATH: keyPath,
  OCI_TENANCY_OCID: TENANCY,
  OCI_USER_OCID: USER,
  OCI_FINGERPRINT: FINGERPRINT,
  OCI_REGION: 'us-phoenix-1',
  OCI_COMPARTMENT_OCID: COMPARTMENT,
});
before(async () => {
  h = await restDnsHarness({
    code: 'oraclecloud',
    zone: ZONE,
    baseEnv: () => ({ OCI_API_URL: fake.apiUrl }),
    canaries: CANARIES,
  });
  keyPath = join(h.ca.dir, 'oci_api_key.pem');
  encryptedPath = join(h.ca.dir, 'oci_api_key_encrypted.pem');
  await writeFile(keyPath, goodPem);
  await writeFile(encryptedPath, encryptedPem);
  fake = await startFakeOci({
    ca: h.ca,
    keys: {
      [`${TENANCY}/${USER}/${FINGERPRINT}`]: {
        publicKeyPem: good.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        compartments: [COMPARTMENT],
      },
    },
    zones: { 'example.test': COMPARTMENT, 'elsewhere.test': 'ocid1.compartment.oc1..other' },
    pageCap: 2,
  });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'oraclecloud (fake API)',
  zone: ZONE,
  create: () => h.provider(env()),
  createWithBadCredentials: () =>
    h.provider({
      ...env(),
      OCI_PRIVATE_KEY_PATH: undefined,
      OCI_PRIVKEY: Buffer.from(otherPem).toString('base64'),
    }),
  values: (fqdn) => fake.values(fqdn),
  canaries: CANARIES,
  logs: () => h.logs(),
});

test('oraclecloud: PATCH ADD with the compartment, REMOVE by recordHash; signed headers; apex and paging', async () => {
  const p = await h.provider(env());
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  for (const q of sent) {
    assert.equal(q.query.get('compartmentId'), COMPARTMENT);
    assert.match(
      String(q.headers.authorization),
      new RegExp(`^Signature version="1",keyId="${TENANCY}/${USER}/${FINGERPRINT}",algorithm="rsa-sha256",`),
    );
  }
  const patch = sent.find((q) => q.method === 'PATCH')!;
  assert.equal(patch.path, '/20180115/zones/example.test/records/example.test');
  assert.deepEqual(JSON.parse(patch.body), {
    items: [
      {
        operation: 'ADD',
        domain: 'example.test',
        rtype: 'TXT',
        rdata: apex.value,
        ttl: 60,
        isProtected: false,
      },
    ],
  });
  assert.match(
    String(patch.headers.authorization),
    /headers="date \(request-target\) host content-length content-type x-content-sha256"/,
  );
  // Five values at one name: the list needs three pages of two.
  const many = Array.from({ length: 5 }, () => ({
    ...h.record('paged'),
    fqdn: `_acme-challenge.paged.${ZONE}`,
  }));
  for (const r of many) await p.present(r, live());
  const fresh = await h.provider(env());
  const before = fake.requests.length;
  await fresh.cleanup(many[4]!, live());
  const remove = fake.requests.slice(before).find((q) => q.method === 'PATCH')!;
  assert.deepEqual(Object.keys(JSON.parse(remove.body).items[0]).sort(), ['operation', 'recordHash']);
  assert.equal((await fake.values(many[0]!.fqdn)).length, 4);
  for (const r of [...many.slice(0, 4), apex]) await fresh.cleanup(r, live());
  assert.deepEqual(fake.records(), []);
});

test('oraclecloud: the key from OCI_PRIVKEY (base64), OCI_PRIVKEY_FILE, or encrypted with a passphrase', async () => {
  const variants = [
    { ...env(), OCI_PRIVATE_KEY_PATH: undefined, OCI_PRIVKEY: Buffer.from(goodPem).toString('base64') },
    { ...env(), OCI_PRIVATE_KEY_PATH: undefined, OCI_PRIVKEY_FILE: keyPath },
    { ...env(), OCI_PRIVATE_KEY_PATH: encryptedPath, OCI_PRIVATE_KEY_PASSWORD: PASSPHRASE },
    {
      ...env(),
      OCI_FINGERPRINT: undefined,
      TF_VAR_fingerprint: FINGERPRINT,
      OCI_REGION: undefined,
      TF_VAR_region: 'us-ashburn-1',
    },
  ];
  for (const v of variants) {
    const p = await h.provider(v);
    const r = h.record();
    await p.present(r, live());
    await p.cleanup(r, live());
    assert.deepEqual(await fake.values(r.fqdn), []);
  }
  await assert.rejects(
    h.provider({ ...env(), OCI_PRIVATE_KEY_PATH: encryptedPath }),
    /set OCI_PRIVATE_KEY_PASSWORD/,
  );
  await assert.rejects(
    h.provider({ ...env(), OCI_AUTH_TYPE: 'instance_principal' }),
    /OCI_AUTH_TYPE=instance_principal is not supported/,
  );
  await assert.rejects(h.provider({ ...env(), OCI_PRIVATE_KEY_PATH: undefined }), /no API signing key/);
});

test('oraclecloud: a wrong key and a zone of another compartment give actionable errors', async () => {
  const wrong = await h.failure(
    (
      await h.provider({
        ...env(),
        OCI_PRIVATE_KEY_PATH: undefined,
        OCI_PRIVKEY: Buffer.from(otherPem).toString('base64'),
      })
    ).present(h.record(), live()),
  );
  assert.equal(wrong.status, 401);
  assert.match(
    wrong.message,
    /credentials refused .*NotAuthenticated.*check OCI_TENANCY_OCID, OCI_USER_OCID, OCI_FINGERPRINT/,
  );
  const elsewhere = await h.failure(
    (await h.provider(env())).present(h.record('x', 'elsewhere.test.'), live()),
  );
  assert.equal(elsewhere.status, 404);
  assert.match(elsewhere.message, /not found .*NotAuthorizedOrNotFound/);
});

test('oraclecloud: 429 and 5xx are retried (signed again), then reported', async () => {
  const p = await h.provider(env());
  fake.failNext(
    {
      status: 429,
      headers: { 'retry-after': '1' },
      json: { code: 'TooManyRequests', message: 'Too many requests' },
    },
    2,
  );
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  fake.failNext({ status: 503, json: { code: 'ServiceUnavailable', message: 'try later' } }, 4);
  const err = await h.failure(p.cleanup(r, live()));
  assert.equal(err.status, 503);
  assert.match(
    err.message,
    /OCI DNS API error while trying to .*ServiceUnavailable: try later.*try again in a few minutes/,
  );
  await p.cleanup(r, live());
  assert.deepEqual(await fake.values(r.fqdn), []);
});
