import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BUNDLE_HEAD,
  BUNDLE_TAIL,
  cacheVariant,
  compileCacheRoot,
  loadBundle,
  pruneCompileCache,
  versionFolder,
} from '../../../src/internal/compile-cache.ts';

const BUNDLE = `${BUNDLE_HEAD}"use strict";
function answer() { return 6 * 7; }
exports.answer = answer;
exports.file = __filename;
exports.dir = __dirname;
exports.hasImport = typeof __acmekitImport === 'function';
exports.path = require('node:path').sep;${BUNDLE_TAIL}`;

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-cc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.cjs');
  await writeFile(file, BUNDLE);
  const root = join(dir, 'cache');
  const folder = versionFolder(root, '1.2.3')!;
  const load = (variant?: string) =>
    loadBundle(file, {
      folder,
      ...(variant ? { variant } : {}),
      require: createRequire(file),
      importPackage: (s) => import(s),
    });
  return { dir, file, root, folder, load };
}

const cacheFiles = async (folder: string) =>
  (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.jsc'));

test('a bundle runs as a CommonJS module, compiled from the cache on the next start', async (t) => {
  const { file, dir, folder, load } = await setup(t);
  const first = load();
  assert.equal((first.exports.answer as () => number)(), 42);
  assert.equal(first.exports.file, file);
  assert.equal(first.exports.dir, dir);
  assert.equal(first.exports.hasImport, true);
  assert.equal(first.exports.path, '/');
  assert.equal(first.fromCache, false);
  first.saveCache();
  const [name] = await cacheFiles(folder);
  assert.match(name ?? '', /^main-[0-9a-f]{16}-other\.jsc$/);
  assert.equal((await stat(join(folder, name!))).mode & 0o777, 0o600);
  assert.equal((await stat(folder)).mode & 0o777, 0o700);

  const second = load();
  assert.equal(second.fromCache, true);
  assert.equal((second.exports.answer as () => number)(), 42);
});

test('a cache file others may write is not used, and is replaced by one of our own', async (t) => {
  const { folder, load } = await setup(t);
  load().saveCache();
  const [name] = await cacheFiles(folder);
  await chmod(join(folder, name!), 0o666);
  const again = load();
  assert.equal(again.fromCache, false);
  again.saveCache();
  assert.equal((await stat(join(folder, name!))).mode & 0o777, 0o600);
  assert.equal(load().fromCache, true);
});

test('each command has its own cache file; a changed bundle uses none and removes them all', async (t) => {
  const { file, folder, load } = await setup(t);
  load('run').saveCache();
  load('list').saveCache();
  assert.equal(load('run').fromCache, true);
  const old = await cacheFiles(folder);
  assert.deepEqual(old.map((n) => n.replace(/[0-9a-f]{16}/, 'H')).sort(), [
    'main-H-list.jsc',
    'main-H-run.jsc',
  ]);
  await writeFile(file, BUNDLE.replace('6 * 7', '6 * 8'));
  const changed = load('run');
  assert.equal(changed.fromCache, false);
  assert.equal((changed.exports.answer as () => number)(), 48);
  changed.saveCache();
  const now = await cacheFiles(folder);
  assert.equal(now.length, 1);
  assert.ok(!old.includes(now[0]!));
});

test('the cache keeps the current version folder and the two most recently written others', async (t) => {
  const { root, folder, load } = await setup(t);
  const others = ['0.9.0', '1.0.0', '1.1.0', '1.2.0'];
  for (const [i, v] of others.entries()) {
    await mkdir(join(root, v), { recursive: true });
    const at = new Date(Date.now() - (others.length - i) * 86_400_000); // 1.2.0 newest
    await utimes(join(root, v), at, at);
  }
  load().saveCache();
  assert.deepEqual((await readdir(root)).sort(), ['1.1.0', '1.2.0', '1.2.3']);
  // Pruning again with nothing new changes nothing.
  pruneCompileCache(root, folder, join(folder, (await cacheFiles(folder))[0]!));
  assert.deepEqual((await readdir(root)).sort(), ['1.1.0', '1.2.0', '1.2.3']);
});

test('a file that is not a bundle of build-cli.ts is refused, not run', async (t) => {
  const { file, load } = await setup(t);
  await writeFile(file, 'exports.answer = () => 42;');
  assert.throws(load, /not a bundle made by scripts\/build-cli\.ts/);
});

test('NODE_DISABLE_COMPILE_CACHE turns the cache off; a version cannot name a folder outside the root', () => {
  assert.equal(compileCacheRoot({ NODE_DISABLE_COMPILE_CACHE: '1' }), undefined);
  assert.equal(compileCacheRoot({ ACMEKIT_COMPILE_CACHE: '/x/cc' }), '/x/cc');
  assert.equal(cacheVariant(['--path', 'p', 'renew', '--force']), 'renew');
  assert.equal(cacheVariant(['--version']), 'other');
  assert.equal(versionFolder('/c', '..'), undefined);
  assert.equal(versionFolder('/c', '1.0.0/../../x'), undefined);
  assert.equal(versionFolder('/c', '1.0.0-rc.1'), '/c/1.0.0-rc.1');
});
