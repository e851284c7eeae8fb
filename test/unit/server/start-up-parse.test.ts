import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { autoHttps } from '../../../src/server/index.ts';
import { describeStoredPair } from '../../../src/server/sni-cache.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { freePort } from '../../support/free-port.ts';

const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');

/** A self-signed certificate for `name`, valid 30 days, and its key. */
async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-parse-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
      '-days',
      '30',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return {
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('start-up parses each stored certificate once: loading it and its first check share the parse', async () => {
  const name = 'parse.example.com';
  const { cert, key } = await selfSigned(name);
  const store = new MemoryStore();
  await store.put(`certificates/${name}.crt`, cert);
  await store.put(`certificates/${name}.key`, key, { private: true });

  // Count every X509Certificate built from this PEM, in every module that imported node:crypto.
  const Original = crypto.X509Certificate;
  let parses = 0;
  crypto.X509Certificate = class extends Original {
    constructor(pem: string | Buffer) {
      super(pem);
      if (String(pem).includes(cert.split('\n')[1]!)) parses++;
    }
  };
  syncBuiltinESMExports();
  try {
    const caPort = await freePort(); // nothing listens: ARI cannot be read, the lifetime rule decides
    const tls = await autoHttps({
      domains: [name],
      acceptTos: true,
      directory: `https://127.0.0.1:${caPort}/dir`,
      store,
      challenges: ['http-01'],
    });
    try {
      const deadline = Date.now() + 10_000;
      while (tls.status().certificates[0]?.nextCheck === undefined) {
        assert.ok(Date.now() < deadline, 'the first check finished');
        await new Promise((r) => setTimeout(r, 10));
      }
      const status = tls.status().certificates[0]!;
      assert.equal(status.failures, 0, `the stored certificate is not due: ${status.lastError}`);
      assert.match(status.reason ?? '', /./, 'the first check decided');
      assert.equal(parses, 1);
    } finally {
      await tls.close();
    }
  } finally {
    crypto.X509Certificate = Original;
    syncBuiltinESMExports();
  }
});

test("a stored pair whose key is not the leaf's (a renewal caught between its two writes) is not described; a non-certificate throws", async () => {
  const a = await selfSigned('a.example.com');
  const b = await selfSigned('b.example.com');
  assert.equal(describeStoredPair('a.example.com', a.cert, a.key)?.names[0], 'a.example.com');
  assert.equal(describeStoredPair('a.example.com', a.cert, b.key), undefined);
  assert.equal(describeStoredPair('a.example.com', a.cert, 'not a key'), undefined);
  assert.throws(() => describeStoredPair('a.example.com', 'not a certificate', a.key));
});
