import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, type TestContext, test } from 'node:test';
import { type Account, Http01ListenerSolver, obtainCertificate, TimeoutError } from '../../../src/index.ts';
import { type FaultProxy, type ProxyLogEntry, silentBody, trickle } from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { eventually, proxiedClient, rejection, uniqueName } from './proxied.ts';

// RELIABILITY B13: a slow server, through the fault proxy in front of a real Pebble. The transport's
// `timeoutMs` is one deadline for the whole request (connect, headers and the entire body), not an idle
// timeout that every byte resets; obtain's `timeoutMs` bounds the whole flow. After a failure and
// client.close() no socket of the client is left: every socket it opened is destroyed (idle keep-alive
// ones included, seen through diagnostics_channel), the process's ref'd TCP handles are back at the
// baseline, and the proxy (which here never drops idle connections itself) has no client connection.

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

const FAST_RETRY = { backoffBaseMs: 50, backoffMaxMs: 200 };
/** The proxy never closes an idle connection by itself here: a socket open after close() is the client's. */
const KEEP_IDLE = { keepAliveTimeoutMs: 120_000 };
/** Generous for a busy 2-core machine; still far below what the slow answers would take (minutes). */
const LATE_MS = 2000;

/** Ref'd TCP handles of this process (what keeps it from exiting) beyond the proxy's own connections. */
function otherTcpHandles(proxy: FaultProxy): number {
  const tcp = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  const { downstream, upstream } = proxy.connections();
  return tcp - downstream - upstream;
}

/**
 * Every socket an HTTP(S) client request of this process gets, seen through diagnostics_channel; those
 * connected to the proxy's port are the client's (the proxy's own requests go to Pebble's port). Idle
 * keep-alive sockets are unref'd and so missing from getActiveResourcesInfo(); this sees them too.
 */
function watchClientSockets(t: TestContext, proxy: FaultProxy): { open(): Socket[]; seen(): number } {
  const sockets = new Set<Socket>();
  const onStart = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    // Published when the request is sent; a reused keep-alive socket is already assigned by then.
    const take = (socket: Socket): void => {
      const keep = () => {
        if (socket.remotePort === proxy.port) sockets.add(socket);
      };
      if (socket.remotePort !== undefined) keep();
      else socket.once('connect', keep);
    };
    if (request.socket) take(request.socket);
    else request.once('socket', take);
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  t.after(() => diagnostics.unsubscribe('http.client.request.start', onStart));
  return { open: () => [...sockets].filter((s) => !s.destroyed), seen: () => sockets.size };
}

/** After client.close(): the client holds no socket at all and no TCP handle beyond the baseline; the proxy sees no client. */
async function assertNoSocketsLeft(
  proxy: FaultProxy,
  watch: ReturnType<typeof watchClientSockets>,
  baseline: number,
): Promise<void> {
  const done = () =>
    watch.open().length === 0 && otherTcpHandles(proxy) <= baseline && proxy.connections().downstream === 0;
  await eventually(done, 3000);
  assert.ok(watch.seen() > 0, 'the watch saw the client’s sockets');
  assert.equal(watch.open().length, 0, `${watch.open().length} of ${watch.seen()} client sockets still open`);
  assert.ok(
    otherTcpHandles(proxy) <= baseline,
    `no TCP handle of the client is left: ${otherTcpHandles(proxy)} beyond the proxy's, ${baseline} before the client connected (${process.getActiveResourcesInfo().join(', ')})`,
  );
  assert.equal(proxy.connections().downstream, 0, 'no connection from the client to the proxy is left');
}

/**
 * A backstop for a broken deadline: an abort (AbortedError, which these tests do not accept) well after
 * the deadline under test, so a missing deadline fails the test instead of hanging it for minutes.
 */
function backstop(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('backstop: the deadline under test never fired')),
    ms,
  );
  timer.unref();
  return controller.signal;
}

/** Parallel requests, so the client holds more than one keep-alive socket when the slow answer comes. */
async function warmUp(account: Account): Promise<void> {
  await Promise.all([account.refresh(), account.refresh(), account.refresh()]);
}

/**
 * A client with a per-request deadline of `timeoutMs` behind a proxy that keeps idle connections,
 * its account made and several keep-alive sockets open; the TCP handles and sockets are recorded so
 * the test can check that none is left afterwards.
 */
async function warmClient(t: TestContext, timeoutMs: number) {
  const { proxy, client } = await proxiedClient(
    t,
    pebble,
    { timeoutMs, retry: { ...FAST_RETRY, attempts: 3 } },
    KEEP_IDLE,
  );
  const baseline = otherTcpHandles(proxy);
  const watch = watchClientSockets(t, proxy);
  const account = await client.createAccount({ acceptTos: true });
  await warmUp(account);
  return { proxy, client, baseline, watch, account };
}

const slowed = (log: readonly ProxyLogEntry[]) => log.filter((e) => e.faults.includes('trickle'));

