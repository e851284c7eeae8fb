import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeAccountKeyPem, encodeAccountKeyPem } from '../../../../src/storage/lego/key-pem.ts';
import { corruptFile } from '../../../support/corrupt-file.ts';

const KEY_PATH = 'accounts/127.0.0.1_14000/admin@example.com/keys/admin@example.com.key';

// Test-only keys (never used anywhere), in the PEM types lego writes (certcrypto.PEMBlock):
// `openssl ecparam -name prime256v1 -genkey -noout` gives the same SEC1 DER as Go's MarshalECPrivateKey.
const LEGO_EC_KEY = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFrFkF7luryzSGHxLtt+f1++Ig5YQuJ69mr5VltxVJjvoAoGCCqGSM49
AwEHoUQDQgAE1iXC2o+0uW5HyJ3DGQF8znTsq5N1hl9DPIbeVpPVXTM6/2OnNary
nc9yqrIfatlw1ksau53oK2d1dIyJfGewGg==
-----END EC PRIVATE KEY-----
`;
const LEGO_RSA_KEY = `-----BEGIN RSA PRIVATE KEY-----
MIICXQIBAAKBgQC61c2iYtq0/Tf+9WPqdzUp72sGtLjsIeX9tEjpEvz62tsgGig/
NkBjpfw3rCQ2c3hygCV4JQE6VPTo4jBgJSqGzzXhDWDPL80nhSgKPUxjJHKCeFDL
ouAhEvzEwhT0cqzyhZPJnaoFQz1VGISNoKO+/aY7+jbj2Ksig+yg2lFUSQIDAQAB
AoGAWIKG+0HHiGxZRbBsmBvHFMm2MyQUYtEgSpNI4xm6vQBHRKr/nAqQcGSm2pzz
PtRvIBczKPqm3UJ4D4dwEWwp+4j7w9pZuBgf/bRnSnTgZUPVe7QhZ8S++Kf7PMOA
BxLwSLofeBu6KADituN2rLJaQALMMoNIGTNVtnxnMozgFrECQQDy9rTxetA3gRLF
PRKUMSeJ3agUFehSJN7Utau+ayJKxTvbceyfxHUdRwHGi7OyymmcfOzMr5WDweBT
meqMjvZVAkEAxNwgwP6fLreaxy6l7d4KlQJwwKdVnTYSt1tAgSVkdyZ5KFZWCxRG
wy7EqYkKRcnP90dDSsMj2u9tflZELz7SJQJBAN1jKctkEjiRN05ccQJxq8p3HEF5
GOFI0XbXN3BiZLPm9rzmGSwXsnOEET0ebRa8U/GQ76EvWTjev47OECgV2KUCQGPD
30GPiKKHYARDisnStnAvzW6FHylOJwwPTdBlX9XWhJ5BqtdwjjAKepYkojUeAqwh
zGOOI5SntEjLdUCwSJUCQQCT1FyK4uzmGbkR4fM7hltio7IukZpbtgM+06tzLknA
08rTOIBIybFkpK2Uu98ZOv7i4V4y2qz5G+p7Y4kuhkOR
-----END RSA PRIVATE KEY-----
`;

describe('account key PEM', () => {
  it('reads lego EC (SEC1) and RSA (PKCS#1) keys and writes them back byte for byte', () => {
    const ec = decodeAccountKeyPem(LEGO_EC_KEY, KEY_PATH);
    assert.equal(ec.asymmetricKeyType, 'ec');
    assert.equal(ec.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(encodeAccountKeyPem(ec), LEGO_EC_KEY);
    const rsa = decodeAccountKeyPem(Buffer.from(LEGO_RSA_KEY), KEY_PATH);
    assert.equal(rsa.asymmetricKeyType, 'rsa');
    assert.equal(encodeAccountKeyPem(rsa), LEGO_RSA_KEY);
  });

  it('writes the PEM types lego writes for new keys', () => {
    for (const namedCurve of ['prime256v1', 'secp384r1']) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve });
      const pem = encodeAccountKeyPem(privateKey);
      assert.match(pem, /^-----BEGIN EC PRIVATE KEY-----\n/);
      assert.ok(decodeAccountKeyPem(pem, KEY_PATH).equals(privateKey));
    }
    const { privateKey: ed } = generateKeyPairSync('ed25519');
    const edPem = encodeAccountKeyPem(ed);
    assert.match(edPem, /^-----BEGIN PRIVATE KEY-----\n/, 'lego cannot write Ed25519; PKCS#8 it reads');
    assert.ok(decodeAccountKeyPem(edPem, KEY_PATH).equals(ed));
    assert.throws(() => encodeAccountKeyPem(createPublicKey(ed)), TypeError);
  });

  it('accepts what lego ParsePEMPrivateKey accepts: PKCS#8, a mislabelled block, text around the block', () => {
    const key = createPrivateKey(LEGO_EC_KEY);
    const pkcs8 = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.ok(decodeAccountKeyPem(pkcs8, KEY_PATH).equals(key));
    const mislabelled = LEGO_EC_KEY.replaceAll('EC PRIVATE KEY', 'PRIVATE KEY');
    assert.ok(decodeAccountKeyPem(mislabelled, KEY_PATH).equals(key));
    assert.ok(
      decodeAccountKeyPem(`Bag Attributes\n${LEGO_EC_KEY.replaceAll('\n', '\r\n')}`, KEY_PATH).equals(key),
    );
    assert.ok(decodeAccountKeyPem(LEGO_EC_KEY + LEGO_RSA_KEY, KEY_PATH).equals(key), 'first block wins');
  });

  it('refuses unreadable keys with CorruptFileError naming the file', () => {
    const cases: [string, RegExp][] = [
      ['', /no PEM block/],
      ['just text', /no PEM block/],
      ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', /CERTIFICATE/],
      ['-----BEGIN EC PRIVATE KEY-----\n@@@@\n-----END EC PRIVATE KEY-----\n', /damaged/],
      ['-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n', /not a readable/],
      ['-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', /encrypted/],
      [
        '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n',
        /encrypted/,
      ],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => decodeAccountKeyPem(input, KEY_PATH), corruptFile(KEY_PATH, pattern));
    }
  });
});
