import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AutoHttps, autoHttps } from '../../../src/server/index.ts';
import { FileStore } from '../../../src/storage/file-store.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { freePort } from '../../support/free-port.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { type RoundRobinProxy, startRoundRobinProxy } from '../../support/round-robin-proxy.ts';
import { closeServer, listen, peek } from '../server/support.ts';

// Challenges shared through the store, in one process: Pebble's validation ports reach only server B,
// while server A places the orders. B answers from the store what A presented.

let pebble: PebbleServer;
let roots: string[];
const cleanups: (() => Promise<void>)[] = [];
const shared = new MemoryStore();
/** B's view of the shared store, counting its reads. */
const reads: string[] = [];
const bStore: Store = {
  get(key, signal) {
    reads.push(key);
    return shared.get(key, signal);
  },
  put: (key, value, opts) => shared.put(key, value, opts),
  delete: (key, signal) => shared.delete(key, signal),
  list: (prefix, signal) => shared.list(prefix, signal),
  lock: (name, opts) => shared.lock(name, opts),
};
let b: AutoHttps;
let bHttpsPort: number;
let bHttpPort: number;
/** The Store methods of `store`, bound, on a plain object (no watch: a store that cannot notify). */
function bindStore(store: MemoryStore): Store {
  return {
    get: (key, signal) => store.get(key, signal),
    put: (key, value, opts) => store.put(key, value, opts),
    delete: (key, signal) => store.delete(key, signal),
    list: (prefix, signal) => store.list(prefix, signal),
    lock: (name, opts) => store.lock(name, opts),
  };
}
/** On Pebble's http-01 port: which server the CA's http-01 requests reach. */
let balancer: RoundRobinProxy;

async function start(opts: Partial<Parameters<typeof autoHttps>[0]>): Promise<AutoHttps> {
  const tls = await autoHttps({
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
    ...opts,
  });
  cleanups.push(() => tls.close());
  return tls;
}

before(async () => {
  const [httpPort, tlsPort] = [await freePort(), await freePort()];
  balancer = await startRoundRobinProxy({ port: httpPort });
  cleanups.push(() => balancer.stop());
  pebble = await startPebble({ httpPort, tlsPort, authzReuse: 0 });
  roots = await pebble.roots();
  // B serves its own name and is the only process Pebble can reach, on both validation ports.
  b = await start({ domains: ['b.shared.example'], store: bStore, challenges: ['tls-alpn-01', 'http-01'] });
  const http = createHttpServer(b.httpHandler());
  const https = createHttpsServer(b.serverOptions, (_req, res) => res.end('b'));
  bHttpPort = await listen(http);
  balancer.setBackends([bHttpPort]);
  await listen(https, tlsPort);
  bHttpsPort = tlsPort;
  cleanups.push(
    () => closeServer(http),
    () => closeServer(https),
  );
  await b.ready({ signal: AbortSignal.timeout(30_000) });
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await pebble?.stop();
});

test('tls-alpn-01: a process the CA never reaches obtains its certificate; the one it reaches answers from the store', async () => {
  const a = await start({ domains: ['a-alpn.shared.example'], store: shared, challenges: ['tls-alpn-01'] });
  const seen = reads.length;
  await a.ready({ signal: AbortSignal.timeout(30_000) });
  assert.ok(
    reads.slice(seen).includes('challenges/tls-alpn-01/a-alpn.shared.example'),
    'B looked the challenge up in the store',
  );
  assert.deepEqual(await shared.list('challenges/'), [], 'cleaned up');
});

test('http-01: a process the CA never reaches obtains its certificate; the one it reaches answers from the store', async () => {
  const a = await start({ domains: ['a-http.shared.example'], store: shared, challenges: ['http-01'] });
  const seen = reads.length;
  await a.ready({ signal: AbortSignal.timeout(30_000) });
  assert.ok(reads.slice(seen).some((k) => k.startsWith('challenges/http-01/')));
  assert.deepEqual(await shared.list('challenges/'), []);
});

test('a server on a store without notifications picks up another’s renewal at its periodic check', async () => {
  const name = 'a-http.shared.example';
  const renewer = await start({ domains: [name], store: shared, challenges: ['http-01'] });
  const poller = await start({
    domains: [name],
    store: bindStore(shared),
    challenges: ['http-01'],
    storeCheckIntervalMs: 200,
  });
  await Promise.all([renewer.ready(), poller.ready()]);
  assert.equal(poller.status().storeSync.mode, 'polling');
  const before = poller.status().certificates[0]!.serial;
  await renewer.renew(name, { force: true });
  const renewed = renewer.status().certificates[0]!.serial;
  assert.notEqual(renewed, before);
  const deadline = Date.now() + 3000;
  while (poller.status().certificates[0]!.serial !== renewed) {
    assert.ok(Date.now() < deadline, 'the poller did not pick up the renewal');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(poller.status().storeSync.loaded, 1);
});

test('handshakes for managed and unknown names never touch the store; junk acme-tls/1 handshakes cost one read per name', async () => {
  const seen = reads.length;
  for (let i = 0; i < 10; i++) {
    for (const ALPNProtocols of [undefined, ['h2', 'http/1.1'], ['http/1.1'], ['http/1.1', 'acme-tls/1']]) {
      const h = await peek(bHttpsPort, {
        servername: 'b.shared.example',
        ca: roots,
        ...(ALPNProtocols ? { ALPNProtocols } : {}),
      });
      assert.equal(h.authorized, true, h.authorizationError);
    }
    await peek(bHttpsPort, { servername: `unknown-${i}.shared.example`, ALPNProtocols: ['http/1.1'] });
  }
  assert.deepEqual(reads.slice(seen), [], 'no store access for regular handshakes');
  for (let i = 0; i < 5; i++) {
    await assert.rejects(
      peek(bHttpsPort, { servername: 'nobody.shared.example', ALPNProtocols: ['acme-tls/1'] }),
    );
  }
  await assert.rejects(peek(bHttpsPort, { servername: 'not_a_name', ALPNProtocols: ['acme-tls/1'] }));
  assert.deepEqual(reads.slice(seen), ['challenges/tls-alpn-01/nobody.shared.example']);
});

test('a single server on a file store answers from memory and leaves no challenge behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-shared-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const single = await start({
    domains: ['single.shared.example'],
    store: new FileStore(dir),
    challenges: ['http-01'],
  });
  const http = createHttpServer(single.httpHandler());
  balancer.setBackends([await listen(http)]);
  cleanups.push(() => closeServer(http));
  try {
    await single.ready({ signal: AbortSignal.timeout(30_000) });
  } finally {
    balancer.setBackends([bHttpPort]);
  }
  const h = await peek(bHttpsPort, { servername: 'b.shared.example', ca: roots });
  assert.equal(h.authorized, true);
  assert.deepEqual(await readdir(join(dir, 'challenges', 'http-01')), [], 'the token file was removed');
  assert.equal(single.status().storeSync.mode, 'polling');
});
