import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { calculateJwkThumbprint, flattenedVerify, importJWK } from 'jose';
import { signEab } from '../../../src/crypto/eab.ts';
import { jwkThumbprint, keyFromJwk, privateJwk, publicJwk } from '../../../src/crypto/jwk.ts';
import { signJws } from '../../../src/crypto/jws.ts';
import { type AccountKeyAlgorithm, generateAccountKey } from '../../../src/crypto/keys.ts';

const algs: AccountKeyAlgorithm[] = ['ES256', 'ES384', 'RS256', 'EdDSA'];

for (const alg of algs) {
  test(`${alg}: flattened JWS verifies with jose and carries jwk, nonce and url`, async () => {
    const key = await generateAccountKey(alg);
    const jws = signJws({
      key,
      url: 'https://ca.test/new-acct',
      nonce: 'abc_-1',
      identity: { jwk: true },
      payload: { a: 1 },
    });
    const { payload, protectedHeader: header } = await flattenedVerify(jws, createPublicKey(key));
    const protectedHeader = header!;
    assert.deepEqual(JSON.parse(Buffer.from(payload).toString()), { a: 1 });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(protectedHeader.nonce, 'abc_-1');
    assert.equal(protectedHeader.url, 'https://ca.test/new-acct');
    assert.ok(protectedHeader.jwk && !('kid' in protectedHeader), 'jwk xor kid (RFC 8555 §6.2)');
    assert.ok(!('d' in (protectedHeader.jwk as object)), 'no private member in the header');
  });

  test(`${alg}: RFC 7638 thumbprint equals jose's`, async () => {
    const key = await generateAccountKey(alg);
    assert.equal(jwkThumbprint(key), await calculateJwkThumbprint(publicJwk(key) as never, 'sha256'));
  });
}

test('kid requests carry kid and no jwk; POST-as-GET has an empty payload', async () => {
  const key = await generateAccountKey('ES256');
  const jws = signJws({
    key,
    url: 'https://ca.test/o/1',
    nonce: 'n',
    identity: { kid: 'https://ca.test/acct/1' },
    payload: undefined,
  });
  assert.equal(jws.payload, '');
  const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString());
  assert.equal(header.kid, 'https://ca.test/acct/1');
  assert.equal(header.jwk, undefined);
  await flattenedVerify(jws, createPublicKey(key));
});

test('RFC 7638 §3.1 example thumbprint', () => {
  const n =
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
  const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
  assert.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('private JWK round-trips to the same key', async () => {
  const key = await generateAccountKey('ES384');
  assert.equal(jwkThumbprint(keyFromJwk(privateJwk(key))), jwkThumbprint(key));
});

test('EAB inner JWS is HS256 over the account JWK and verifies with jose', async () => {
  const key = await generateAccountKey('ES256');
  const hmac = Buffer.alloc(32, 9);
  const jws = signEab({ kid: 'kid-1', hmacKey: hmac.toString('base64url') }, key, 'https://ca.test/new-acct');
  const secret = await importJWK({ kty: 'oct', k: hmac.toString('base64url') }, 'HS256');
  const { payload, protectedHeader } = await flattenedVerify(jws, secret);
  assert.deepEqual(protectedHeader, { alg: 'HS256', kid: 'kid-1', url: 'https://ca.test/new-acct' });
  assert.deepEqual(JSON.parse(Buffer.from(payload).toString()), publicJwk(key));
});
