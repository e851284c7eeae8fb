import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { test } from 'node:test';
import { IAM_TOKEN_AUDIENCE, serviceAccountJwt } from '../../../src/dns/providers/yandexcloud/jwt.ts';

// PS256 signatures are randomised (PSS salt), so there is no fixed published vector: the JWT is checked
// field by field against Yandex's description, and its signature with an independent PSS verification.
test('yandexcloud jwt: PS256 header with kid, iss/aud/iat/exp payload, a PSS signature over header.payload', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwt = serviceAccountJwt(
    { id: 'ajeq1k5jfmvqaveb1s0c', serviceAccountId: 'aje5rr4l5kj0lqvp4b5t', privateKey },
    new Date('2024-05-01T10:00:00.900Z'),
  );
  const [h, p, s] = jwt.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), {
    typ: 'JWT',
    alg: 'PS256',
    kid: 'ajeq1k5jfmvqaveb1s0c',
  });
  assert.deepEqual(JSON.parse(Buffer.from(p!, 'base64url').toString()), {
    iss: 'aje5rr4l5kj0lqvp4b5t',
    aud: IAM_TOKEN_AUDIENCE,
    iat: 1714557600,
    exp: 1714557600 + 3600,
  });
  assert.equal(IAM_TOKEN_AUDIENCE, 'https://iam.api.cloud.yandex.net/iam/v1/tokens');
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    Buffer.from(s!, 'base64url'),
  );
  assert.ok(ok, 'a PSS/SHA-256 signature with a 32-byte salt');
  // Not PKCS #1 v1.5 (RS256).
  assert.equal(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s!, 'base64url')), false);
  // The lifetime is capped at an hour.
  const long = serviceAccountJwt({ id: 'k', serviceAccountId: 's', privateKey }, new Date(0), 7200);
  const claims = JSON.parse(Buffer.from(long.split('.')[1]!, 'base64url').toString());
  assert.equal(claims.exp - claims.iat, 3600);
});
