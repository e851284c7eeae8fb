import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { rs256, rsaPrivateKey, signJwtRs256 } from '../../../src/dns/jwt.ts';
import { serviceAccountAssertion } from '../../../src/dns/providers/gcloud/assertion.ts';

// RFC 7515 (JSON Web Signature), Appendix A.2 "Example JWS Using RSASSA-PKCS1-v1_5 SHA-256": the RSA key
// of A.2.1 (RFC 7515 prints it as a JWK), the JWS Signing Input of A.2.1 and the signature of A.2.1.
// RSASSA-PKCS1-v1_5 is deterministic, so the signature must come out byte for byte.
const A2_KEY = {
  kty: 'RSA',
  n: 'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
  e: 'AQAB',
  d: 'Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ',
  p: '4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc',
  q: 'uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc',
  dp: 'BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0',
  dq: 'h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU',
  qi: 'IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U',
};
const A2_SIGNING_INPUT =
  'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';
const A2_SIGNATURE =
  'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw';

const key = createPrivateKey({ key: A2_KEY, format: 'jwk' });

test('rs256: RFC 7515 Appendix A.2, the documented signature byte for byte', () => {
  assert.equal(rs256(A2_SIGNING_INPUT, key), A2_SIGNATURE);
});

test('rsaPrivateKey: PKCS#8 and PKCS#1 PEM; anything else is undefined', () => {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }).toString();
  assert.equal(rs256(A2_SIGNING_INPUT, rsaPrivateKey(pkcs8)!), A2_SIGNATURE);
  assert.equal(rs256(A2_SIGNING_INPUT, rsaPrivateKey(pkcs1)!), A2_SIGNATURE);
  assert.equal(rsaPrivateKey('not a key'), undefined);
  const ec = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
      d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
    },
    format: 'jwk',
  });
  assert.equal(rsaPrivateKey(ec.export({ type: 'pkcs8', format: 'pem' }).toString()), undefined);
});

test("serviceAccountAssertion: Google's header and claim set, signed RS256 over the first two parts", () => {
  const now = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
  const jwt = serviceAccountAssertion({
    email: 'sa@project.iam.gserviceaccount.com',
    keyId: 'abc123',
    key,
    scopes: [
      'https://www.googleapis.com/auth/ndev.clouddns.readwrite',
      'https://www.googleapis.com/auth/cloud-platform',
    ],
    audience: 'https://oauth2.googleapis.com/token',
    now,
  });
  const [h, c, s] = jwt.split('.') as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), {
    alg: 'RS256',
    typ: 'JWT',
    kid: 'abc123',
  });
  const iat = Math.floor(now / 1000);
  assert.deepEqual(JSON.parse(Buffer.from(c, 'base64url').toString()), {
    iss: 'sa@project.iam.gserviceaccount.com',
    scope:
      'https://www.googleapis.com/auth/ndev.clouddns.readwrite https://www.googleapis.com/auth/cloud-platform',
    aud: 'https://oauth2.googleapis.com/token',
    iat,
    exp: iat + 3600,
  });
  assert.ok(verify('sha256', Buffer.from(`${h}.${c}`), createPublicKey(key), Buffer.from(s, 'base64url')));
  assert.equal(s, rs256(`${h}.${c}`, key));
});

test('signJwtRs256: alg is always RS256, whatever the header says', () => {
  const jwt = signJwtRs256({ alg: 'none', typ: 'JWT' }, { a: 1 }, key);
  assert.equal(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).alg, 'RS256');
});
