import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SolverError } from '../errors/base.ts';
import { throwIfAborted } from '../internal/abort.ts';
import type { ChallengeContext, Solver } from './solver.ts';

export interface Http01WebrootOptions {
  /** Document root a web server already serves for the names (lego's --http.webroot); must exist. */
  root: string;
}

/** Same rule as Challenge#token, checked again here because the token becomes a file name. */
const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;
const SEGMENTS = ['.well-known', 'acme-challenge'] as const;

/** What one present put in place; `file` is set only once the rename made the file ours. */
interface Entry {
  dir?: string;
  file?: string;
}

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/**
 * http-01 through files a running web server serves (RFC 8555 §8.3), like lego's --http.webroot:
 * present writes `<root>/.well-known/acme-challenge/<token>` (0644, atomically), cleanup removes that
 * file and then the folders this solver created, when empty. Pre-existing files and folders are never
 * removed; symlinks leading out of the root are refused; the token is checked before any file system call.
 */
export class Http01WebrootSolver implements Solver {
  readonly type = 'http-01' as const;
  readonly root: string;
  readonly #entries = new Map<string, Entry>();
  /** Folders created by this solver, parents first. */
  readonly #created: string[] = [];

  constructor(opts: Http01WebrootOptions) {
    this.root = resolve(opts.root);
  }

  async present(ctx: ChallengeContext, signal?: AbortSignal): Promise<void> {
    const token = checkedToken(ctx);
    throwIfAborted(signal);
    const entry: Entry = {};
    this.#entries.set(token, entry); // before the first await: cleanup must see a half-done present
    const fail = (message: string, cause?: unknown): SolverError =>
      new SolverError(this.type, ctx.identifier.value, message, cause === undefined ? undefined : { cause });
    const rootReal = await realpath(this.root).catch((err: unknown) => {
      throw fail(`webroot ${this.root} does not exist`, err);
    });
    if (!(await stat(rootReal)).isDirectory()) throw fail(`webroot ${this.root} is not a directory`);
    let dir = rootReal;
    for (const segment of SEGMENTS) dir = await this.#enter(dir, segment, rootReal, fail);
    entry.dir = dir;
    const target = join(dir, token);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw fail(`refusing ${target}: it is a symbolic link`);
    if (existing && !existing.isFile()) throw fail(`refusing ${target}: it exists and is not a file`);
    try {
      await writeAtomic(dir, target, ctx.challenge.keyAuthorization);
    } catch (err) {
      throw fail(`cannot write ${target}: ${(err as Error).message}`, err);
    }
    entry.file = target;
  }

  /** Returns the real path of `parent/name`, creating it (0755) when missing; refuses a way out of root. */
  async #enter(
    parent: string,
    name: string,
    rootReal: string,
    fail: (message: string, cause?: unknown) => SolverError,
  ): Promise<string> {
    const path = join(parent, name);
    try {
      await mkdir(path, { mode: 0o755 });
      this.#created.push(path);
      await chmod(path, 0o755); // the web server must be able to enter it, whatever the umask
      return path;
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw fail(`cannot create ${path}: ${(err as Error).message}`, err);
    }
    const real = await realpath(path).catch((err: unknown) => {
      throw fail(`cannot resolve ${path}: ${(err as Error).message}`, err);
    });
    if (!inside(rootReal, real)) throw fail(`refusing ${path}: it leads to ${real}, outside the webroot`);
    if (!(await stat(real)).isDirectory()) throw fail(`refusing ${path}: it is not a directory`);
    return real;
  }

  async cleanup(ctx: ChallengeContext, _signal?: AbortSignal): Promise<void> {
    let token: string;
    try {
      token = checkedToken(ctx);
    } catch {
      return; // an unusable token was never presented
    }
    const entry = this.#entries.get(token);
    if (!entry) return;
    // Remove the file only where present put it: the folder must still be the same real path.
    if (entry.file && entry.dir && (await realpath(entry.dir).catch(() => undefined)) === entry.dir) {
      await rm(entry.file, { force: true });
    }
    this.#entries.delete(token);
    if (this.#entries.size === 0) await this.#removeCreatedDirs();
  }

  /** Deepest first; stops at the first folder that is not empty (someone else's files live there). */
  async #removeCreatedDirs(): Promise<void> {
    while (this.#created.length > 0 && this.#entries.size === 0) {
      const dir = this.#created[this.#created.length - 1]!;
      try {
        await rmdir(dir);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') return;
      }
      this.#created.pop();
    }
  }
}

function checkedToken(ctx: ChallengeContext): string {
  let token: unknown;
  let cause: unknown;
  try {
    token = ctx.challenge.token;
  } catch (err) {
    cause = err;
    token = (ctx.challenge as { state?: { token?: unknown } }).state?.token;
  }
  if (cause === undefined && typeof token === 'string' && TOKEN_RE.test(token)) return token;
  const shown =
    typeof token !== 'string'
      ? String(token)
      : `${JSON.stringify(token.slice(0, 40))}${token.length > 40 ? `… (${token.length} characters)` : ''}`;
  const url = (ctx.challenge as { url?: unknown }).url;
  throw new SolverError(
    'http-01',
    ctx.identifier.value,
    `refusing challenge ${typeof url === 'string' ? `${url} ` : ''}with token ${shown}: a token must be 16-256 characters of A-Z a-z 0-9 _ -`,
    cause === undefined ? undefined : { cause },
  );
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Temp file in the same folder (named without the token, which may be near NAME_MAX), then rename. */
async function writeAtomic(dir: string, target: string, data: string): Promise<void> {
  const tmp = join(dir, `.acmekit-${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.chmod(0o644); // readable by the web server whatever the umask
    await fh.close();
    await rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}
