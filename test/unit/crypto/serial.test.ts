import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCertificateChain, sameSerial } from '../../../src/crypto/certificate.ts';

/** A self-signed certificate with the given serial, made by openssl. */
function certWithSerial(serial: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'acmekit-serial-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-subj',
        '/CN=serial.test',
        '-days',
        '1',
        '-set_serial',
        serial,
      ],
      { stdio: 'ignore' },
    );
    return readFileSync(join(dir, 'c.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a serial with its high bit set is the same number in the record (DER bytes) and in node:crypto', async () => {
  const pem = certWithSerial('0x8a1b2c3d4e5f60718293');
  const [parsed] = await parseCertificateChain(pem);
  const fromNode = new X509Certificate(pem).serialNumber;
  assert.equal(parsed!.serialHex, '008a1b2c3d4e5f60718293', 'DER keeps the leading 00');
  assert.notEqual(parsed!.serialHex, fromNode.toLowerCase(), 'the two spellings differ');
  assert.ok(sameSerial(parsed!.serialHex, fromNode));
});

test('sameSerial tells different numbers apart', () => {
  assert.ok(sameSerial('00AB', 'ab'));
  assert.ok(!sameSerial('00ab', 'ab00'));
  assert.ok(!sameSerial('0a', 'a0'));
});
