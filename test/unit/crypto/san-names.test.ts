import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { sanNames } from '../../../src/crypto/san-names.ts';

const run = promisify(execFile);

test('sanNames: lower case, in order, each name once (a CA may list one name in two cases)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-san-'));
  try {
    await run('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1'],
      ...['-subj', '/CN=Mixed.Example.com'],
      ...[
        '-addext',
        'subjectAltName=DNS:Mixed.Example.com,DNS:mixed.example.com,DNS:www.example.com,IP:192.0.2.1',
      ],
    ]);
    const cert = new X509Certificate(await readFile(join(dir, 'c.pem')));
    assert.deepEqual(sanNames(cert), ['mixed.example.com', 'www.example.com', '192.0.2.1']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
