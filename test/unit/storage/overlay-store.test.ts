import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileStore } from '../../../src/storage/file-store.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { OverlayStore } from '../../../src/storage/overlay-store.ts';
import { storeContract } from '../../contract/store.contract.ts';

storeContract('overlay over memory', async () => ({
  store: new OverlayStore(new MemoryStore()),
  cleanup: async () => {},
}));

const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);

test('an overlay reads the folder below it and writes nothing there', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-overlay-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const base = new FileStore(dir);
  await base.put('certificates/a.example.crt', 'old');
  await base.put('certificates/b.example.crt', 'keep');
  const before = await readdir(join(dir, 'certificates'));

  const overlay = new OverlayStore(base);
  assert.equal(text(await overlay.get('certificates/a.example.crt')), 'old');
  await overlay.put('certificates/a.example.crt', 'new');
  await overlay.putAll([[{ key: 'certificates/c.example.crt', value: 'made' }]]);
  await overlay.delete('certificates/b.example.crt');
  const lease = await overlay.lock('certificate-a', { ttlMs: 1000 });
  await lease.release();

  assert.equal(text(await overlay.get('certificates/a.example.crt')), 'new');
  assert.equal(await overlay.get('certificates/b.example.crt'), undefined, 'a delete hides the key below');
  assert.deepEqual(await overlay.list('certificates/'), [
    'certificates/a.example.crt',
    'certificates/c.example.crt',
  ]);
  assert.deepEqual(await readdir(join(dir, 'certificates')), before, 'no file added or removed below');
  assert.equal(await readFile(join(dir, 'certificates/a.example.crt'), 'utf8'), 'old');
  assert.deepEqual((await readdir(dir)).sort(), ['certificates'], 'no lock folder either');
});
