const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_KILL_GRACE_MS = 5_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024;
/** After the hook exits, how long a background child may keep its output pipe open before we stop reading. */
const DRAIN_MS = 500;

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  /** The last `maxOutputBytes` of each stream. */
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface RunProcessOptions {
  /** The program; found on PATH when it has no slash. */
  file: string;
  /** Passed as separate arguments, never through a shell. */
  args: readonly string[];
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** How messages name the program, e.g. "the hook"; default its file name. */
  label?: string;
  timeoutMs?: number;
  cwd?: string;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL to the hook's process group; default 5 s. */
  killGraceMs?: number;
  maxOutputBytes?: number;
}

/**
 * Runs a user's program (hook, exec DNS provider) in its own process group. On timeout or abort the
 * whole group gets SIGTERM, then SIGKILL after the grace period, so background children die too.
 * Resolves with the outcome (a non-zero exit is not an error here; callers wrap it in their own
 * error); rejects with `signal.reason` when aborted.
 */
export async function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  // Loaded on use: node:child_process costs ~3 ms at start-up, and most CLI runs have no hook.
  // getBuiltinModule, not import(): in the CommonJS CLI bundle, import() would start the ES module loader.
  const { spawn } = process.getBuiltinModule('node:child_process');
  opts.signal?.throwIfAborted();
  const { file, args } = opts;
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const started = performance.now();
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true, // own process group, so a timeout can end everything the hook started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = lastBytes(limit);
  const stderr = lastBytes(limit);
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));

  return new Promise((resolve, reject) => {
    let timedOut = false;
    let startError: Error | undefined;
    let killing: Promise<void> | undefined;
    let drain: NodeJS.Timeout | undefined;
    const stop = () => {
      if (!killing && child.pid !== undefined) killing = killGroup(child.pid, opts.killGraceMs);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    opts.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (err) => {
      startError = err;
    });
    child.on('exit', () => {
      // A background child that inherited stdout must not hold us up once the hook itself is done.
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_MS);
    });
    child.on('close', async (code, sig) => {
      clearTimeout(timer);
      clearTimeout(drain);
      opts.signal?.removeEventListener('abort', stop);
      await killing;
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      const where = opts.cwd ? ` (in ${opts.cwd})` : '';
      const err = startError
        ? `acmekit: could not start ${opts.label ?? file}${where}: ${startError.message}\n`
        : '';
      resolve({
        exitCode: startError ? null : code,
        signal: sig,
        stdout: stdout.text(),
        stderr: err + stderr.text(),
        durationMs: Math.round(performance.now() - started),
        timedOut,
      });
    });
  });
}

/** SIGTERM to the group, then SIGKILL if any of it is left after the grace period (unreaped zombies count). */
async function killGroup(pid: number, graceMs = DEFAULT_KILL_GRACE_MS): Promise<void> {
  if (!signalGroup(pid, 'SIGTERM')) return;
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

/** Keeps the last `limit` bytes of a stream; a character cut in half at the start is dropped. */
function lastBytes(limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  return {
    push(chunk: Buffer) {
      chunks.push(chunk);
      size += chunk.length;
      for (; size - chunks[0]!.length >= limit; dropped = true) size -= chunks.shift()!.length;
    },
    text(): string {
      const all = Buffer.concat(chunks);
      const cut = dropped || all.length > limit;
      const text = all.subarray(Math.max(0, all.length - limit)).toString('utf8');
      return cut ? text.replace(/^\uFFFD+/, '') : text;
    },
  };
}
