import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AcmekitError } from '../errors/base.ts';
import { CorruptFileError, FencedWriteError, LockTimeoutError, StorageError } from '../errors/storage.ts';
import { abortError, throwIfAborted } from '../internal/abort.ts';
import { type StagedFile, stageFile, syncFolder, writeFileAtomic } from '../internal/atomic-write.ts';
import { backoffDelay } from '../internal/backoff.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type LeaseAttempt, pollForLease } from './memory-store.ts';
import {
  assertSafeKey,
  assertSafeLockName,
  assertSafePrefix,
  distinctEntries,
  isSafeKey,
  isTempFileName,
  LOCK_FOLDER,
} from './safe-key.ts';
import type { Lease, LeaseHolder, LockOptions, PutOptions, Store, StoreWrite } from './store.ts';

export interface FileStoreOptions {
  /** Time for lease expiry and lock waiting; default the system clock. */
  clock?: Clock;
  /** Told about states worth a warning but not a refusal (a key file readable by others, C5). */
  onWarning?: (message: string) => void;
  /** Written into lock files and shown to waiters; default "<hostname>:<pid>". */
  owner?: string;
  /** How often a waiting lock() looks again (ms); default 50. */
  pollMs?: number;
}

/** What a lock file holds: enough for a waiter to name the holder and to tell it is gone. */
interface LockRecord {
  owner: string;
  pid: number;
  hostname: string;
  fence: number;
  expiresAt: string;
}

const TEMP_MAX_AGE_MS = 60 * 60_000; // a temp file this old is a crash leftover, never a write in flight
const GUARD_MAX_AGE_MS = 10_000; // a guard is held for a few writes; older means its holder hung or died
// A guard wait backs off from ~5 ms to ~100 ms, jittered, so waiters neither spin nor move in lockstep.
const GUARD_POLL_MS = 5;
const GUARD_POLL_MAX_MS = 100;
const HOST = hostname();

const HINTS: Record<string, string> = {
  EACCES: 'permission denied; let the user running acmekit read and write it, or use another folder',
  EPERM: 'operation not permitted; check its owner and mode, or use another folder',
  EROFS: 'the file system is read-only; remount it read-write or use another folder',
  ENOSPC: 'no space left on the device; free some space and retry (existing files were left intact)',
  EDQUOT: 'disk quota exceeded; free some space and retry (existing files were left intact)',
  EISDIR: 'a folder is where a file is expected; move the folder away',
  ENOTDIR: 'a file is where a folder is expected; move that file away',
  EEXIST: 'a file is where a folder is expected; move that file away',
};

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** fs failures become StorageError naming the path and the fix (C3, C4); aborts stay aborts. */
function failure(path: string, action: string, err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return abortError(signal.reason);
  if (err instanceof AcmekitError) return err;
  const code = codeOf(err);
  const hint = (code && HINTS[code]) ?? (err instanceof Error ? err.message : String(err));
  return new StorageError(path, `cannot ${action}: ${hint}${code ? ` (${code})` : ''}`, { cause: err });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) === 'EPERM'; // EPERM: alive, owned by someone else; ESRCH: gone
  }
}

// A holder on this host whose process is gone frees its lock at once (C7: kill -9 frees the lock).
function holderDied(r: Partial<LockRecord>): boolean {
  if (r.hostname !== HOST || typeof r.pid !== 'number' || r.pid === process.pid) return false;
  return !Number.isInteger(r.pid) || r.pid <= 0 || !pidAlive(r.pid);
}

/**
 * The default Store: one file per key under a root folder, in lego's layout (`<root>/<key>`).
 * Writes are atomic (temp file, fsync, rename); secrets are 0600 in 0700 folders whatever the umask.
 * Locks are files in `<root>/.locks/`: `<name>.lock` (JSON holder record), `<name>.fence` (the last
 * fence granted) and `<name>.guard`, a short-lived O_EXCL file that serialises every change to the
 * first two, so taking over a stale lock, renewing, releasing and a fenced put never race each other.
 */
export class FileStore implements Store {
  readonly root: string;
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #pollMs: number;
  readonly #warn: (message: string) => void;
  #rootChecked = false;
  readonly #lockPaths = new Map<string, string>();

  constructor(rootDir: string, options: FileStoreOptions = {}) {
    this.root = resolve(rootDir);
    this.#clock = options.clock ?? systemClock;
    this.#owner = options.owner ?? `${HOST}:${process.pid}`;
    this.#pollMs = options.pollMs ?? 50;
    this.#warn = options.onWarning ?? (() => {});
  }

