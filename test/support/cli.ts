import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function* files(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

async function sourceHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts/build-cli.ts',
  ]) {
    h.update(await readFile(join(ROOT, f)));
  }
  for await (const f of files(join(ROOT, 'src'))) h.update(f).update(await readFile(f));
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds, packs and installs acmekit as a user would (`npm pack`, then `npm install <tarball>` in an
 * empty folder, offline from the npm cache), once per source state; returns the path of the installed
 * `acmekit` binary. Several test processes may call it at once: the install goes to a temp folder
 * that is renamed into place.
 */
export async function installedCli(): Promise<string> {
  const hash = await sourceHash();
  const target = join(ROOT, '.tmp', 'cli-install', hash);
  const bin = join(target, 'node_modules', '.bin', 'acmekit');
  if (existsSync(bin)) return bin;
  const work = `${target}.${process.pid}.tmp`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await run('npm', ['run', 'build'], { cwd: ROOT });
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT });
  const tarball = join(work, stdout.trim().split('\n').pop()!);
  await run('npm', ['init', '-y'], { cwd: work });
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: work,
    maxBuffer: 1 << 24,
  });
  try {
    await rename(work, target);
  } catch {
    await rm(work, { recursive: true, force: true }); // another process won the race; use its install
  }
  await stat(bin);
  return bin;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed binary with the given arguments and environment (no inherited ACMEKIT_/LEGO_ variables). */
export function runCli(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('ACMEKIT_') && !k.startsWith('LEGO_')),
  );
  return new Promise((resolvePromise) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: { ...base, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** `--server URL --ca-bundle ROOT` for a test CA. */
export function caArgs(ca: { directoryUrl: string; caBundlePath: string }): string[] {
  return ['--server', ca.directoryUrl, '--ca-bundle', ca.caBundlePath];
}
