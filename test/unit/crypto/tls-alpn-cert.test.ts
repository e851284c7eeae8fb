import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseCertificateChain } from '../../../src/crypto/certificate.ts';
import { buildTlsAlpnCertificate } from '../../../src/crypto/tls-alpn-cert.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { decodePem } from '../../../src/internal/pem.ts';

const run = promisify(execFile);
const KEY_AUTHZ = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI';
let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-alpn-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `openssl x509 -text`, then `openssl verify` of the self-signature (it does not know acmeIdentifier). */
async function openssl(certPem: string): Promise<{ text: string; verify: string }> {
  const file = join(dir, `cert-${n++}.pem`);
  await writeFile(file, certPem);
  const text = (await run('openssl', ['x509', '-in', file, '-noout', '-text'])).stdout;
  const args = ['verify', '-ignore_critical', '-partial_chain', '-CAfile', file, file];
  return { text, verify: (await run('openssl', args)).stdout };
}

/** extnID id-pe-acmeIdentifier, critical TRUE, extnValue OCTET STRING { OCTET STRING (32) SHA-256 } */
function acmeIdentifierDer(keyAuthorization: string): Buffer {
  const digest = createHash('sha256').update(keyAuthorization).digest();
  return Buffer.concat([Buffer.from('06082b0601050507011f0101ff04220420', 'hex'), digest]);
}

const der = (pem: string) => decodePem(pem)[0]!.der;

test('buildTlsAlpnCertificate: default P-256 certificate carries the critical acmeIdentifier and openssl verifies it', async () => {
  const { certPem, keyPem, key } = await buildTlsAlpnCertificate({
    identifier: { type: 'dns', value: 'Example.com' },
    keyAuthorization: KEY_AUTHZ,
  });
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(der(certPem).includes(acmeIdentifierDer(KEY_AUTHZ)));
  const { text, verify } = await openssl(certPem);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
  assert.match(text, /Subject Alternative Name: *\n\s+DNS:example\.com\n/);
  assert.match(text, /Version: 3/);
  assert.match(verify, /: OK/);
  const x509 = new X509Certificate(certPem);
  assert.ok(x509.checkPrivateKey(createPrivateKey(keyPem)));
  assert.ok(x509.verify(x509.publicKey));
});

test('buildTlsAlpnCertificate: an IP identifier becomes the only SAN, as an iPAddress (RFC 8738 §6)', async () => {
  const { certPem } = await buildTlsAlpnCertificate({
    identifier: { type: 'ip', value: '2001:db8::1' },
    keyAuthorization: KEY_AUTHZ,
  });
  const { text } = await openssl(certPem);
  assert.match(text, /Subject Alternative Name: *\n\s+IP Address:2001:DB8:0:0:0:0:0:1\n/);
  const [parsed] = await parseCertificateChain(certPem);
  assert.deepEqual(parsed?.identifiers, [{ type: 'ip', value: '2001:db8::1' }]);
});

test('buildTlsAlpnCertificate: validity runs from an hour ago to about a week ahead', async () => {
  const before = Date.now();
  const { certPem } = await buildTlsAlpnCertificate({
    identifier: { type: 'ip', value: '192.0.2.7' },
    keyAuthorization: KEY_AUTHZ,
  });
  const [c] = await parseCertificateChain(certPem);
  const hour = 3600_000;
  assert.ok(c!.notBefore.getTime() <= before - hour + 1000);
  assert.ok(c!.notBefore.getTime() >= before - hour - 5000);
  assert.ok(Math.abs(c!.notAfter.getTime() - (before + 7 * 24 * hour)) < 5000);
  assert.match(c!.serialHex, /^[4-7][0-9a-f]{31}$/);
});

const given = [
  { name: 'P-384', alg: 'ecdsa-with-SHA384', make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
  {
    name: 'RSA 2048',
    alg: 'sha256WithRSAEncryption',
    make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  },
  { name: 'Ed25519', alg: 'ED25519', make: () => generateKeyPairSync('ed25519') },
];
for (const kt of given) {
  test(`buildTlsAlpnCertificate: a given ${kt.name} key signs with ${kt.alg} and openssl verifies it`, async () => {
    const { privateKey } = kt.make();
    const out = await buildTlsAlpnCertificate({
      identifier: { type: 'dns', value: 'a.example' },
      keyAuthorization: 'token.thumbprint',
      key: privateKey,
    });
    assert.equal(out.key, privateKey);
    assert.ok(der(out.certPem).includes(acmeIdentifierDer('token.thumbprint')));
    const { text, verify } = await openssl(out.certPem);
    assert.match(text, new RegExp(`Signature Algorithm: ${kt.alg}`));
    assert.match(verify, /: OK/);
  });
}

test('buildTlsAlpnCertificate: an unsupported key or a bad identifier is an InvalidInputError', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
  const id = { type: 'dns', value: 'a.example' } as const;
  await assert.rejects(
    buildTlsAlpnCertificate({ identifier: id, keyAuthorization: 'x', key }),
    (e) => e instanceof InvalidInputError && /EC P-521/.test(e.message),
  );
  await assert.rejects(
    buildTlsAlpnCertificate({ identifier: { type: 'ip', value: 'fe80::1%eth0' }, keyAuthorization: 'x' }),
    InvalidInputError,
  );
});
