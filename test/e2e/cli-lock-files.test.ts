import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// A guard file acmekit cannot use (a dangling symbolic link, a folder) made `acmekit run` spin at ~90 %
// CPU forever. It must end within seconds, exit non-zero and name the file to remove.

let pebble: PebbleServer;
let bin: string;
let work: string;
before(async () => {
  [pebble, bin, work] = await Promise.all([
    startPebble(),
    installedCli(),
    mkdtemp(join(tmpdir(), 'acmekit-lockfiles-')),
  ]);
});
after(async () => {
  await pebble?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function runWith(
  lego: string,
  domain: string,
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const r = await runCli(
    bin,
    [
      ...caArgs(pebble),
      ...['--path', lego, '--accept-tos', '--email', 'locks@example.com', '-d', domain],
      ...['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`, 'run'],
    ],
    { timeoutMs: 30_000 },
  );
  return { code: r.code, stderr: r.stderr, ms: Date.now() - started };
}

test('run: a certificate lock guard that is a dangling symbolic link ends in seconds, naming the file', async () => {
  const lego = join(work, 'symlink');
  const guard = join(lego, '.locks', 'certificate-certificates_guard.example.com.json.guard');
  await mkdir(join(lego, '.locks'), { recursive: true, mode: 0o700 });
  await symlink(join(lego, '.locks', 'gone'), guard);
  const r = await runWith(lego, 'guard.example.com');
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  assert.ok(r.stderr.includes(guard), r.stderr);
  assert.match(r.stderr, /unusable guard file: it is a symbolic link.*Remove it/);
});

test('run: an account registration guard that is a folder ends in seconds, naming the file', async () => {
  const lego = join(work, 'folder');
  const guard = join(lego, '.locks', 'account-registration.guard');
  await mkdir(guard, { recursive: true });
  const r = await runWith(lego, 'folder-guard.example.com');
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  assert.ok(r.stderr.includes(guard), r.stderr);
  assert.match(r.stderr, /unusable guard file: it is a folder.*Remove it/);
});
