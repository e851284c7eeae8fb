import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compareStores, copyStore } from '../../../src/storage/copy.ts';
import { FileStore } from '../../../src/storage/file-store.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { PostgresStore } from '../../../src/storage/postgres-store.ts';
import { RedisStore } from '../../../src/storage/redis-store.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres.ts';
import { type RedisServer, startRedis } from '../../support/redis.ts';

let pg: PostgresServer;
let redis: RedisServer;
let dir: string;

before(async () => {
  [pg, redis, dir] = await Promise.all([
    startPostgres(),
    startRedis(),
    mkdtemp(join(tmpdir(), 'acmekit-copy-')),
  ]);
});
after(async () => {
  await Promise.all([pg?.stop(), redis?.stop(), dir && rm(dir, { recursive: true, force: true })]);
});

// A lego-like tree: secrets (account key, certificate key) and public files, one of them binary.
const ENTRIES: { key: string; value: Uint8Array; private: boolean }[] = [
  { key: 'accounts/acme/a@b.c/account.json', value: Buffer.from('{"email":"a@b.c"}\n'), private: true },
  { key: 'accounts/acme/a@b.c/keys/a@b.c.key', value: randomBytes(300), private: true },
  {
    key: 'certificates/example.com.crt',
    value: Buffer.from('-----BEGIN CERTIFICATE-----\n'),
    private: false,
  },
  { key: 'certificates/example.com.key', value: randomBytes(121), private: true },
  { key: 'certificates/example.com.json', value: Buffer.from([0, 1, 2, 255, 254]), private: false },
];

const mode = async (store: FileStore, key: string) => (await stat(store.pathOf(key))).mode & 0o777;

test('copyStore: file → postgres → redis → file keeps every byte and which keys are private', async () => {
  const source = new FileStore(join(dir, 'source'));
  for (const e of ENTRIES) await source.put(e.key, e.value, { private: e.private });
  const postgres = await PostgresStore.connect(pg.url);
  const redisStore = await RedisStore.connect(redis.url);
  try {
    const seen: string[] = [];
    assert.equal(await copyStore(source, postgres, { onKey: (key) => seen.push(key) }), ENTRIES.length);
    assert.deepEqual(seen, ENTRIES.map((e) => e.key).sort());
    assert.equal(await copyStore(postgres, redisStore), ENTRIES.length);
    const back = new FileStore(join(dir, 'back'));
    assert.equal(await copyStore(redisStore, back), ENTRIES.length);
    for (const e of ENTRIES) {
      assert.equal(await postgres.isPrivate(e.key), e.private, `postgres ${e.key}`);
      assert.equal(await redisStore.isPrivate(e.key), e.private, `redis ${e.key}`);
      assert.deepEqual(await back.get(e.key), new Uint8Array(e.value), e.key);
      assert.equal(await mode(back, e.key), await mode(source, e.key), `mode of ${e.key}`);
      assert.equal(await mode(back, e.key), e.private ? 0o600 : 0o644, `mode of ${e.key}`);
    }
    assert.deepEqual(await back.list(''), await source.list(''));
    // A prefix copies a part only.
    const certs = new MemoryStore();
    assert.equal(await copyStore(postgres, certs, { prefix: 'certificates/' }), 3);
    assert.deepEqual(await certs.list(''), await postgres.list('certificates/'));
  } finally {
    await Promise.all([postgres.close(), redisStore.close()]);
  }
});

test('copyStore: from a store that cannot tell, keys are private unless isPrivate says otherwise', async () => {
  const memory = new MemoryStore();
  await memory.put('certificates/a.crt', 'cert');
  await memory.put('certificates/a.key', 'key');
  const safe = new FileStore(join(dir, 'safe'));
  await copyStore(memory, safe);
  assert.equal(await mode(safe, 'certificates/a.crt'), 0o600);
  const told = new FileStore(join(dir, 'told'));
  await copyStore(memory, told, { isPrivate: (key) => key.endsWith('.key') });
  assert.equal(await mode(told, 'certificates/a.crt'), 0o644);
  assert.equal(await mode(told, 'certificates/a.key'), 0o600);
  await assert.rejects(copyStore(memory, told, { signal: AbortSignal.abort() }), { name: 'AbortedError' });
});

test('compareStores sorts keys into missing, same and different (bytes or private flag); copyStore copies only the keys given', async () => {
  const from = new FileStore(join(dir, 'compare-from'));
  const to = new FileStore(join(dir, 'compare-to'));
  await from.put('certificates/new.crt', 'new');
  await from.put('certificates/same.crt', 'same');
  await from.put('certificates/bytes.json', 'v2', { private: true });
  await from.put('certificates/flag.key', 'k', { private: true });
  await to.put('certificates/same.crt', 'same');
  await to.put('certificates/bytes.json', 'v1', { private: true });
  await to.put('certificates/flag.key', 'k');
  await to.put('certificates/only-in-to.crt', 'x');
  const plan = await compareStores(from, to);
  assert.deepEqual(plan, {
    missing: ['certificates/new.crt'],
    same: ['certificates/same.crt'],
    different: ['certificates/bytes.json', 'certificates/flag.key'],
  });
  assert.equal(await copyStore(from, to, { keys: plan.missing }), 1);
  assert.deepEqual(await compareStores(from, to), {
    ...plan,
    missing: [],
    same: ['certificates/new.crt', 'certificates/same.crt'],
  });
  assert.equal(await copyStore(from, to, { keys: plan.different }), 2);
  assert.equal(await mode(to, 'certificates/flag.key'), 0o600);
  assert.equal((await compareStores(from, to)).same.length, 4);
  assert.deepEqual(await to.get('certificates/only-in-to.crt'), new TextEncoder().encode('x'));
});
