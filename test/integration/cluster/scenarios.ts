import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Store, WatchableStore } from '../../../src/storage/store.ts';
import { allServe, type ClusterNode, succeeded } from './cluster.ts';
import { type ClusterEnvironment, DOMAIN, LEASE_TTL_MS, startClusterEnvironment } from './environment.ts';

/**
 * RELIABILITY C8-C10 with three server processes on one store and one Pebble, the same scenarios for
 * each backend. The test process watches the store itself, so it sees every write that happened.
 */
export interface Backend {
  name: 'postgres' | 'redis';
  /** A store of the test's own on the cluster's tables or keys. */
  connect(env: ClusterEnvironment): Promise<Store & WatchableStore & { close(): Promise<void> }>;
  /** When the backend keeps one: when `key` was last written (proof that a refused write wrote nothing). */
  writtenAt?(env: ClusterEnvironment, key: string): Promise<string | undefined>;
}

const CRT = `certificates/${DOMAIN}.crt`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function clusterScenarios(backend: Backend): void {
  let env: ClusterEnvironment;
  let store: Store & WatchableStore & { close(): Promise<void> };
  let nodes: ClusterNode[];
  const writes: { key: string; at: number }[] = [];
  const watching = new AbortController();

  before(async () => {
    env = await startClusterEnvironment(backend.name);
    store = await backend.connect(env);
    await store.watch(
      'certificates/',
      { change: (key) => writes.push({ key, at: Date.now() }), resync: () => {} },
      watching.signal,
    );
  });
  after(async () => {
    watching.abort();
    await store?.close();
    await env?.stop();
  });

  const text = async (key: string) => {
    const bytes = await store.get(key);
    return bytes && Buffer.from(bytes).toString('utf8');
  };
  const leftovers = async () => [
    ...(await store.list('challenges/')),
    ...(await store.list('certificates/')).filter((k) => k.endsWith('.pending')),
  ];
  /** Where `node` stands before a renewal: its message count and the serial it serves. */
  const mark = async (node: ClusterNode) => ({
    from: node.messages.length,
    serial: (await node.status()).certificates[0]!.serial,
  });
  /** The serial of the renewal `node` reported since `before`, which must be a new one. */
  const renewed = async (node: ClusterNode, before: { from: number; serial: string | undefined }) => {
    const m = await node.waitFor(
      'a renewal',
      (x) => x.event === 'renewed' && node.messages.indexOf(x) >= before.from,
    );
    const serial = m.event === 'renewed' ? m.serial : '';
    assert.ok(serial && serial !== before.serial, `a new serial, not ${before.serial}`);
    return serial;
  };

  test(`C8: three processes starting together on one ${backend.name} order once, and all serve that certificate`, async () => {
    nodes = await Promise.all(['a', 'b', 'c'].map((name) => env.startNode(name)));
    const first = await Promise.race(
      nodes.map((n) => n.waitFor('the first certificate', (m) => m.event === 'obtained', 60_000)),
    );
    const serial = first.event === 'obtained' ? first.serial : '';
    await allServe(nodes, DOMAIN, serial, 10_000);
    assert.equal(succeeded(env.proxy, 'newOrder'), 1, 'exactly one newOrder reached the CA');
    assert.equal(succeeded(env.proxy, 'newAccount'), 1, 'one account, registered under the lock');
    assert.deepEqual(await leftovers(), []);
  });

  test(`${backend.name}: a renewal on one process reaches the other two within 5 s through notifications; the CA is answered whichever process it reaches`, async () => {
    const [a, b, c] = nodes;
    const connections = env.balancer.log.length;
    for (let i = 0; i < 2; i++) {
      const from = await mark(a!);
      const reply = await a!.request({ cmd: 'renew', force: true });
      assert.equal(reply.ok, true, reply.error);
      const took = await allServe(nodes, DOMAIN, await renewed(a!, from), 5000);
      assert.ok(took <= 5000, `${took} ms`);
    }
    // Round robin sent at least one of the two validations to a process that did not present the token.
    const reached = env.balancer.log.slice(connections);
    assert.ok(
      reached.some((port) => port === b!.httpPort || port === c!.httpPort),
      `validations reached ${JSON.stringify(reached)}`,
    );
    for (const n of [b!, c!]) {
      const { storeSync } = await n.status();
      assert.equal(storeSync.mode, 'notifications');
      assert.ok(storeSync.loaded >= 2, JSON.stringify(storeSync));
    }
    assert.equal(succeeded(env.proxy, 'newOrder'), 3);
  });

  test(`C8: ${backend.name}: a forced renewal asked of all three processes at once is ordered exactly once`, async () => {
    const orders = succeeded(env.proxy, 'newOrder');
    const before = (await nodes[0]!.status()).certificates[0]!.serial;
    const replies = await Promise.all(nodes.map((n) => n.request({ cmd: 'renew', force: true })));
    for (const r of replies) assert.equal(r.ok, true, r.error);
    assert.equal(succeeded(env.proxy, 'newOrder'), orders + 1, 'one newOrder for three requests');
    const serial = (await nodes[0]!.status()).certificates[0]!.serial!;
    assert.notEqual(serial, before);
    await allServe(nodes, DOMAIN, serial, 5000);
  });

  test(`C9: ${backend.name}: kill -9 of the lease holder mid-order: another process takes over after the lease ttl and completes the same order`, async () => {
    const [a, b, c] = nodes;
    const orders = succeeded(env.proxy, 'newOrder');
    const finalizes = succeeded(env.proxy, 'finalize');
    await env.forgetAuthorizations(store);
    await a!.request({ cmd: 'presentDelay', ms: 600_000 });
    void a!.request({ cmd: 'renew', force: true }, 120_000).catch(() => {});
    await a!.waitFor('the order to reach present', (m) => m.event === 'presenting');
    assert.equal(succeeded(env.proxy, 'newOrder'), orders + 1);
    a!.kill('SIGKILL');
    const killedAt = Date.now();

    const from = await mark(b!);
    const reply = await b!.request({ cmd: 'renew', force: true }, 60_000);
    assert.equal(reply.ok, true, reply.error);
    const took = Date.now() - killedAt;
    assert.ok(took < LEASE_TTL_MS + 10_000, `took over after ${took} ms`);
    const serial = await renewed(b!, from);
    assert.equal(
      succeeded(env.proxy, 'newOrder'),
      orders + 1,
      'the dead holder’s order was resumed, not replaced',
    );
    assert.equal(succeeded(env.proxy, 'finalize'), finalizes + 1, 'one certificate issued');
    await allServe([b!, c!], DOMAIN, serial, 5000);
    assert.deepEqual(await leftovers(), [], 'no pending key, no challenge left behind');

    // A replacement process starts from the store and serves the same certificate.
    const a2 = await env.startNode('a2');
    nodes = [a2, b!, c!];
    await allServe(nodes, DOMAIN, serial, 10_000);
  });

  test(`${backend.name} restarting: every process keeps serving from memory, reconnects, and notifications resume`, async () => {
    const serial = (await nodes[1]!.status()).certificates[0]!.serial!;
    await env.db.down();
    await allServe(nodes, DOMAIN, serial, 1000);
    await sleep(1000);
    await allServe(nodes, DOMAIN, serial, 1000);
    await env.db.up();
    for (const n of nodes) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { storeSync } = await n.status();
        if (storeSync.mode === 'notifications' && storeSync.resyncs >= 1) break;
        assert.ok(Date.now() < deadline, `${n.name} did not subscribe again: ${JSON.stringify(storeSync)}`);
        await sleep(100);
      }
    }
    const from = await mark(nodes[1]!);
    // The store's own client reconnects with backoff: the first attempt may still find it away.
    for (let attempt = 1; ; attempt++) {
      const reply = await nodes[1]!.request({ cmd: 'renew', force: true });
      if (reply.ok) break;
      assert.ok(attempt < 5, reply.error);
      await sleep(500);
    }
    await allServe(nodes, DOMAIN, await renewed(nodes[1]!, from), 5000);
  });

  test(`C10: ${backend.name}: the lease holder stopped past its ttl: another renews, and the resumed holder’s write is refused by fencing`, async () => {
    const [a, b, c] = nodes;
    const orders = succeeded(env.proxy, 'newOrder');
    const finalizes = succeeded(env.proxy, 'finalize');
    await env.forgetAuthorizations(store);
    await a!.request({ cmd: 'presentDelay', ms: 1500 });
    const held = a!.request({ cmd: 'renew', force: true }, 120_000);
    await a!.waitFor('the order to reach present', (m) => m.event === 'presenting');
    // The balancer's health check takes the frozen process out, as it would in production.
    env.balance([b!, c!]);
    a!.kill('SIGSTOP');

    const from = await mark(b!);
    const reply = await b!.request({ cmd: 'renew', force: true }, 60_000);
    assert.equal(reply.ok, true, reply.error);
    const serial = await renewed(b!, from);
    const newer = await text(CRT);
    const newerAt = await backend.writtenAt?.(env, CRT);
    await sleep(300); // the last notifications of b's writes arrive
    const resumedAt = Date.now();

    a!.kill('SIGCONT');
    env.balance(nodes);
    const refused = await held;
    assert.equal(refused.ok, false, 'the resumed holder did not get to write');
    assert.equal(refused.code, 'ERR_FENCED', refused.error);
    await sleep(300);
    assert.deepEqual(
      writes.filter((w) => w.at >= resumedAt),
      [],
      'no certificate file was written after the holder resumed',
    );
    assert.equal(await text(CRT), newer, 'the store kept the certificate written under the newer lease');
    if (backend.writtenAt) assert.equal(await backend.writtenAt(env, CRT), newerAt);
    assert.equal(succeeded(env.proxy, 'newOrder'), orders + 1);
    assert.equal(succeeded(env.proxy, 'finalize'), finalizes + 1, 'one certificate issued');
    await allServe(nodes, DOMAIN, serial, 5000);
    const status = await a!.status();
    assert.equal(status.certificates[0]!.failures, 0, 'a lost lease is not a failure of the certificate');
    assert.deepEqual(await leftovers(), []);
  });
}