  /** The file that holds `key`. */
  pathOf(key: string): string {
    return join(this.root, ...assertSafeKey(key).split('/'));
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const path = this.pathOf(key);
    throwIfAborted(signal);
    try {
      const buf = await readFile(path, signal ? { signal } : {});
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return undefined;
      throw failure(path, 'read', err, signal);
    }
  }

  async put(key: string, value: Uint8Array | string, opts: PutOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    throwIfAborted(opts.signal);
    await this.#checkRoot();
    if (opts.private) await this.#checkPrivate(path);
    const write = async (): Promise<void> => {
      throwIfAborted(opts.signal);
      await writeFileAtomic(path, value, opts.private ? 0o600 : 0o644).catch((err) => {
        throw failure(path, 'write', err, opts.signal);
      });
    };
    const lease = opts.lease;
    if (!lease) return write();
    // Check and rename under the guard, so no one takes the lease over in between (C10).
    await this.#guarded(assertSafeLockName(lease.name), opts.signal, Number.POSITIVE_INFINITY, async () => {
      const [fence, record] = await Promise.all([this.#readFence(lease.name), this.#readLock(lease.name)]);
      if (fence !== lease.fence || !this.#ours(record, lease.fence))
        throw new FencedWriteError(lease.name, lease.fence);
      await write();
    });
  }

  /**
   * Writes several files, each as put() writes one (temp file, fsync, rename, folder fsync), group by
   * group: every file of a group is renamed into place and its folder synced before any file of the next
   * group is, so after a crash a later group's file is never there without the earlier groups'. The
   * temp files of all groups are written and synced at once, before the renames; with a lease, one
   * guard and one fence check cover all renames (what a put() per file would repeat, one after another).
   * Within a group there is no order: a crash may leave some of its files new and some old.
   */
  async putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts: { lease?: Lease | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    throwIfAborted(opts.signal);
    distinctEntries(groups);
    const paths = groups.map((group) => group.map((e) => this.pathOf(e.key)));
    await this.#checkRoot();
    const stagedGroups: StagedFile[][] = groups.map(() => []);
    // Settles only when every temp file is written or given up, so the clean-up below misses none.
    const stage = settleAll(
      groups.flatMap((group, g) =>
        group.map(async (entry, i) => {
          const path = paths[g]![i]!;
          if (entry.private) await this.#checkPrivate(path);
          throwIfAborted(opts.signal);
          const staged = await stageFile(path, entry.value, entry.private ? 0o600 : 0o644).catch((err) => {
            throw failure(path, 'write', err, opts.signal);
          });
          stagedGroups[g]!.push(staged);
        }),
      ),
    );
    const commit = async (): Promise<void> => {
      for (const group of stagedGroups) {
        throwIfAborted(opts.signal);
        await settleAll(
          group.map(async (file) => {
            await rename(file.tmp, file.path).catch((err) => {
              throw failure(file.path, 'write', err, opts.signal);
            });
            file.done = true;
          }),
        );
        await Promise.all([...new Set(group.map((f) => dirname(f.path)))].map(syncFolder));
      }
    };
    try {
      // The temp files are written while the guard is taken and the fence checked: neither needs the other.
      const lease = opts.lease;
      if (!lease) {
        await stage;
        await commit();
      } else {
        const staging = stage.then(
          () => undefined,
          (err: unknown) => err,
        );
        await this.#guarded(
          assertSafeLockName(lease.name),
          opts.signal,
          Number.POSITIVE_INFINITY,
          async () => {
            const [fence, record, stageError] = await Promise.all([
              this.#readFence(lease.name),
              this.#readLock(lease.name),
              staging,
            ]);
            if (stageError !== undefined) throw stageError;
            if (fence !== lease.fence || !this.#ours(record, lease.fence))
              throw new FencedWriteError(lease.name, lease.fence);
            await commit();
          },
        );
      }
    } finally {
      await stage.catch(() => {});
      const left = stagedGroups.flat().filter((f) => !f.done);
      await Promise.all(left.map((f) => rm(f.tmp, { force: true }).catch(() => {})));
    }
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(key);
    throwIfAborted(signal);
    await unlink(path).catch((err) => {
      if (codeOf(err) !== 'ENOENT') throw failure(path, 'delete', err, signal);
    });
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    assertSafePrefix(prefix);
    const keys: string[] = [];
    // Walk only the deepest folder the prefix names in full: "certificates/exa" → certificates/.
    await this.#walk(prefix.slice(0, Math.max(0, prefix.lastIndexOf('/'))), keys, signal);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async lock(name: string, opts: LockOptions): Promise<Lease> {
    assertSafeLockName(name);
    // The guard is waited for in real time, like its age is measured (file mtimes).
    const deadline = opts.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.waitMs;
    return pollForLease(name, opts, this.#clock, this.#pollMs, () => this.#tryLock(name, opts, deadline));
  }

  async #walk(folder: string, out: string[], signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal);
    const dir = folder ? join(this.root, ...folder.split('/')) : this.root;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return;
      throw failure(dir, 'list', err, signal);
    }
    for (const entry of entries) {
      const key = folder ? `${folder}/${entry.name}` : entry.name;
      // Skipped: .locks/ and names no key can have; temp files, removed when a crash left them (C2).
      if (isTempFileName(entry.name)) await removeIfOld(join(dir, entry.name));
      else if (isSafeKey(key) && entry.isDirectory()) await this.#walk(key, out, signal);
      else if (isSafeKey(key) && entry.isFile()) out.push(key);
    }
  }

