import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { type OnDemandChild, startOnDemandChild } from './fixtures/on-demand-child.ts';
import { type Handshake, peek } from './support.ts';

// RELIABILITY E6: 50 new allowed names at once. The on-demand server (a child process, as a real server
// would be) orders through a recording proxy, so the CA's view of the pacing is in proxy.log; Pebble
// validates tls-alpn-01 on the server's port (its DNS, a challtestsrv, answers 127.0.0.1 for every name).
const NAMES = Array.from({ length: 50 }, (_, i) => `n${String(i + 1).padStart(2, '0')}.burst.example`);
/**
 * The default is 10 orders per 10 s (maxWaitMs 30 s); a 2 s window keeps the test short with the same
 * shape, and 40 s of patience leaves room for a slow machine (the last turn comes after ~10 s here).
 */
const RATE = { orders: 10, intervalMs: 2_000, maxWaitMs: 40_000 };

let pebble: PebbleServer;
let proxy: FaultProxy;
let server: OnDemandChild;
let roots: string[];
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  roots = await pebble.roots();
  proxy = await startFaultProxy({ target: pebble });
  server = await startOnDemandChild({
    pebble,
    directoryUrl: proxy.directoryUrl,
    allow: NAMES,
    rateLimit: RATE,
  });
});
after(async () => {
  await server?.stop();
  await proxy?.stop();
  await pebble?.stop();
});

interface Timed {
  name: string;
  ms: number;
  result: Handshake | undefined;
  error: string | undefined;
}

async function timedPeek(name: string): Promise<Timed> {
  const started = Date.now();
  try {
    const result = await peek(server.port, { servername: name, ca: roots, timeoutMs: 55_000 });
    return { name, ms: Date.now() - started, result, error: undefined };
  } catch (err) {
    return { name, ms: Date.now() - started, result: undefined, error: (err as Error).message };
  }
}

const sanHas = (h: Handshake, name: string): boolean =>
  (h.cert.subjectaltname ?? '').split(', ').includes(`DNS:${name}`);

test('E6: 50 new allowed names at once: at most 10 newOrders in any 2 s as the CA sees them, first handshakes wait for the limiter, all 50 issued and served', {
  timeout: 120_000,
}, async () => {
  const started = Date.now();
  const first = await Promise.all(NAMES.map(timedPeek));
  const burstMs = Date.now() - started;

  // Orders as the CA saw them: newOrder requests Pebble answered 201 (one per order created; a request
  // refused with Pebble's random badNonce is sent again and created nothing).
  const orders = proxy
    .requests('newOrder')
    .filter((e) => e.status === 201)
    .map((e) => e.at)
    .sort((a, b) => a - b);
  const t0 = orders[0] ?? started;
  const waited = first.filter((h) => h.ms >= RATE.intervalMs).length;
  const spans = orders.slice(RATE.orders).map((t, i) => t - orders[i]!);
  console.log(
    `E6 burst: ${NAMES.length} first handshakes done in ${burstMs} ms; ${waited} took ≥ ${RATE.intervalMs} ms; ` +
      `shortest span of ${RATE.orders + 1} consecutive orders ${Math.min(...spans)} ms; ` +
      `newOrder at +ms ${JSON.stringify(orders.map((t) => t - t0))}`,
  );
  const failed = first.filter((h) => h.error !== undefined || !h.result?.authorized);
  assert.deepEqual(
    failed.map((h) => `${h.name}: ${h.error ?? h.result?.authorizationError} after ${h.ms} ms`),
    [],
    'every first handshake waited for its order and got a valid certificate',
  );
  for (const h of first) assert.ok(sanHas(h.result!, h.name), `${h.name} got a certificate for itself`);

  // One order per name, and never more than RATE.orders of them within any RATE.intervalMs.
  assert.equal(orders.length, NAMES.length);
  for (let i = 0; i + RATE.orders < orders.length; i++) {
    const span = orders[i + RATE.orders]! - orders[i]!;
    assert.ok(
      span >= RATE.intervalMs,
      `${RATE.orders + 1} orders (${i + 1}..${i + RATE.orders + 1}) within ${span} ms < ${RATE.intervalMs} ms`,
    );
  }
  // Handshakes held back by the limiter waited for it (at least one window) rather than failing fast.
  assert.ok(waited >= NAMES.length - RATE.orders, `only ${waited} handshakes waited for the limiter`);

  const report = await server.report();
  assert.equal(report.status.onDemand?.ordersStarted, NAMES.length);
  assert.deepEqual(report.obtained.map((o) => o.name).sort(), NAMES);
  for (const name of NAMES) assert.equal(report.asked[name]?.length, 1, `allow() asked once about ${name}`);

  // From now on every name is served from memory: valid, its own, the same certificate, no new order.
  const again = await Promise.all(NAMES.map(timedPeek));
  for (const [i, h] of again.entries()) {
    assert.ok(h.result?.authorized, `${h.name}: ${h.error ?? h.result?.authorizationError}`);
    assert.ok(sanHas(h.result, h.name));
    assert.equal(h.result.serial, first[i]!.result!.serial);
  }
  assert.equal(proxy.requests('newOrder').filter((e) => e.status === 201).length, NAMES.length);
});
