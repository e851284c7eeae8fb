import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { transipNonce, transipSignature, transipTokenBody } from '../../../src/dns/providers/transip-auth.ts';

// TransIP documents the signature (RSA, SHA-512, base64, over the exact JSON body) without a worked
// example with a fixed key, so the signature is checked against the openssl CLI, which computes the same
// deterministic PKCS #1 v1.5 signature on its own.
const run = promisify(execFile);

test('transip: the token request body has the documented fields, in order', () => {
  const body = transipTokenBody({
    login: 'test-user',
    nonce: '98475920834',
    readOnly: false,
    expirationTime: '30 minutes',
    label: 'acmekit',
    globalKey: true,
  });
  assert.equal(
    body,
    '{"login":"test-user","nonce":"98475920834","read_only":false,"expiration_time":"30 minutes","label":"acmekit","global_key":true}',
  );
  assert.match(transipNonce(), /^[0-9a-f]{32}$/);
  assert.notEqual(transipNonce(), transipNonce());
});

test('transip: the Signature header is what `openssl dgst -sha512 -sign` gives, base64', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-transip-'));
  try {
    const body = transipTokenBody({
      login: 'test-user',
      nonce: 'abc123',
      readOnly: false,
      expirationTime: '30 minutes',
      label: 'acmekit',
      globalKey: true,
    });
    await writeFile(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'body.json'), body);
    const { stdout } = await run(
      'openssl',
      ['dgst', '-sha512', '-sign', join(dir, 'key.pem'), join(dir, 'body.json')],
      { encoding: 'buffer' },
    );
    assert.equal(transipSignature(body, privateKey), stdout.toString('base64'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
