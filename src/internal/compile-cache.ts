import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Script } from 'node:vm';

/**
 * The CLI's compile cache: V8's compiled code for the CLI bundle kept on disk, so a run after the first
 * skips parsing and compiling it (bench/README.md has the figures). Node 20 has no compile cache of its
 * own; Node ≥ 22.1 has one (module.enableCompileCache), which covers the npm packages the CLI loads.
 *
 * Where: `~/.cache/acmekit/compile-cache/<acmekit version>/`, in the home folder ($HOME, else the user
 * database), and only when the account this process runs as owns that folder: sudo may keep the calling
 * user's $HOME, whose folder is then someone else's and is not used. ($HOME first, because asking the
 * user database loads the NSS modules: ~0.4 MB and ~0.5 ms per run.) Not Node's default folder under the
 * shared temp folder: acmekit often runs as root, and compiled code that another local user planted
 * would then run as root. So a cache file is used only when it and its folder belong to this account and
 * nobody else may write them.
 *
 * Bounded: one folder per acmekit version, in it one file per command word (cacheVariant) of the
 * current bundle; a run that writes a cache file removes other bundles' files from its folder and keeps
 * at most MAX_VERSIONS version folders (the most recently written). Node's own cache lives inside the
 * version folder, so it goes with it.
 *
 * NODE_DISABLE_COMPILE_CACHE=1 turns both caches off; NODE_COMPILE_CACHE set by the user wins for Node's;
 * ACMEKIT_COMPILE_CACHE=<folder> moves ours (bench/cli.ts keeps it in its temp dir).
 */
const MAX_VERSIONS = 3;
const CACHE_FILE = /^main-([0-9a-f]{16})-[a-z]+\.jsc$/;
const TEMP_FILE = /^main-[0-9a-f]{16}-[a-z]+\.jsc\.[0-9a-f]{12}\.tmp$/;

/** Command words that get a cache file of their own (see loadBundle's `variant`); others share "other". */
const VARIANTS = new Set(['run', 'renew', 'list', 'revoke', 'certificates', 'accounts', 'dns', 'storage']);

/**
 * Which cache file a command line uses. V8 caches what a run compiled, and each command runs different
 * code: one file per command keeps `run` from starting with what `list` happened to compile first. Any
 * file is valid for any command of the same bundle, so a wrong guess costs time, never correctness.
 */
export function cacheVariant(argv: readonly string[]): string {
  return argv.find((a) => VARIANTS.has(a)) ?? 'other';
}

/**
 * `<home>/.cache/acmekit/compile-cache`, ACMEKIT_COMPILE_CACHE when set (a folder; the same ownership
 * checks apply), or undefined when there is no usable home folder or NODE_DISABLE_COMPILE_CACHE is set.
 */
export function compileCacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  if (env.ACMEKIT_COMPILE_CACHE) return resolve(env.ACMEKIT_COMPILE_CACHE);
  try {
    const home = homedir();
    if (!home || lstatSync(home).uid !== process.geteuid?.()) return undefined;
    return join(home, '.cache', 'acmekit', 'compile-cache');
  } catch {
    return undefined; // no user database entry or no home folder: run without the cache
  }
}

/** The folder for one acmekit version; `version` comes from package.json and is checked anyway. */
export function versionFolder(root: string, version: string): string | undefined {
  return /^[0-9A-Za-z.+-]+$/.test(version) && version !== '.' && version !== '..'
    ? join(root, version)
    : undefined;
}

/** Node ≥ 22.1: Node's own cache for what the CLI loads outside its bundle (npm packages). */
export function enableNodeCompileCache(folder: string): void {
  if (process.env.NODE_COMPILE_CACHE) return; // Node enabled the user's choice at start-up
  // getBuiltinModule, not an import: loading node:module on Node 20 starts the ES module loader (~3 ms).
  const mod = process.getBuiltinModule?.('node:module') as
    | { enableCompileCache?: (directory: string) => unknown }
    | undefined;
  mod?.enableCompileCache?.(join(folder, 'node')); // never throws; a failure means no cache
}

/**
 * scripts/build-cli.ts writes the main bundle inside this function expression (and `\n})` after it),
 * the arguments Node's CommonJS loader gives a module plus `__acmekitImport`: so the file is the script
 * as compiled, and no second copy of its ~400 kB is made by wrapping it at run time.
 */
