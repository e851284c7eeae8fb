import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StorageError } from '../../../src/errors/storage.ts';
import { FileStore } from '../../../src/storage/file-store.ts';
import { storeContract } from '../../contract/store.contract.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const STORE_URL = pathToFileURL(join(ROOT, 'src/storage/file-store.ts')).href;
const isRoot = process.getuid?.() === 0;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'acmekit-fs-'));
}

storeContract('file', async () => {
  const dir = await tempDir();
  return {
    store: new FileStore(join(dir, 'store')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

/** Runs `body` (ESM, with `store` = FileStore on env STORE_ROOT) in a child node process. */
function child(storeRoot: string, body: string, env: Record<string, string> = {}): ChildProcess {
  const code = `const { FileStore } = await import(${JSON.stringify(STORE_URL)});
const store = new FileStore(process.env.STORE_ROOT, { pollMs: 5 });
${body}`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, STORE_ROOT: storeRoot, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function firstLine(proc: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of proc.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) return out.split('\n')[0]!;
  }
  throw new Error(`child ended without output: ${out}`);
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('file store: keys 0600, other files 0644, folders 0700, whatever the umask (C5)', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new FileStore(join(dir, 'store'));
  const old = process.umask(0);
  try {
    await store.put('accounts/acme/a@b.c/keys/a@b.c.key', 'secret', { private: true });
    await store.put('certificates/example.com.crt', 'cert');
  } finally {
    process.umask(old);
  }
  const root = join(dir, 'store');
  assert.equal(await mode(join(root, 'accounts/acme/a@b.c/keys/a@b.c.key')), 0o600);
  assert.equal(await mode(join(root, 'certificates/example.com.crt')), 0o644);
  for (const folder of ['', 'accounts', 'accounts/acme/a@b.c/keys', 'certificates']) {
    assert.equal(await mode(join(root, folder)), 0o700, folder);
  }
});

test('file store: a loose existing key and a world-writable folder are warned about, not kept (C5)', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'certificates'), { recursive: true });
  await chmod(dir, 0o777);
  await writeFile(join(dir, 'certificates/a.key'), 'old', { mode: 0o644 });
  await chmod(join(dir, 'certificates/a.key'), 0o644);
  const warnings: string[] = [];
  const store = new FileStore(dir, { onWarning: (m) => warnings.push(m) });
  await store.put('certificates/a.key', 'new', { private: true });
  assert.equal(await mode(join(dir, 'certificates/a.key')), 0o600);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /writable by group or others \(mode 0777\)/);
  assert.match(warnings[1]!, /a\.key had mode 0644/);
});

test('file store: a crash between write and rename leaves the old file byte-identical (C2)', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new FileStore(dir);
  const old = new Uint8Array([1, 2, 3, 0, 255, 10]);
  await store.put('certificates/a.crt', old);
  const proc = child(dir, `await store.put('certificates/a.crt', 'new bytes that must never show');`, {
    ACMEKIT_TEST_CRASH_AT: 'before-rename',
  });
  const [, signal] = await once(proc, 'exit');
  assert.equal(signal, 'SIGKILL');
  assert.deepEqual(new Uint8Array(await readFile(join(dir, 'certificates/a.crt'))), old);
  const left = (await readdir(join(dir, 'certificates'))).filter((n) => n.endsWith('.tmp'));
  assert.equal(left.length, 1, 'the crash left its temp file behind');
  assert.deepEqual(await store.get('certificates/a.crt'), old);
  assert.deepEqual(await store.list(''), ['certificates/a.crt']);
  const tmp = join(dir, 'certificates', left[0]!);
  assert.ok(await stat(tmp), 'a young temp file may be a write in flight: kept');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(tmp, twoHoursAgo, twoHoursAgo);
  await store.list('certificates/');
  assert.deepEqual(await readdir(join(dir, 'certificates')), ['a.crt'], 'an old one is cleaned');
});

