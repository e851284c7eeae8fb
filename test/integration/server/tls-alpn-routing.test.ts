import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { promisify } from 'node:util';
import { buildTlsAlpnCertificate } from '../../../src/crypto/tls-alpn-cert.ts';
import { describeChain, SniCache } from '../../../src/server/sni-cache.ts';
import { tlsCallbacks } from '../../../src/server/tls-callbacks.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';
import { TlsAlpnChallengeSolver } from '../../../src/solvers/tls-alpn01-store.ts';
import { closeServer, listen, peek } from './support.ts';

// RELIABILITY D7 on the serving port, without a CA: a pending challenge is published the way the
// solver does during an order, and real TLS clients probe every ALPN combination.

const run = promisify(execFile);
let dir: string;
let server: Server;
let port: number;
const solver = new TlsAlpnChallengeSolver();
const CHALLENGE_CN = 'acmekit tls-alpn-01 challenge';

function fakeContext(name: string): ChallengeContext {
  const identifier = { type: 'dns' as const, value: name };
  return {
    identifier,
    challenge: {
      tlsAlpnCertificate: () => buildTlsAlpnCertificate({ identifier, keyAuthorization: 'token.thumbprint' }),
    },
  } as unknown as ChallengeContext;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-alpn-'));
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    ...['-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=real.example'],
    ...['-addext', 'subjectAltName=DNS:real.example'],
  ]);
  const cache = new SniCache();
  cache.set(
    describeChain(
      'real.example',
      await readFile(join(dir, 'c.pem'), 'utf8'),
      await readFile(join(dir, 'k.pem'), 'utf8'),
    ),
  );
  const callbacks = tlsCallbacks({ cache, tlsAlpn: solver, onMiss: undefined });
  server = createServer(
    { SNICallback: callbacks.SNICallback, ALPNCallback: callbacks.ALPNCallback(['h2', 'http/1.1']) },
    (s) => s.end('app'),
  );
  port = await listen(server);
  await solver.present(fakeContext('real.example'));
  await solver.present(fakeContext('new.example'));
});
after(async () => {
  await closeServer(server);
  await rm(dir, { recursive: true, force: true });
});

test('D7: ALPN exactly acme-tls/1 with a pending name gets the challenge certificate, and the connection is closed by the server', async () => {
  const h = await peek(port, { servername: 'real.example', ALPNProtocols: ['acme-tls/1'] });
  assert.equal(h.alpn, 'acme-tls/1');
  assert.equal(h.cert.subject.CN, CHALLENGE_CN);
  assert.match(h.cert.subjectaltname ?? '', /DNS:real\.example/);
});

test('D7: every other client of a pending name gets the real certificate: h2 + acme-tls/1, http/1.1, no ALPN', async () => {
  const both = await peek(port, { servername: 'real.example', ALPNProtocols: ['h2', 'acme-tls/1'] });
  assert.equal(both.cert.subject.CN, 'real.example');
  assert.equal(both.alpn, 'h2');
  const h1 = await peek(port, { servername: 'real.example', ALPNProtocols: ['http/1.1'] });
  assert.equal(h1.cert.subject.CN, 'real.example');
  assert.equal(h1.alpn, 'http/1.1');
  const none = await peek(port, { servername: 'real.example' });
  assert.equal(none.cert.subject.CN, 'real.example');
  const tls12 = await peek(port, {
    servername: 'real.example',
    ALPNProtocols: ['http/1.1'],
    maxVersion: 'TLSv1.2',
  });
  assert.equal(tls12.cert.subject.CN, 'real.example');
});

test('TLS 1.2 picks the certificate before ALPN is known: the challenge certificate is never served then', async () => {
  await assert.rejects(
    peek(port, { servername: 'real.example', ALPNProtocols: ['acme-tls/1'], maxVersion: 'TLSv1.2' }),
  );
  // Even for a name with no certificate yet: the server cannot tell a validator from a regular client.
  const tls12 = await peek(port, {
    servername: 'new.example',
    ALPNProtocols: ['acme-tls/1'],
    maxVersion: 'TLSv1.2',
  }).catch(() => undefined);
  assert.notEqual(tls12?.cert.subject.CN, CHALLENGE_CN);
  const regular = await peek(port, {
    servername: 'new.example',
    ALPNProtocols: ['http/1.1'],
    maxVersion: 'TLSv1.2',
  }).catch(() => undefined);
  assert.notEqual(regular?.cert.subject.CN, CHALLENGE_CN);
});

test('a client offering no ALPN never gets the challenge certificate of a pending name without a certificate', async () => {
  const h = await peek(port, { servername: 'new.example' }).catch(() => undefined);
  assert.notEqual(h?.cert.subject.CN, CHALLENGE_CN);
  // The validator (TLS 1.3, exactly acme-tls/1) still gets it.
  const v = await peek(port, { servername: 'new.example', ALPNProtocols: ['acme-tls/1'] });
  assert.equal(v.cert.subject.CN, CHALLENGE_CN);
});

test('acme-tls/1 for a name without a pending challenge, or after cleanup, is refused', async () => {
  await assert.rejects(peek(port, { servername: 'other.example', ALPNProtocols: ['acme-tls/1'] }));
  await solver.cleanup(fakeContext('real.example'));
  await assert.rejects(peek(port, { servername: 'real.example', ALPNProtocols: ['acme-tls/1'] }));
  const h = await peek(port, { servername: 'real.example', ALPNProtocols: ['h2'] });
  assert.equal(h.cert.subject.CN, 'real.example');
});
