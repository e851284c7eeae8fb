import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { after, before, test } from 'node:test';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { type AutoHttps, autoHttps, type CertificateEvent } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, listen, peek } from './support.ts';

let pebble: PebbleServer;
let roots: string[];
let tls: AutoHttps;
const asked: string[] = [];
const obtained: CertificateEvent[] = [];
let server: ReturnType<typeof createHttpsServer>;

before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  roots = await pebble.roots();
  tls = await autoHttps({
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
    store: new MemoryStore(),
    // Only the serving port: the on-demand handshake itself waits while the CA validates on this port.
    challenges: ['tls-alpn-01'],
    onDemand: {
      allow: (name) => {
        asked.push(name);
        return name.endsWith('.ok.example');
      },
    },
  });
  tls.on('obtained', (e) => obtained.push(e));
  server = createHttpsServer(tls.serverOptions, (_req, res) => res.end('on demand'));
  await listen(server, pebble.tlsPort);
});
after(async () => {
  await tls?.close();
  if (server) await closeServer(server);
  await pebble?.stop();
});

function ordersInPebbleLog(): number {
  return pebble
    .logs()
    .split('\n')
    .filter((l) => l.includes('Added order "')).length;
}

test('E4: an allowed name gets its certificate during its first handshake; 50 concurrent first handshakes share one order', async () => {
  const before = ordersInPebbleLog();
  const handshakes = await Promise.all(
    Array.from({ length: 50 }, () => peek(pebble.tlsPort, { servername: 'burst.ok.example', ca: roots })),
  );
  for (const h of handshakes) assert.equal(h.authorized, true, h.authorizationError);
  assert.equal(new Set(handshakes.map((h) => h.serial)).size, 1, 'every handshake got the same certificate');
  assert.equal(ordersInPebbleLog() - before, 1, 'exactly one order reached the CA');
  assert.equal(obtained.filter((e) => e.names[0] === 'burst.ok.example').length, 1);
  assert.equal(asked.filter((n) => n === 'burst.ok.example').length, 1, 'allow() asked once');
  const status = tls.status();
  assert.equal(status.onDemand?.ordersStarted, 1);
  const entry = status.certificates.find((c) => c.id === 'burst.ok.example');
  assert.equal(entry?.onDemand, true);
  assert.equal(entry?.serial, handshakes[0]!.serial);

  // From now on it is served from memory.
  const again = await peek(pebble.tlsPort, { servername: 'burst.ok.example', ca: roots });
  assert.equal(again.serial, handshakes[0]!.serial);
  assert.equal(ordersInPebbleLog() - before, 1);
});

test('E3: a refused name fails its handshake fast, asks allow() once per cache period, and orders nothing', async () => {
  const before = ordersInPebbleLog();
  const started = Date.now();
  for (let i = 0; i < 30; i++) {
    // No certificate and no TLS alert: the client sees the connection reset (docs/server.md says so).
    await assert.rejects(peek(pebble.tlsPort, { servername: 'evil.example.com' }), { code: 'ECONNRESET' });
  }
  assert.ok(Date.now() - started < 5_000, `30 refusals took ${Date.now() - started} ms`);
  assert.equal(asked.filter((n) => n === 'evil.example.com').length, 1);
  // Names that can never be ordered are refused before allow() is asked.
  await assert.rejects(peek(pebble.tlsPort, { servername: 'localhost' }));
  assert.equal(asked.includes('localhost'), false);
  assert.equal(ordersInPebbleLog(), before);
});

test('E2: on-demand without allow() refuses to start, explaining why', async () => {
  await assert.rejects(
    autoHttps({
      directory: pebble.directoryUrl,
      store: new MemoryStore(),
      onDemand: {} as never,
    }),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /allow\(name\)/);
      assert.match(err.message, /stranger/);
      return true;
    },
  );
});