  async #tryLock(name: string, opts: LockOptions, deadline: number): Promise<LeaseAttempt> {
    const seen = await this.#readLock(name);
    if (seen && !this.#stale(seen)) return { holder: toHolder(seen) };
    return this.#guarded(name, opts.signal, deadline, async () => {
      const [current, lastFence] = await Promise.all([this.#readLock(name), this.#readFence(name)]);
      if (current && !this.#stale(current)) return { holder: toHolder(current) };
      // max() keeps fences growing even if someone deleted the .fence file, or a crash left the lock
      // file newer than it: so the two files can be written at once (each write waits for its fsyncs).
      const fence = Math.max(lastFence, current?.fence ?? 0) + 1;
      const record: LockRecord = {
        owner: this.#owner,
        pid: process.pid,
        hostname: HOST,
        fence,
        expiresAt: '',
      };
      const [fenceWrite, lockWrite] = await Promise.allSettled([
        this.#write(this.#lockPath(name, 'fence'), `${fence}\n`),
        this.#writeLock(name, record, opts.ttlMs),
      ]);
      if (fenceWrite.status === 'rejected' || lockWrite.status === 'rejected') {
        // Not granted: a lock file we wrote must not block others until it expires.
        if (lockWrite.status === 'fulfilled') await unlink(this.#lockPath(name, 'lock')).catch(() => {});
        throw fenceWrite.status === 'rejected'
          ? fenceWrite.reason
          : (lockWrite as PromiseRejectedResult).reason;
      }
      return { lease: this.#lease(name, record, opts.ttlMs) };
    });
  }

  #lease(name: string, record: LockRecord, ttlMs: number): Lease {
    const { fence, owner } = record;
    return {
      name,
      fence,
      owner,
      renew: () =>
        this.#guarded(name, undefined, Number.POSITIVE_INFINITY, async () => {
          if (!this.#ours(await this.#readLock(name), fence)) throw new FencedWriteError(name, fence);
          await this.#writeLock(name, record, ttlMs);
        }),
      release: () =>
        this.#guarded(name, undefined, Number.POSITIVE_INFINITY, async () => {
          if (!this.#ours(await this.#readLock(name), fence)) return;
          const path = this.#lockPath(name, 'lock');
          await unlink(path).catch((err) => {
            if (codeOf(err) !== 'ENOENT') throw failure(path, 'release the lock', err);
          });
        }),
    };
  }