test('B13: headers, then silence: the per-request deadline fires and the connection is closed; no socket is left', async (t) => {
  const timeoutMs = 1500;
  const { proxy, client, baseline, watch, account } = await warmClient(t, timeoutMs);
  proxy.rule({ resource: 'newOrder', action: silentBody() });

  const started = Date.now();
  const err = await rejection(
    account.newOrder({ identifiers: [uniqueName('b13-silent')], signal: backstop(10_000) }),
  );
  const took = Date.now() - started;
  assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
  assert.equal(err.code, 'ERR_TIMEOUT');
  assert.match(err.message, /no complete answer within 1500 ms/);

  const tries = slowed(proxy.requests('newOrder'));
  assert.ok(tries.length >= 1 && tries.length <= client.http.retry.attempts, `${tries.length} attempts`);
  for (const e of tries) {
    assert.equal(e.status, 201, 'the status line and headers did arrive');
    assert.equal(e.bodyBytesSent, 0, 'and then not one byte of the body');
  }
  assert.ok(took >= timeoutMs, `fired at the deadline, not before (${took} ms)`);
  assert.ok(took < tries.length * timeoutMs + LATE_MS, `fired near the deadline (${took} ms)`);

  // The timed-out request's connection is closed by the client right away, not left to the server.
  await eventually(() => tries.every((e) => e.clientClosed));
  for (const e of tries) assert.ok(e.clientClosed, `connection of #${e.seq} closed by the client`);
  assert.ok(watch.open().length >= 1, 'idle keep-alive sockets are open before close()');
  client.close();
  await assertNoSocketsLeft(proxy, watch, baseline);
});

test('B13: a 1 byte/s body cannot outlast the per-request deadline: it covers the whole body, not the gaps; no socket is left', async (t) => {
  const timeoutMs = 2500;
  const { proxy, client, baseline, watch, account } = await warmClient(t, timeoutMs);
  // A byte every second: an idle timeout of 2.5 s would be reset forever (the order body is ~400 bytes).
  proxy.rule({ resource: 'newOrder', action: trickle(1) });

  const started = Date.now();
  const err = await rejection(
    account.newOrder({ identifiers: [uniqueName('b13-trickle')], signal: backstop(12_000) }),
  );
  const took = Date.now() - started;
  assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
  assert.match(err.message, /no complete answer within 2500 ms/);

  const tries = slowed(proxy.requests('newOrder'));
  assert.ok(tries.length >= 1 && tries.length <= client.http.retry.attempts, `${tries.length} attempts`);
  const [first] = tries;
  assert.ok(first);
  assert.equal(first.status, 201);
  assert.ok(
    (first.bodyBytesSent ?? 0) >= 1,
    `the body was flowing when the deadline fired (${first.bodyBytesSent} bytes sent)`,
  );
  assert.ok(took >= timeoutMs, `fired at the deadline, not before (${took} ms)`);
  assert.ok(
    took < tries.length * timeoutMs + LATE_MS,
    `fired near the deadline, not at the body's end (${took} ms)`,
  );

  await eventually(() => tries.every((e) => e.clientClosed));
  for (const e of tries) assert.ok(e.clientClosed, `connection of #${e.seq} closed by the client`);
  assert.ok(
    tries.every((e) => (e.bodyBytesSent ?? 0) < 100),
    'the proxy stopped trickling once the client left',
  );
  assert.ok(watch.open().length >= 1, 'idle keep-alive sockets are open before close()');
  client.close();
  await assertNoSocketsLeft(proxy, watch, baseline);
});

test('B13: the whole operation has a deadline: obtain timeoutMs stops a flow whose answers trickle within the per-request deadline; no socket is left', async (t) => {
  // Per-request deadline left at its default (30 s): each trickled answer alone would take ~20 s.
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY }, KEEP_IDLE);
  const baseline = otherTcpHandles(proxy);
  const watch = watchClientSockets(t, proxy);
  const account = await client.createAccount({ acceptTos: true });
  await warmUp(account);
  proxy.rule({ resource: ['authz', 'order', 'chall'], action: trickle(20) });

  const obtainTimeoutMs = 3000;
  const started = Date.now();
  const err = await rejection(
    obtainCertificate(account, {
      names: [uniqueName('b13-flow')],
      solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
      timeoutMs: obtainTimeoutMs,
      signal: backstop(12_000),
    }),
  );
  const took = Date.now() - started;
  assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
  assert.ok(took >= obtainTimeoutMs, `stopped at the flow's deadline, not before (${took} ms)`);
  assert.ok(took < obtainTimeoutMs + LATE_MS, `stopped near the flow's deadline (${took} ms)`);

  const tries = slowed(proxy.log);
  assert.ok(tries.length >= 1, 'a trickled answer was being read when the deadline fired');
  await eventually(() => tries.every((e) => e.clientClosed || e.doneAt !== undefined));
  for (const e of tries) {
    assert.ok(e.clientClosed || e.doneAt !== undefined, `trickled ${e.resource} #${e.seq} ended`);
  }
  assert.ok(watch.open().length >= 1, 'idle keep-alive sockets are open before close()');
  client.close();
  await assertNoSocketsLeft(proxy, watch, baseline);
});
