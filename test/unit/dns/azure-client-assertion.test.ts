import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  CLIENT_ASSERTION_TYPE,
  clientAssertion,
  x5t,
} from '../../../src/dns/providers/azuredns/client-assertion.ts';

// The client assertion of "Microsoft identity platform application authentication certificate
// credentials" (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials): the
// documented header (alg RS256, typ JWT, x5t the base64url SHA-1 thumbprint) and claims (aud, iss, sub,
// jti, nbf, exp), signed with the certificate's key. The page's example token has no verifiable
// signature, so the signature is checked against the certificate's public key, and x5t against the
// thumbprint as openssl computes it.

const run = promisify(execFile);

test('clientAssertion: the documented header and claims, signed RS256 by the certificate key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-assertion-'));
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=assertion',
    ]);
    const cert = new X509Certificate(await readFile(join(dir, 'c.pem')));
    const key = createPrivateKey(await readFile(join(dir, 'k.pem')));
    const { stdout } = await run('openssl', [
      'x509',
      '-in',
      join(dir, 'c.pem'),
      '-noout',
      '-fingerprint',
      '-sha1',
    ]);
    const thumbprint = Buffer.from(stdout.trim().split('=')[1]!.replace(/:/g, ''), 'hex').toString(
      'base64url',
    );
    assert.equal(x5t(cert.raw), thumbprint);
    assert.equal(x5t(cert.raw), createHash('sha1').update(cert.raw).digest('base64url'));

    const now = Date.UTC(2024, 4, 6, 7, 8, 9);
    const token = clientAssertion({
      clientId: '97e0a5b7-d745-40b6-94fe-5f77d35c6e05',
      audience: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      certificateDer: cert.raw,
      key,
      now,
      jti: '22b3bb26-e046-42df-9c96-65dbd72c1c81',
    });
    const [h, c, s] = token.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), {
      alg: 'RS256',
      typ: 'JWT',
      x5t: thumbprint,
    });
    const iat = now / 1000;
    assert.deepEqual(JSON.parse(Buffer.from(c, 'base64url').toString()), {
      aud: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      iss: '97e0a5b7-d745-40b6-94fe-5f77d35c6e05',
      sub: '97e0a5b7-d745-40b6-94fe-5f77d35c6e05',
      jti: '22b3bb26-e046-42df-9c96-65dbd72c1c81',
      nbf: iat,
      iat,
      exp: iat + 600,
    });
    assert.ok(verify('sha256', Buffer.from(`${h}.${c}`), cert.publicKey, Buffer.from(s, 'base64url')));
    assert.equal(CLIENT_ASSERTION_TYPE, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const other = clientAssertion({ clientId: 'x', audience: 'y', certificateDer: cert.raw, key, now });
    assert.notEqual(
      JSON.parse(Buffer.from(other.split('.')[1]!, 'base64url').toString()).jti,
      '22b3bb26-e046-42df-9c96-65dbd72c1c81',
      'a fresh jti each time',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
