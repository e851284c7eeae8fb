import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FencedWriteError, StorageError } from '../../../src/errors/storage.ts';
import { FileStore } from '../../../src/storage/file-store.ts';

async function tempStore(t: {
  after(fn: () => Promise<void>): void;
}): Promise<{ root: string; store: FileStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-putall-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  return { root, store: new FileStore(root) };
}

/** Every file under `dir`, temp files included, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

test('putAll writes every file of every group with put() modes and leaves no temp file', async (t) => {
  const { root, store } = await tempStore(t);
  await store.put('certificates/a.crt', 'old');
  const lease = await store.lock('certificate-a', { ttlMs: 60_000 });
  await store.putAll(
    [
      [
        { key: 'certificates/a.crt', value: 'new chain' },
        { key: 'certificates/a.key', value: 'key', private: true },
      ],
      [{ key: 'certificates/a.json', value: '{}', private: true }],
    ],
    { lease },
  );
  await lease.release();
  assert.equal(await readFile(join(root, 'certificates/a.crt'), 'utf8'), 'new chain');
  assert.equal((await stat(join(root, 'certificates/a.crt'))).mode & 0o777, 0o644);
  assert.equal((await stat(join(root, 'certificates/a.key'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, 'certificates/a.json'))).mode & 0o777, 0o600);
  assert.deepEqual(await filesUnder(join(root, 'certificates')), ['a.crt', 'a.json', 'a.key']);
});

test('putAll writes no file of a later group when a file of an earlier group cannot be put in place', async (t) => {
  const { root, store } = await tempStore(t);
  // A folder with something in it where the first group's file goes: its rename fails.
  await mkdir(join(root, 'certificates/a.crt'), { recursive: true });
  await writeFile(join(root, 'certificates/a.crt/x'), 'x');
  await assert.rejects(
    store.putAll([
      [
        { key: 'certificates/a.crt', value: 'chain' },
        { key: 'certificates/a.issuer.crt', value: 'issuer' },
      ],
      [{ key: 'certificates/a.json', value: '{"done":true}' }],
    ]),
    StorageError,
  );
  const files = await filesUnder(join(root, 'certificates'));
  assert.ok(!files.includes('a.json'), `the record of the later group was written: ${files.join(', ')}`);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file is left behind',
  );
});

test('putAll under a lease that is no longer held writes nothing (C10) and leaves no temp file', async (t) => {
  const { root, store } = await tempStore(t);
  await store.put('certificates/a.crt', 'old');
  const lease = await store.lock('certificate-a', { ttlMs: 60_000 });
  await lease.release();
  const other = await store.lock('certificate-a', { ttlMs: 60_000 });
  t.after(() => other.release());
  await assert.rejects(
    store.putAll(
      [[{ key: 'certificates/a.crt', value: 'new' }], [{ key: 'certificates/a.json', value: '{}' }]],
      {
        lease,
      },
    ),
    FencedWriteError,
  );
  assert.equal(await readFile(join(root, 'certificates/a.crt'), 'utf8'), 'old');
  assert.deepEqual(await filesUnder(join(root, 'certificates')), ['a.crt']);
});
