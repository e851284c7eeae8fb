import assert from 'node:assert/strict';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { createSecureServer, connect as http2Connect } from 'node:http2';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import { after, before, test } from 'node:test';
import { type AutoHttps, autoHttps, type CertificateEvent } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { opensslVerify } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, handshake, listen, peek, requestOn } from './support.ts';

let pebble: PebbleServer;
let roots: string[];
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  roots = await pebble.roots();
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await pebble?.stop();
});

function ordersInPebbleLog(): number {
  return pebble
    .logs()
    .split('\n')
    .filter((l) => l.includes('Added order "')).length;
}

async function start(opts: Partial<Parameters<typeof autoHttps>[0]>): Promise<AutoHttps> {
  const tls = await autoHttps({
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
    store: new MemoryStore(),
    ...opts,
  });
  cleanups.push(() => tls.close());
  return tls;
}

test('http-01 through httpHandler(): a fresh server obtains its certificate; a real TLS client verifies it against Pebble', async () => {
  const tls = await start({ domains: ['web.example.com', 'www.web.example.com'], challenges: ['http-01'] });
  const obtained: CertificateEvent[] = [];
  tls.on('obtained', (e) => obtained.push(e));
  const http = createHttpServer(tls.httpHandler());
  await listen(http, pebble.httpPort);
  const https = createHttpsServer(tls.serverOptions, (_req, res) => res.end('hello over https'));
  tls.attach(https);
  const port = await listen(https);
  cleanups.push(
    () => closeServer(http),
    () => closeServer(https),
  );

  await tls.ready({ signal: AbortSignal.timeout(20_000) });
  assert.equal(obtained.length, 1);
  assert.deepEqual(obtained[0]!.names, ['web.example.com', 'www.web.example.com']);

  for (const servername of ['web.example.com', 'www.web.example.com']) {
    const h = await peek(port, { servername, ca: roots });
    assert.equal(h.authorized, true, `${servername}: ${h.authorizationError}`);
    assert.equal(h.serial, obtained[0]!.serial);
    assert.equal(h.alpn, false, 'no ALPN offered, none chosen');
  }
  // openssl agrees: leaf + intermediate as served chain to Pebble's root.
  const h = await handshake(port, { servername: 'web.example.com' });
  const chain = [h.cert, h.cert.issuerCertificate].map(
    (c) =>
      `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`,
  );
  h.socket.destroy();
  assert.match(await opensslVerify({ leaf: chain[0]!, intermediates: chain[1]!, roots }), /OK/);

  // An https client gets the app; port 80 redirects everything that is not a challenge.
  const body = await new Promise<string>((resolve, reject) => {
    httpsGet(
      {
        host: '127.0.0.1',
        port,
        servername: 'web.example.com',
        ca: roots,
        path: '/x',
        headers: { host: 'web.example.com' },
      },
      (res) => {
        let s = '';
        res.on('data', (c) => {
          s += c;
        });
        res.on('end', () => resolve(s));
      },
    ).on('error', reject);
  });
  assert.equal(body, 'hello over https');
  const redirect = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    httpGet(
      { host: '127.0.0.1', port: pebble.httpPort, path: '/a?b=1', headers: { host: 'web.example.com' } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      },
    ).on('error', reject);
  });
  assert.deepEqual(redirect, { status: 301, location: 'https://web.example.com/a?b=1' });
  const unknownToken = await new Promise<number>((resolve, reject) => {
    httpGet(
      {
        host: '127.0.0.1',
        port: pebble.httpPort,
        path: '/.well-known/acme-challenge/abcdefghijklmnopqrstuvwxyz',
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    ).on('error', reject);
  });
  assert.equal(unknownToken, 404, 'a token never handed out is not answered');

  // Hot swap: a forced renewal replaces the certificate for new handshakes, while an open connection
  // keeps working on the old one.
  const open = await handshake(port, { servername: 'web.example.com', ca: roots });
  assert.match(await requestOn(open.socket, 'web.example.com'), /hello over https/);
  const renewed: CertificateEvent[] = [];
  tls.on('renewed', (e) => renewed.push(e));
  await tls.renew('www.web.example.com', { force: true });
  assert.equal(renewed.length, 1);
  assert.notEqual(renewed[0]!.serial, open.serial);
  const fresh = await peek(port, { servername: 'web.example.com', ca: roots });
  assert.equal(fresh.serial, renewed[0]!.serial, 'new handshakes see the new certificate at once');
  assert.equal(fresh.authorized, true);
  assert.match(
    await requestOn(open.socket, 'web.example.com'),
    /hello over https/,
    'the open connection still works',
  );
  open.socket.destroy();
  // Without SNI the attached server's default certificate was swapped too.
  const noSni = await peek(port, {});
  assert.equal(noSni.serial, renewed[0]!.serial);

  const status = tls.status();
  assert.equal(status.certificates.length, 1);
  assert.equal(status.certificates[0]!.serial, renewed[0]!.serial);
  assert.equal(status.certificates[0]!.failures, 0);
  assert.ok(status.certificates[0]!.nextCheck);
  assert.ok(ordersInPebbleLog() >= 2);
});

