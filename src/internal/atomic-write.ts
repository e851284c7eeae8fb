import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A file written and synced under a temp name next to `path`, waiting for its rename. */
export interface StagedFile {
  path: string;
  tmp: string;
  done?: boolean;
}

/**
 * Writes a file so readers see the old bytes or the new ones, never a mix: temp file in the same
 * folder, fsync, rename, fsync the folder. Folders it creates are 0700.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const staged = await stageFile(path, data, mode);
  try {
    await rename(staged.tmp, path);
  } catch (err) {
    await rm(staged.tmp, { force: true });
    throw err;
  }
  await syncFolder(dirname(path));
}

/** The first half of an atomic write (FileStore.putAll stages a group, then renames it). */
export async function stageFile(path: string, data: Uint8Array | string, mode: number): Promise<StagedFile> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // The folder is made only when missing: one file system call less per write in the common case.
  const fh = await open(tmp, 'wx', mode).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return open(tmp, 'wx', mode);
  });
  try {
    // umask must not loosen a private key; chmod and write need not wait for each other.
    await Promise.all([fh.writeFile(data), fh.chmod(mode)]);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  // RELIABILITY C1/C2: crash tests kill the process here and check the old file is byte-identical.
  if (process.env.ACMEKIT_TEST_CRASH_AT === 'before-rename') process.kill(process.pid, 'SIGKILL');
  return { path, tmp };
}

/** A rename is durable once its folder is synced. */
export async function syncFolder(dir: string): Promise<void> {
  const dh = await open(dir, 'r').catch(() => undefined);
  if (!dh) return;
  await dh.sync().catch(() => {});
  dh.close().catch(() => {}); // the folder's fsync is what the caller waits for, not its handle closing
}
