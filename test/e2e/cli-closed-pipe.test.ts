import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installedCli } from '../support/cli.ts';

let bin: string;
let dir: string;
before(async () => {
  [bin, dir] = await Promise.all([installedCli(), mkdtemp(join(tmpdir(), 'acmekit-pipe-'))]);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs the CLI with stdout a pipe whose reader is gone before the CLI writes (as `| head -c 0` would be). */
function intoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ACMEKIT_') && !k.startsWith('LEGO_')),
    );
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

for (const args of [['list', '--path'], ['list', '--json', '--path'], ['--version'], ['help']]) {
  test(`acmekit ${args.join(' ')} into a closed pipe exits 0 without an EPIPE stack trace`, async () => {
    const full = args.at(-1) === '--path' ? [...args, dir] : args;
    const { code, stderr } = await intoClosedPipe(full);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error|at /);
  });
}
