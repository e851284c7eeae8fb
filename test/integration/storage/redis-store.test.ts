import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { createClient, RESP_TYPES } from '@redis/client';
import { StorageError } from '../../../src/errors/storage.ts';
import { nodeRedisSubscriber, RedisStore } from '../../../src/storage/redis-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { storeContract } from '../../contract/store.contract.ts';
import { type RedisServer, startRedis } from '../../support/redis.ts';

let server: RedisServer;
let fixtures = 0;
// Each test gets its own key prefix in the one Redis: the prefix is what lets installations share it.
const freshPrefix = () => `t${++fixtures}:`;

before(async () => {
  server = await startRedis();
});
after(() => server?.stop());

storeContract('redis', async () => {
  const store = await RedisStore.connect(server.url, { prefix: freshPrefix(), pollMs: 10 });
  return { store, cleanup: () => store.close() };
});

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString() : undefined);

function assertNoPassword(err: unknown): true {
  assert.ok(err instanceof StorageError, `expected StorageError, got ${inspect(err)}`);
  const shown = `${err.message}\n${inspect(err, { depth: 6 })}`;
  assert.ok(!shown.includes(server.password), 'the password must not appear in the error');
  return true;
}

test('redis store: a node-redis client you run works through the adapter; private flag kept', async () => {
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
  try {
    const typeMapping = { [RESP_TYPES.BLOB_STRING]: Buffer };
    const store = new RedisStore(
      { sendCommand: (args) => client.sendCommand(args, { typeMapping }) },
      { prefix: freshPrefix() },
    );
    await store.put('accounts/a/keys/a.key', new Uint8Array([0, 255, 10, 128]), { private: true });
    await store.put('certificates/a.crt', 'cert');
    assert.deepEqual(await store.get('accounts/a/keys/a.key'), new Uint8Array([0, 255, 10, 128]));
    assert.equal(await store.isPrivate('accounts/a/keys/a.key'), true);
    assert.equal(await store.isPrivate('certificates/a.crt'), false);
    assert.equal(await store.isPrivate('certificates/none.crt'), undefined);
    // A client left decoding bulk strings as text is caught, not silently corrupting binary values.
    const textual = new RedisStore({ sendCommand: (args) => client.sendCommand(args) }, { prefix: 'x:' });
    await textual.put('a/b', 'v');
    await assert.rejects(textual.get('a/b'), /return Buffers/);
  } finally {
    await client.close();
  }
});

