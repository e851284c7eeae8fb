import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LockTimeoutError, StorageError } from '../../../src/errors/storage.ts';
import { FileStore } from '../../../src/storage/file-store.ts';

// A lock, guard or fence file that acmekit cannot use must end a lock() with an error naming the file
// and saying to remove it, never a wait that spins (a dangling symlink or a folder as the guard used to
// make lock() retry at once, forever, at ~90 % CPU). A live guard is waited for with a backoff, no
// longer than the caller's waitMs.

const isRoot = process.getuid?.() === 0;

async function storeWithLocks(t: { after: (fn: () => Promise<void>) => void }): Promise<{
  store: FileStore;
  locks: string;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-locks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const locks = join(dir, '.locks');
  await mkdir(locks, { mode: 0o700 });
  return { store: new FileStore(dir), locks };
}

/** Rejects with a StorageError naming `path` and telling to remove it, well before `waitMs` ran out. */
async function refusedNaming(work: Promise<unknown>, path: string, what: RegExp): Promise<void> {
  const started = Date.now();
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), err.message);
    assert.match(err.message, what);
    assert.match(err.message, /Remove it \(rm /);
    return true;
  });
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
}

const LONG_WAIT = { ttlMs: 10_000, waitMs: 60_000 };

test('file store: a guard that is a dangling symbolic link fails lock() at once, naming the file', async (t) => {
  const { store, locks } = await storeWithLocks(t);
  const guard = join(locks, 'renew.guard');
  await symlink(join(locks, 'nowhere'), guard);
  await refusedNaming(store.lock('renew', LONG_WAIT), guard, /unusable guard file: it is a symbolic link/);
});

test('file store: a guard that is a folder fails lock(), a write and a release under a lease, naming the file', async (t) => {
  const { store, locks } = await storeWithLocks(t);
  const guard = join(locks, 'renew.guard');
  await mkdir(guard);
  await refusedNaming(store.lock('renew', LONG_WAIT), guard, /unusable guard file: it is a folder/);
  // The guard of another name is fine: get a lease, then break its guard the same way.
  const lease = await store.lock('other', LONG_WAIT);
  await mkdir(join(locks, 'other.guard'));
  await refusedNaming(store.put('certificates/a.crt', 'x', { lease }), join(locks, 'other.guard'), /folder/);
  await refusedNaming(lease.release(), join(locks, 'other.guard'), /folder/);
});

test('file store: a lock or fence file that is a folder fails lock(), naming the file', async (t) => {
  const { store, locks } = await storeWithLocks(t);
  await mkdir(join(locks, 'a.lock'));
  await refusedNaming(
    store.lock('a', LONG_WAIT),
    join(locks, 'a.lock'),
    /unusable lock file: it is a folder/,
  );
  await mkdir(join(locks, 'b.fence'));
  await refusedNaming(
    store.lock('b', LONG_WAIT),
    join(locks, 'b.fence'),
    /unusable fence file: it is a folder/,
  );
});

test('file store: an unreadable guard fails lock(), naming the file', {
  skip: isRoot ? 'root reads any file' : false,
}, async (t) => {
  const { store, locks } = await storeWithLocks(t);
  const guard = join(locks, 'renew.guard');
  await writeFile(guard, '{}');
  await chmod(guard, 0o000);
  await refusedNaming(store.lock('renew', LONG_WAIT), guard, /permission denied/);
});

test('file store: a live guard is waited for with a backoff, no longer than waitMs (LockTimeoutError)', async (t) => {
  const { store, locks } = await storeWithLocks(t);
  const guard = join(locks, 'renew.guard');
  // Held by a live process on this host (our parent), written just now: not stale, not breakable.
  await writeFile(guard, `${JSON.stringify({ pid: process.ppid, hostname: hostname(), nonce: 'x' })}\n`);
  const cpu = process.cpuUsage();
  const started = Date.now();
  await assert.rejects(store.lock('renew', { ttlMs: 10_000, waitMs: 600 }), (err: unknown) => {
    assert.ok(err instanceof LockTimeoutError, String(err));
    assert.ok(err.message.includes(guard), err.message);
    assert.match(err.message, new RegExp(`PID ${process.ppid}`));
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 550 && took < 2000, `took ${took} ms`);
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  assert.ok(cpuMs < took / 3, `the wait used ${cpuMs.toFixed(0)} ms of CPU in ${took} ms: it spins`);
});
