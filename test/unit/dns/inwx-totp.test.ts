import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, inwxTan, totpCode, totpStep } from '../../../src/dns/providers/inwx-totp.ts';
import { Secret } from '../../../src/internal/secret.ts';

// RFC 6238 Appendix B, the SHA-1 rows: the 20-byte ASCII secret "12345678901234567890", 30-second steps,
// 8 digits. Its base32 form is what an authenticator app (and INWX_SHARED_SECRET) holds.
const RFC_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC6238_SHA1: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('inwx totp: base32 of the RFC 6238 secret decodes to its ASCII bytes', () => {
  assert.equal(base32Decode(RFC_SECRET_BASE32)?.toString('ascii'), '12345678901234567890');
  assert.equal(
    base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')?.toString('ascii'),
    '12345678901234567890',
  );
  assert.equal(base32Decode('MZXW6===')?.toString('ascii'), 'foo');
  assert.equal(base32Decode('not base32!'), undefined);
});

test('inwx totp: the RFC 6238 Appendix B SHA-1 test values (8 digits), and their 6-digit TANs', () => {
  const key = base32Decode(RFC_SECRET_BASE32)!;
  for (const [seconds, code] of RFC6238_SHA1) {
    assert.equal(totpCode(key, totpStep(seconds * 1000), 8), code, `T=${seconds}`);
    assert.equal(
      inwxTan(new Secret(RFC_SECRET_BASE32), seconds * 1000),
      code.slice(2),
      `T=${seconds}, 6 digits`,
    );
  }
});
