import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import {
  autoHttps,
  type CertificateEvent,
  type ExpiringEvent,
  type FailureEvent,
} from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { freePort } from '../../support/free-port.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, listen, peek, until } from './support.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

/** A TCP forwarder to Pebble, started late: until then the CA's port refuses connections. */
function forward(port: number, target: URL): Promise<() => Promise<void>> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve(async () => {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
      }),
    );
  });
}

test('C11: an expired stored certificate with the CA down: served meanwhile, failures logged and backed off, recovered once the CA is back', async () => {
  const pebble: PebbleServer = await startPebble({ authzReuse: 0 });
  cleanups.push(() => pebble.stop());
  const roots = await pebble.roots();

  // A real certificate from Pebble, two seconds long, stored as a previous run would have left it.
  const direct = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  cleanups.push(() => direct.close());
  const account = await direct.createAccount({ acceptTos: true });
  const old = await obtainCertificate(account, {
    names: ['down.example.com'],
    solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
    notAfter: new Date(Date.now() + 2_000),
  });
  const store = new MemoryStore();
  await store.put('certificates/down.example.com.crt', old.chain);
  await store.put('certificates/down.example.com.key', old.privateKey!.pem(), { private: true });
  await until('the stored certificate to expire', () => Date.now() > old.notAfter.getTime() + 1_000, 10_000);

  // The CA's address: a port nothing listens on yet.
  const caPort = await freePort();
  const logs: { level: string; obj: object; msg?: string }[] = [];
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [
      level,
      (obj: object, msg?: string) => logs.push({ level, obj, ...(msg ? { msg } : {}) }),
    ]),
  ) as never;
  const tls = await autoHttps({
    domains: ['down.example.com'],
    acceptTos: true,
    directory: `https://127.0.0.1:${caPort}/dir`,
    caBundle: pebble.caBundle,
    store,
    challenges: ['http-01'],
    logger,
    retry: { minMs: 300, maxMs: 600 },
    acme: { retry: { attempts: 1 }, timeoutMs: 2_000 },
  });
  cleanups.push(() => tls.close());
  const failures: FailureEvent[] = [];
  const expiring: ExpiringEvent[] = [];
  const renewed: CertificateEvent[] = [];
  tls.on('failed', (e) => failures.push(e));
  tls.on('expiring', (e) => expiring.push(e));
  tls.on('renewed', (e) => renewed.push(e));
  const https = createHttpsServer(tls.serverOptions, (_req, res) => res.end('still here'));
  const port = await listen(https);
  const http = createHttpServer(tls.httpHandler());
  await listen(http, pebble.httpPort);
  cleanups.push(
    () => closeServer(https),
    () => closeServer(http),
  );

  // Serving continues with the stored (expired) certificate.
  const served = await peek(port, { servername: 'down.example.com', ca: roots });
  assert.equal(served.serial, old.serial.toLowerCase());
  assert.equal(served.authorized, false);
  assert.match(String(served.authorizationError), /expired/i);

  await until('three failed attempts', () => failures.length >= 3, 15_000);
  assert.deepEqual(failures.map((f) => f.failures).slice(0, 3), [1, 2, 3]);
  for (const f of failures) assert.ok(f.retryAt, 'each failure schedules a retry');
  assert.ok(
    expiring.some((e) => e.expired),
    'an expiring event says the served certificate has expired',
  );
  assert.ok(logs.some((l) => l.level === 'warn' && /attempt failed/.test(l.msg ?? '')));
  assert.equal(tls.status().certificates[0]!.failures >= 3, true);
  const stillServed = await peek(port, { servername: 'down.example.com' });
  assert.equal(stillServed.serial, old.serial.toLowerCase(), 'the old certificate is never dropped');

  // The CA comes back on its address: the next retry renews and new handshakes get a valid certificate.
  const stop = await forward(caPort, new URL(pebble.directoryUrl));
  cleanups.push(stop);
  await until('the renewal after the CA came back', () => renewed.length === 1, 20_000);
  const fresh = await peek(port, { servername: 'down.example.com', ca: roots });
  assert.equal(fresh.serial, renewed[0]!.serial);
  assert.notEqual(fresh.serial, old.serial.toLowerCase());
  assert.equal(fresh.authorized, true, fresh.authorizationError);
  assert.equal(tls.status().certificates[0]!.failures, 0);
  assert.equal(tls.status().certificates[0]!.lastError, undefined);

  const text = JSON.stringify(logs);
  assert.equal(text.includes('PRIVATE KEY'), false, 'no key material in the logs');
});