export const BUNDLE_HEAD = '(function (exports, require, module, __filename, __dirname, __acmekitImport) {';
export const BUNDLE_TAIL = '\n})';

export interface LoadedBundle {
  exports: Record<string, unknown>;
  /** True when V8 took compiled code from the cache (for tests and diagnostics). */
  fromCache: boolean;
  /** Writes the compiled code when the cache had none for this bundle; call after the work is done. */
  saveCache(): void;
}

/**
 * Runs a CommonJS bundle as Node's loader would (same wrapper arguments, plus `importPackage` for its
 * `import()` of npm packages, see scripts/build-cli.ts), with V8's code cache from `folder` when there
 * is a usable one. `folder` undefined: no cache.
 */
export function loadBundle(
  file: string,
  opts: {
    folder: string | undefined;
    /** The cache file's name part, from cacheVariant() (lower-case letters; default "other"). */
    variant?: string;
    require: NodeJS.Require;
    importPackage: (specifier: string) => Promise<unknown>;
  },
): LoadedBundle {
  const source = readFileSync(file, 'utf8'); // read straight into a string, no Buffer kept on the heap
  if (!source.startsWith(BUNDLE_HEAD) || !source.endsWith(BUNDLE_TAIL))
    throw new Error(`${file} is not a bundle made by scripts/build-cli.ts`);
  // Keyed by content, not by name: V8 itself checks only the source length, V8 version and flags.
  // Latin-1: the build refuses wider characters, and hashing skips a UTF-8 copy (~1 ms).
  const key = createHash('sha1').update(source, 'latin1').digest('hex').slice(0, 16);
  const variant = opts.variant && /^[a-z]+$/.test(opts.variant) ? opts.variant : 'other';
  const cacheFile = opts.folder ? join(opts.folder, `main-${key}-${variant}.jsc`) : undefined;
  const cachedData = cacheFile ? readOwnFile(cacheFile) : undefined;
  const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as Record<string, unknown> };
  const dirname = file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')));
  script.runInThisContext()(module.exports, opts.require, module, file, dirname, opts.importPackage);
  const stale = cachedData === undefined || script.cachedDataRejected === true;
  return {
    exports: module.exports,
    fromCache: !stale,
    saveCache: () => {
      if (!stale || !opts.folder || !cacheFile) return;
      try {
        // After the run: the data then holds every function this command compiled, not only the top level.
        writeCache(opts.folder, cacheFile, () => script.createCachedData());
      } catch {
        // a cache that cannot be written is only a slower next start
      }
    },
  };
}

/** The file's bytes when this account owns it and its folder and nobody else may write either; else undefined. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    const uid = process.geteuid?.();
    const dir = statSync(join(path, '..'));
    if (dir.uid !== uid || dir.mode & 0o022) return undefined;
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== uid || st.mode & 0o022) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCache(folder: string, file: string, data: () => Buffer): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  // The file is opened first: where it cannot be written (a read-only home), V8 is not asked for the data.
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, data());
      fsyncSync(fd); // a torn file after a power cut must not be taken for compiled code
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  pruneCompileCache(join(folder, '..'), folder, file);
}

/**
 * Keeps the cache bounded: in `current` (a version folder) only the cache files of the bundle that
 * `keepFile` belongs to (one per command variant); under `root`, `current` and the MAX_VERSIONS − 1
 * most recently written other entries.
 */
export function pruneCompileCache(root: string, current: string, keepFile: string): void {
  const keepKey = CACHE_FILE.exec(basename(keepFile))?.[1];
  for (const name of readdirSync(current)) {
    const path = join(current, name);
    const key = CACHE_FILE.exec(name)?.[1];
    // Cache files of other bundles, and temp files a crash left (a minute is far longer than a write).
    const stale =
      (key !== undefined && key !== keepKey) ||
      (TEMP_FILE.test(name) && Date.now() - lstatSync(path).mtimeMs > 60_000);
    if (stale) unlinkSync(path);
  }
  const others = readdirSync(root)
    .map((name) => join(root, name))
    .filter((path) => path !== current)
    .map((path) => ({ path, mtimeMs: lstatSync(path).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { path } of others.slice(MAX_VERSIONS - 1)) rmSync(path, { recursive: true, force: true });
}