  #ours(record: LockRecord | undefined, fence: number): boolean {
    return record?.fence === fence && record.owner === this.#owner && record.pid === process.pid;
  }

  #stale(record: LockRecord): boolean {
    return !(Date.parse(record.expiresAt) > this.#clock.now()) || holderDied(record);
  }

  #lockPath(name: string, kind: 'lock' | 'fence' | 'guard'): string {
    // Remembered: every write under a lease needs these paths again, and path.join normalises the
    // whole path each time (in a short CLI run that is what makes V8 optimise node:path, ~4 MB RSS).
    const file = `${name}.${kind}`;
    let path = this.#lockPaths.get(file);
    if (path === undefined) {
      path = join(this.root, LOCK_FOLDER, file);
      this.#lockPaths.set(file, path);
    }
    return path;
  }

  async #write(path: string, text: string): Promise<void> {
    await writeFileAtomic(path, text, 0o600).catch((err) => {
      throw failure(path, 'write', err);
    });
  }

  async #writeLock(name: string, record: LockRecord, ttlMs: number): Promise<void> {
    record.expiresAt = new Date(this.#clock.now() + ttlMs).toISOString();
    await this.#write(this.#lockPath(name, 'lock'), `${JSON.stringify(record)}\n`);
  }

  /** The lock file's record; one that does not parse counts as expired, so it is taken over. */
  async #readLock(name: string): Promise<LockRecord | undefined> {
    const path = this.#lockPath(name, 'lock');
    const text = await readFile(path, 'utf8').catch((err) => {
      if (codeOf(err) === 'ENOENT') return undefined;
      throw unusableLockFile(path, 'lock', err);
    });
    if (text === undefined) return undefined;
    const r = parseJson(text);
    const valid =
      typeof r.owner === 'string' && typeof r.fence === 'number' && typeof r.expiresAt === 'string';
    return { owner: 'unknown', pid: 0, hostname: '', fence: 0, expiresAt: '', ...(valid ? r : {}) };
  }

  async #readFence(name: string): Promise<number> {
    const path = this.#lockPath(name, 'fence');
    const text = await readFile(path, 'utf8').catch((err) => {
      if (codeOf(err) === 'ENOENT') return '0';
      throw unusableLockFile(path, 'fence', err);
    });
    const fence = Number(text.trim());
    if (!Number.isSafeInteger(fence) || fence < 0) throw new CorruptFileError(path, 'not a fence number');
    return fence;
  }

  /**
   * Runs `fn` holding `<name>.guard` (O_EXCL); a guard whose holder died or hung is broken. Every wait
   * backs off (jittered) and ends at `deadline` (Date.now() time) with LockTimeoutError; a guard that
   * can never be taken (a folder, a symbolic link, unreadable) ends it at once with a StorageError.
   */
  async #guarded<T>(
    name: string,
    signal: AbortSignal | undefined,
    deadline: number,
    fn: () => Promise<T>,
  ): Promise<T> {
    const path = this.#lockPath(name, 'guard');
    const token = `${JSON.stringify({ pid: process.pid, hostname: HOST, nonce: randomBytes(8).toString('hex') })}\n`;
    let folderMade = false;
    let guard: FileHandle;
    for (let waits = 1; ; waits++) {
      throwIfAborted(signal);
      try {
        const fh = await open(path, 'wx', 0o600);
        try {
          await fh.writeFile(token);
        } catch (err) {
          await fh.close().catch(() => {});
          await unlink(path).catch(() => {}); // an empty guard would block everyone for GUARD_MAX_AGE_MS
          throw err;
        }
        guard = fh;
        break;
      } catch (err) {
        // The lock folder is made when first needed, not checked before every guard (one file system
        // call less on each write under a lease).
        if (codeOf(err) === 'ENOENT' && !folderMade) {
          const folder = join(this.root, LOCK_FOLDER);
          await mkdir(folder, { recursive: true, mode: 0o700 }).catch((e) => {
            throw failure(folder, 'create the lock folder', e);
          });
          folderMade = true;
          continue;
        }
        if (codeOf(err) !== 'EEXIST') throw failure(path, 'lock', err, signal);
      }
      const seen = await breakStaleGuard(path);
      if (seen === 'broken') continue; // a stale guard was removed: take it at once
      const left = deadline - Date.now();
      if (left <= 0) throw new LockTimeoutError(name, `the process holding ${path}${guardHolder(seen)}`);
      const delay = backoffDelay(waits, { baseMs: GUARD_POLL_MS, maxMs: GUARD_POLL_MAX_MS });
      await systemClock.sleep(Math.min(delay, left), signal);
    }
    try {
      return await fn();
    } finally {
      // Remove only our own guard: if ours was broken as hung, the file may now be someone else's. Ours
      // is the one our still open handle holds, so its inode cannot have been reused: comparing inodes
      // takes two calls at once where reading the token back took four in a row.
      const [mine, now] = await Promise.all([
        guard.stat().catch(() => undefined),
        stat(path).catch(() => undefined),
      ]);
      const ours = mine !== undefined && now !== undefined && mine.ino === now.ino && mine.dev === now.dev;
      await Promise.all([ours ? unlink(path).catch(() => {}) : undefined, guard.close().catch(() => {})]);
    }
  }

  /** C5: a storage folder others can write to lets them swap our files; say so once. */
  async #checkRoot(): Promise<void> {
    if (this.#rootChecked) return;
    this.#rootChecked = true;
    const st = await stat(this.root).catch(() => undefined);
    if (st && st.mode & 0o022) {
      this.#warn(`${this.root} is writable by group or others (mode ${octal(st.mode)}); run chmod 700 on it`);
    }
  }

  /** C5, like Traefik: a secret file that was readable by others is worth a warning; the new one is 0600. */
  async #checkPrivate(path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile() && st.mode & 0o077) {
      this.#warn(`${path} had mode ${octal(st.mode)}, readable by others; it is replaced by a 0600 file`);
    }
  }
}

