import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { CorruptFileError } from '../../../src/errors/storage.ts';
import {
  decodeAccountKeyPem,
  decodeLegoAccount,
  encodeAccountKeyPem,
  encodeLegoAccount,
} from '../../../src/storage/lego-account-file.ts';

const PATH = 'accounts/127.0.0.1_14000/admin@example.com/account.json';
const KEY_PATH = 'accounts/127.0.0.1_14000/admin@example.com/keys/admin@example.com.key';

/** account.json as lego v4 writes it against Pebble: json.MarshalIndent(Account, "", "\t") (cmd/account.go). */
const LEGO_V4_ACCOUNT = [
  '{',
  '\t"email": "admin@example.com",',
  '\t"registration": {',
  '\t\t"body": {',
  '\t\t\t"status": "valid",',
  '\t\t\t"contact": [',
  '\t\t\t\t"mailto:admin@example.com"',
  '\t\t\t]',
  '\t\t},',
  '\t\t"uri": "https://127.0.0.1:14000/my-account/1"',
  '\t}',
  '}',
].join('\n');

/** lego v5 (cmd/internal/storage/testdata/accounts/.../account.json): adds id and keyType. */
const LEGO_V5_ACCOUNT = `{
\t"id": "test@example.com",
\t"email": "account@example.com",
\t"keyType": "RSA4096",
\t"registration": {
\t\t"body": {
\t\t\t"status": "valid"
\t\t},
\t\t"uri": "https://example.org/acme/acct/123456"
\t}
}`;

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

function corrupt(path: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CorruptFileError, String(err));
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

describe('account.json', () => {
  it('reads what lego v4 writes', () => {
    assert.deepEqual(decodeLegoAccount(Buffer.from(LEGO_V4_ACCOUNT), PATH), {
      email: 'admin@example.com',
      accountUrl: 'https://127.0.0.1:14000/my-account/1',
      status: 'valid',
      contact: ['mailto:admin@example.com'],
      extra: {},
    });
  });

  it('writes byte for byte what lego v4 writes', () => {
    const text = encodeLegoAccount({
      email: 'admin@example.com',
      accountUrl: 'https://127.0.0.1:14000/my-account/1',
      accountObject: { status: 'valid', contact: ['mailto:admin@example.com'], orders: '' },
    });
    assert.equal(text, LEGO_V4_ACCOUNT);
  });

  it("keeps acme.Account's field order and omitempty rules", () => {
    const text = encodeLegoAccount({
      email: '',
      accountUrl: 'https://ca.example/acct/1?a=1&b=<2>',
      accountObject: {
        externalAccountBinding: { protected: 'p', payload: 'x', signature: 's' },
        orders: 'https://ca.example/acct/1/orders',
        termsOfServiceAgreed: true,
        contact: [],
        status: 'valid',
      },
    });
    const parsed = JSON.parse(text);
    assert.deepEqual(Object.keys(parsed), ['email', 'registration']);
    assert.deepEqual(Object.keys(parsed.registration.body), [
      'status',
      'termsOfServiceAgreed',
      'orders',
      'externalAccountBinding',
    ]);
    assert.equal(parsed.email, '');
    assert.ok(text.includes('\\u0026b=\\u003c2\\u003e'), 'Go escapes <, > and & in strings');
    assert.equal(decodeLegoAccount(text, PATH).accountUrl, 'https://ca.example/acct/1?a=1&b=<2>');
    assert.equal(decodeLegoAccount(text, PATH).email, '');
  });

  it('reads lego v5 files and keeps their extra fields on rewrite', () => {
    const v5 = decodeLegoAccount(LEGO_V5_ACCOUNT, PATH);
    assert.equal(v5.email, 'account@example.com');
    assert.equal(v5.accountUrl, 'https://example.org/acme/acct/123456');
    assert.deepEqual(v5.extra, { id: 'test@example.com', keyType: 'RSA4096' });
    const again = JSON.parse(
      encodeLegoAccount({
        email: v5.email,
        accountUrl: v5.accountUrl!,
        accountObject: { status: 'valid' },
        extra: v5.extra,
      }),
    );
    assert.equal(again.id, 'test@example.com');
    assert.equal(again.keyType, 'RSA4096');
  });

  it('reads a v5 snapshot whose registration is the flat account object with accountURL', () => {
    const flat = JSON.stringify({
      id: 'test@example.com',
      email: 'account@example.com',
      registration: {
        status: 'valid',
        contact: ['mailto:a@example.com'],
        accountURL: 'https://ca.example/a/9',
      },
    });
    const a = decodeLegoAccount(flat, PATH);
    assert.equal(a.accountUrl, 'https://ca.example/a/9');
    assert.deepEqual(a.contact, ['mailto:a@example.com']);
  });

  it('leaves accountUrl undefined when the registration is missing (lego then finds the account by key)', () => {
    assert.equal(
      decodeLegoAccount('{"email":"a@example.com","registration":null}', PATH).accountUrl,
      undefined,
    );
    assert.equal(decodeLegoAccount('{"email":"a@example.com"}', PATH).accountUrl, undefined);
  });

  it('refuses corrupt files with CorruptFileError naming the file', () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ['', /JSON/],
      [LEGO_V4_ACCOUNT.slice(0, 60), /JSON/],
      ['[1,2]', /object/],
      ['null', /object/],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /JSON/],
      ['{"email": 42}', /email/],
      ['{"email":"a@b.c","registration":"x"}', /registration/],
      ['{"email":"a@b.c","registration":{"body":[],"uri":"https://ca.example/a"}}', /body/],
      ['{"email":"a@b.c","registration":{"body":{},"uri":"not a url"}}', /uri/],
      ['{"email":"a@b.c","registration":{"body":{},"uri":42}}', /uri/],
      ['{"email":"a@b.c","registration":{"body":{"status":1},"uri":"https://ca.example/a"}}', /status/],
      ['{"email":"a@b.c","registration":{"body":{"contact":"x"},"uri":"https://ca.example/a"}}', /contact/],
    ];
    for (const [input, pattern] of cases)
      assert.throws(() => decodeLegoAccount(input, PATH), corrupt(PATH, pattern));
  });
});

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
      assert.throws(() => decodeAccountKeyPem(input, KEY_PATH), corrupt(KEY_PATH, pattern));
    }
  });
});