test('tls-alpn-01 on the serving port only (http2 server with http/1.1): obtains, and h2 / http/1.1 clients are unaffected', async () => {
  const tls = await start({ domains: ['alpn.example.com'], challenges: ['tls-alpn-01'] });
  const server = createSecureServer(tls.http2Options, (req, res) => {
    res.end(`hello ${req.httpVersion}`);
  });
  await listen(server, pebble.tlsPort);
  cleanups.push(() => closeServer(server));
  await tls.ready({ signal: AbortSignal.timeout(20_000) });
  assert.match(pebble.logs(), /alpn\.example\.com/);

  const h2 = await handshake(pebble.tlsPort, {
    servername: 'alpn.example.com',
    ca: roots,
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  assert.equal(h2.alpn, 'h2');
  assert.equal(h2.authorized, true, h2.authorizationError);
  h2.socket.destroy();
  const h1 = await handshake(pebble.tlsPort, {
    servername: 'alpn.example.com',
    ca: roots,
    ALPNProtocols: ['http/1.1'],
  });
  assert.equal(h1.alpn, 'http/1.1');
  assert.match(await requestOn(h1.socket, 'alpn.example.com'), /hello 1\.1/);
  h1.socket.destroy();

  // A real h2 request.
  const session = http2Connect(`https://alpn.example.com:${pebble.tlsPort}`, {
    ca: roots,
    host: '127.0.0.1',
    servername: 'alpn.example.com',
  } as never);
  const text = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':path': '/' });
    let s = '';
    req.on('data', (c) => {
      s += c;
    });
    req.on('end', () => resolve(s));
    req.on('error', reject);
    req.end();
  });
  session.close();
  assert.equal(text, 'hello 2.0');

  // No challenge pending now: an acme-tls/1 handshake is refused instead of answered.
  await assert.rejects(
    peek(pebble.tlsPort, { servername: 'alpn.example.com', ALPNProtocols: ['acme-tls/1'] }),
  );
});

test('a failed validation is reported with its backoff and never thrown at the server', async () => {
  const tls = await start({
    domains: ['idle.example.com'],
    challenges: ['http-01'],
    retry: { minMs: 60_000, maxMs: 60_000 },
  });
  // Port 80 answers only the first test's tokens here, so validation fails: the failure is reported, the timer rescheduled, nothing thrown.
  const failed = await new Promise<{ retryAt: Date | undefined }>((resolve) => tls.once('failed', resolve));
  assert.ok(failed.retryAt && failed.retryAt.getTime() > Date.now() + 30_000);
  assert.equal(tls.status().certificates[0]!.failures, 1);
  assert.ok(tls.status().certificates[0]!.lastError);
});