function parseJson(text: string): Partial<LockRecord> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Partial<LockRecord>) : {};
  } catch {
    return {};
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function toHolder(r: LockRecord): LeaseHolder {
  const expiresAt = new Date(Date.parse(r.expiresAt) || 0);
  return r.pid > 0 ? { owner: r.owner, pid: r.pid, expiresAt } : { owner: r.owner, expiresAt };
}

/** Waits for all; then rejects with the first failure, if any. */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Removes a crash's leftover temp file (C2); a young one may be a write in flight and stays. */
async function removeIfOld(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st && Date.now() - st.mtimeMs > TEMP_MAX_AGE_MS) await rm(path, { force: true }).catch(() => {});
}

/** A lock, fence or guard file that cannot be read: the error says which, and that removing it is the way out. */
function unusableLockFile(path: string, kind: 'lock' | 'fence' | 'guard', err: unknown): Error {
  if (err instanceof AcmekitError) return err;
  const code = codeOf(err);
  const what =
    code === 'EISDIR'
      ? 'it is a folder'
      : code === 'ELOOP'
        ? 'it is a loop of symbolic links'
        : code === 'EACCES' || code === 'EPERM'
          ? 'it cannot be read (permission denied)'
          : `it cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  return new StorageError(
    path,
    `unusable ${kind} file: ${what}; acmekit cannot take the lock while it is there. Remove it ` +
      `(rm -r -- '${path}') when no acmekit is running, then run again`,
    { cause: err },
  );
}

/** ", PID 123 on host" from a guard's token, when it names one. */
function guardHolder(text: string): string {
  const t = parseJson(text);
  return typeof t.pid === 'number' ? ` (PID ${t.pid}${t.hostname ? ` on ${t.hostname}` : ''})` : '';
}

/**
 * Looks at a guard that someone else holds, and breaks it when its holder died (same host) or it is
 * older than GUARD_MAX_AGE_MS. It is moved aside first and put back if it turns out to be a fresh one,
 * so two breakers never remove a live guard. Returns 'broken' when the guard is gone (removed here or
 * by its holder: try again at once), else the guard's text (a live holder: wait). A guard acmekit
 * cannot have made or cannot read (a folder, a symbolic link, unreadable) would never go away by
 * itself: that is a StorageError naming the file.
 */
async function breakStaleGuard(path: string): Promise<'broken' | string> {
  // lstat, not stat: a symbolic link is the guard itself (open O_EXCL fails on it, even dangling).
  const st = await lstat(path).catch((err) => {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw unusableLockFile(path, 'guard', err);
  });
  if (st === undefined) return 'broken'; // released meanwhile
  if (!st.isFile()) {
    const what = st.isSymbolicLink()
      ? 'a symbolic link (acmekit makes guards as plain files only)'
      : st.isDirectory()
        ? 'a folder'
        : 'not a plain file';
    throw new StorageError(
      path,
      `unusable guard file: it is ${what}, so acmekit can never take the lock. Remove it (rm -r -- '${path}') ` +
        'when no acmekit is running, then run again',
    );
  }
  const text = await readFile(path, 'utf8').catch((err) => {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw unusableLockFile(path, 'guard', err);
  });
  if (text === undefined) return 'broken'; // released meanwhile
  // A guard still being written does not parse: then only its age counts.
  if (!holderDied(parseJson(text)) && Date.now() - st.mtimeMs < GUARD_MAX_AGE_MS) return text;
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return 'broken'; // another waiter broke it first
    throw new StorageError(
      path,
      `cannot move this stale guard aside (${codeOf(err) ?? String(err)}): ${HINTS[codeOf(err) ?? ''] ?? 'check the folder'}; ` +
        `or remove it (rm -- '${path}') when no acmekit is running, then run again`,
      { cause: err },
    );
  }
  if ((await readFile(aside, 'utf8').catch(() => '')) !== text) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
  return 'broken';
}