test('file store: a file where a folder is expected gives StorageError naming the path (C4)', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new FileStore(dir);
  await writeFile(join(dir, 'certificates'), 'not a folder');
  const named = (err: unknown): boolean => {
    assert.ok(err instanceof StorageError, String(err));
    assert.ok(err.path.startsWith(join(dir, 'certificates')), err.path);
    assert.match(err.message, /a file is where a folder is expected/);
    return true;
  };
  await assert.rejects(store.get('certificates/a.crt'), named);
  await assert.rejects(store.put('certificates/a.crt', 'x'), named);
  await mkdir(join(dir, 'accounts'));
  await assert.rejects(store.get('accounts'), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.match(err.message, /a folder is where a file is expected/);
    return true;
  });
  assert.equal(await readFile(join(dir, 'certificates'), 'utf8'), 'not a folder');
});

test('file store: a read-only folder gives StorageError naming the path (C4)', {
  skip: isRoot ? 'root ignores chmod; the ENOTDIR test covers the error path' : false,
}, async (t) => {
  const dir = await tempDir();
  t.after(async () => {
    await chmod(join(dir, 'certificates'), 0o700).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  const store = new FileStore(dir);
  await store.put('certificates/a.crt', 'old');
  await chmod(join(dir, 'certificates'), 0o500);
  await assert.rejects(store.put('certificates/a.crt', 'new'), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.equal(err.path, join(dir, 'certificates/a.crt'));
    assert.match(err.message, /permission denied/);
    return true;
  });
  assert.equal(await readFile(join(dir, 'certificates/a.crt'), 'utf8'), 'old');
});

test('file store: kill -9 of the holder frees the lock at once (C7)', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const proc = child(
    dir,
    `const lease = await store.lock('renew', { ttlMs: 600000 });
console.log('locked ' + lease.fence);
setInterval(() => {}, 1000);`,
  );
  t.after(() => proc.kill('SIGKILL'));
  const line = await firstLine(proc);
  const childFence = Number(line.split(' ')[1]);
  const store = new FileStore(dir);
  await assert.rejects(store.lock('renew', { ttlMs: 1000, waitMs: 100 }), new RegExp(`PID ${proc.pid}`));
  proc.kill('SIGKILL');
  await once(proc, 'exit'); // reaped: process.kill(pid, 0) now says ESRCH
  const started = Date.now();
  const lease = await store.lock('renew', { ttlMs: 10_000, waitMs: 5000 });
  assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  assert.ok(lease.fence > childFence);
  await lease.release();
});

test('file store: processes locking one name at once hold it one at a time, fences growing', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'log.txt');
  const body = `const { appendFile } = await import('node:fs/promises');
for (let i = 0; i < 8; i++) {
  const lease = await store.lock('shared', { ttlMs: 10000 });
  await appendFile(${JSON.stringify(log)}, 'start ' + process.pid + ' ' + lease.fence + '\\n');
  await new Promise((r) => setTimeout(r, 5));
  await store.put('certificates/shared.crt', String(process.pid), { lease });
  await appendFile(${JSON.stringify(log)}, 'end ' + process.pid + ' ' + lease.fence + '\\n');
  await lease.release();
}`;
  const procs = [child(dir, body), child(dir, body), child(dir, body)];
  const codes = await Promise.all(procs.map(async (p) => (await once(p, 'exit'))[0]));
  assert.deepEqual(codes, [0, 0, 0]);
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 48);
  let lastFence = 0;
  for (let i = 0; i < lines.length; i += 2) {
    const [s, spid, sfence] = lines[i]!.split(' ');
    const [e, epid, efence] = lines[i + 1]!.split(' ');
    assert.deepEqual([s, e, epid, efence], ['start', 'end', spid, sfence], `overlap at line ${i}`);
    assert.ok(Number(sfence) > lastFence, 'fences grow');
    lastFence = Number(sfence);
  }
});