test('redis store: installations with different prefixes do not see each other', async () => {
  const [a, b] = await Promise.all([
    RedisStore.connect(server.url, { prefix: freshPrefix() }),
    RedisStore.connect(server.url, { prefix: freshPrefix() }),
  ]);
  try {
    await a.put('certificates/x.crt', 'a');
    const lease = await a.lock('renew', { ttlMs: 10_000 });
    assert.deepEqual(await b.list(''), []);
    assert.equal(await b.get('certificates/x.crt'), undefined);
    const other = await b.lock('renew', { ttlMs: 1000, waitMs: 0 });
    await other.release();
    await lease.release();
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('redis store: a wrong password fails with StorageError that does not show it', async () => {
  const url = server.url.replace(server.password, 'not-the-password-42');
  await assert.rejects(RedisStore.connect(url, { connectTimeoutMs: 1000 }), (err: unknown) => {
    assertNoPassword(err);
    assert.ok(!String((err as Error).message).includes('not-the-password-42'));
    assert.match((err as Error).message, /^redis connect: /);
    return true;
  });
});

test('redis store: Redis restarting fails calls with StorageError, then they work again', async () => {
  const store = await RedisStore.connect(server.url, { prefix: freshPrefix() });
  try {
    await store.put('certificates/r.crt', 'before');
    const lease = await store.lock('restart', { ttlMs: 30_000 });
    await server.down();
    for (const call of [
      () => store.get('certificates/r.crt'),
      () => store.put('certificates/r.crt', 'during'),
      () => store.list(''),
      () => store.lock('other', { ttlMs: 1000, waitMs: 100 }),
      () => lease.renew(),
    ]) {
      await assert.rejects(call(), (err: unknown) => {
        assertNoPassword(err);
        assert.match((err as Error).message, /^redis \w+ .*running and reachable/s);
        return true;
      });
    }
    await server.up();
    // The client reconnects on its own, with backoff: the first calls may still find it offline.
    const deadline = Date.now() + 5000;
    for (;;) {
      const got = await store.get('certificates/r.crt').catch((err: Error) => err);
      if (!(got instanceof Error)) {
        assert.equal(text(got), 'before', 'AOF kept the data across the restart');
        break;
      }
      if (Date.now() > deadline) throw got;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Scripts are gone from the restarted server's cache (NOSCRIPT): they are sent again.
    await store.put('certificates/r.crt', 'after', { lease });
    await lease.renew();
    assert.equal(text(await store.get('certificates/r.crt')), 'after');
    await lease.release();
    const next = await store.lock('restart', { ttlMs: 1000, waitMs: 0 });
    assert.ok(next.fence > lease.fence, 'the fence survived the restart');
    await next.release();
  } finally {
    await store.close();
  }
});

test('C8: redis store: 20 lockers on two clients never overlap, and no write under a lease is lost', async () => {
  const prefix = freshPrefix();
  // Two stores on two connections: as two processes would be, only Redis is shared.
  const stores = await Promise.all([
    RedisStore.connect(server.url, { prefix, pollMs: 5, owner: 'one' }),
    RedisStore.connect(server.url, { prefix, pollMs: 5, owner: 'two' }),
  ]);
  try {
    await stores[0].put('counter', '0');
    let inside = 0;
    let most = 0;
    const fences: number[] = [];
    const worker = async (store: Store) => {
      const lease = await store.lock('counter', { ttlMs: 10_000 });
      inside++;
      most = Math.max(most, inside);
      fences.push(lease.fence);
      const n = Number(text(await store.get('counter')));
      await new Promise((resolve) => setTimeout(resolve, 2));
      await store.put('counter', String(n + 1), { lease });
      inside--;
      await lease.release();
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => worker(stores[i % 2]!)));
    assert.equal(most, 1, 'one holder at a time');
    assert.equal(text(await stores[1].get('counter')), '20');
    assert.deepEqual(
      fences,
      [...fences].sort((a, b) => a - b),
      'fences grow in grant order',
    );
    assert.equal(new Set(fences).size, 20);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('redis store: watch through a node-redis client you run hears another store’s writes, and resyncs after Redis restarts', async () => {
  const prefix = freshPrefix();
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
  const typeMapping = { [RESP_TYPES.BLOB_STRING]: Buffer };
  const watcher = new RedisStore(
    { sendCommand: (args) => client.sendCommand(args, { typeMapping }) },
    { prefix, subscriber: nodeRedisSubscriber(() => client.duplicate()) },
  );
  const writer = await RedisStore.connect(server.url, { prefix });
  const seen: string[] = [];
  const errors: Error[] = [];
  let resyncs = 0;
  const ac = new AbortController();
  try {
    await watcher.watch(
      'certificates/',
      { change: (key) => seen.push(key), resync: () => resyncs++, error: (err) => errors.push(err) },
      ac.signal,
    );
    await writer.put('certificates/one.crt', 'one');
    await until('the first notification', () => seen.includes('certificates/one.crt'));

    await server.down();
    await until('the loss to be reported', () => errors.length > 0);
    await server.up();
    await until('the subscription to be made again', () => resyncs >= 1, 15_000);
    for (const err of errors) assertNoPassword(err);
    // The writer's own client reconnects with backoff: retry its first write.
    const deadline = Date.now() + 5000;
    while (
      !(await writer.put('certificates/two.crt', 'two').then(
        () => true,
        () => false,
      ))
    ) {
      assert.ok(Date.now() < deadline, 'the writer reconnects');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until('a notification after the restart', () => seen.includes('certificates/two.crt'));
  } finally {
    ac.abort();
    await writer.close();
    await client.close();
  }
});
