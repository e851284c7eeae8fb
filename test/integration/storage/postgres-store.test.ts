import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import pg from 'pg';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { StorageError } from '../../../src/errors/storage.ts';
import { migrate, PostgresStore } from '../../../src/storage/postgres-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { storeContract } from '../../contract/store.contract.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres.ts';

let server: PostgresServer;
let pool: pg.Pool;
let fixtures = 0;
// Each test gets its own tables in the one database: the prefix is what lets installations share it.
const freshPrefix = () => `t${++fixtures}_`;

before(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 10 });
  pool.on('error', () => {});
});
after(async () => {
  await pool?.end();
  await server?.stop();
});

storeContract('postgres', async () => {
  const store = await PostgresStore.connect(server.url, { prefix: freshPrefix(), pollMs: 10 });
  return { store, cleanup: () => store.close() };
});

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString() : undefined);

function assertNoPassword(err: unknown): true {
  assert.ok(err instanceof StorageError, `expected StorageError, got ${inspect(err)}`);
  const shown = `${err.message}\n${inspect(err, { depth: 6 })}`;
  assert.ok(!shown.includes(server.password), 'the password must not appear in the error');
  return true;
}

test('postgres store: a pg.Pool works as the SqlClient; schema made on first use, private flag kept', async () => {
  const prefix = freshPrefix();
  const store = new PostgresStore(pool, { prefix });
  await store.put('accounts/a/keys/a.key', new Uint8Array([0, 255, 10]), { private: true });
  await store.put('certificates/a.crt', 'cert');
  assert.equal(await store.isPrivate('accounts/a/keys/a.key'), true);
  assert.equal(await store.isPrivate('certificates/a.crt'), false);
  assert.equal(await store.isPrivate('certificates/none.crt'), undefined);
  const { rows } = await pool.query(`SELECT version FROM "${prefix}schema"`);
  assert.deepEqual(rows, [{ version: 1 }]);
  // Another installation in the same database sees nothing of this one.
  assert.deepEqual(await new PostgresStore(pool, { prefix: freshPrefix() }).list(''), []);
  assert.deepEqual(await store.list('certificates/'), ['certificates/a.crt']);
});

test('postgres store: list treats "%" and "_" in the prefix literally', async () => {
  const store = new PostgresStore(pool, { prefix: freshPrefix() });
  for (const key of ['a_b/1', 'axb/2', 'a%c/3', 'abc/4']) await store.put(key, key);
  assert.deepEqual(await store.list('a_'), ['a_b/1']);
  assert.deepEqual(await store.list('a%'), ['a%c/3']);
});

test('postgres store: migrate() is idempotent and safe to run from many callers at once', async () => {
  const prefix = freshPrefix();
  await Promise.all(Array.from({ length: 6 }, () => migrate(pool, prefix)));
  await migrate(pool, prefix);
  const store = new PostgresStore(pool, { prefix, migrate: false });
  await store.put('x/y', 'z');
  assert.equal(text(await store.get('x/y')), 'z');
  // A schema written by a newer acmekit is refused, not misread.
  await pool.query(`UPDATE "${prefix}schema" SET version = 99`);
  await assert.rejects(new PostgresStore(pool, { prefix }).get('x/y'), (err: unknown) => {
    assert.ok(err instanceof StorageError && /newer than this acmekit/.test(err.message), String(err));
    return true;
  });
});

test('postgres store: a prefix that is not a plain identifier is refused', () => {
  for (const prefix of ['', 'A_', 'x"; DROP TABLE y; --', '1abc', 'a-b']) {
    assert.throws(() => new PostgresStore(pool, { prefix }), InvalidInputError);
  }
});

test('postgres store: a wrong password fails with StorageError that does not show it', async () => {
  const url = server.url.replace(server.password, 'not-the-password-42');
  const store = await PostgresStore.connect(url, { prefix: freshPrefix() });
  try {
    await assert.rejects(store.get('a/b'), (err: unknown) => {
      assertNoPassword(err);
      assert.ok(!String((err as Error).message).includes('not-the-password-42'));
      assert.match((err as Error).message, /postgres read a\/b.*password authentication failed/);
      return true;
    });
  } finally {
    await store.close();
  }
});

test('postgres store: the database restarting fails calls with StorageError, then they work again', async () => {
  const store = await PostgresStore.connect(server.url, { prefix: freshPrefix(), connectTimeoutMs: 1000 });
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
        assert.match((err as Error).message, /^postgres \w+ .*(running and reachable|ECONNREFUSED)/s);
        return true;
      });
    }
    await server.up();
    assert.equal(text(await store.get('certificates/r.crt')), 'before');
    await store.put('certificates/r.crt', 'after', { lease });
    await lease.renew();
    assert.equal(text(await store.get('certificates/r.crt')), 'after');
    await lease.release();
  } finally {
    await store.close();
  }
});

test('C8: postgres store: 20 lockers on two pools never overlap, and no write under a lease is lost', async () => {
  const prefix = freshPrefix();
  // Two stores on two pools: as two processes would be, only the database is shared.
  const stores: PostgresStore[] = [
    await PostgresStore.connect(server.url, { prefix, pollMs: 5, owner: 'one' }),
    await PostgresStore.connect(server.url, { prefix, pollMs: 5, owner: 'two' }),
  ];
  try {
    await stores[0]!.put('counter', '0');
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
    assert.equal(text(await stores[1]!.get('counter')), '20');
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

test('postgres store: watch on a pool you run hears another store’s writes, and resyncs after the database restarts', async () => {
  const prefix = freshPrefix();
  // Your own pg.Pool, as the query client and as where LISTEN takes its session.
  const yours = new pg.Pool({ connectionString: server.url, max: 3 });
  yours.on('error', () => {});
  const watcher = new PostgresStore(yours, { prefix, listen: yours });
  const writer = await PostgresStore.connect(server.url, { prefix, connectTimeoutMs: 1000 });
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
    assert.equal(yours.totalCount, 1, 'one session held for LISTEN');

    await server.down();
    await until('the loss to be reported', () => errors.length > 0);
    await server.up();
    await until('the LISTEN to be made again', () => resyncs === 1, 15_000);
    for (const err of errors) assertNoPassword(err);
    await writer.put('certificates/two.crt', 'two');
    await until('a notification after the restart', () => seen.includes('certificates/two.crt'));
  } finally {
    ac.abort();
    await writer.close();
    await until('the LISTEN session to be closed', () => yours.totalCount === yours.idleCount);
    await yours.end();
  }
});

test('postgres store: a store without a LISTEN source refuses watch() and says what to pass', async () => {
  const store = new PostgresStore(pool, { prefix: freshPrefix() });
  await assert.rejects(
    store.watch('certificates/', { change: () => {}, resync: () => {} }, new AbortController().signal),
    (err: unknown) => err instanceof InvalidInputError && /cannot watch/.test(err.message),
  );
});
