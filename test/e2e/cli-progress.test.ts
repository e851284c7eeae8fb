import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, caArgs, installedCli, runCli } from '../support/cli.ts';
import { freePort } from '../support/free-port.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// The status line on a terminal (a pseudo-terminal from util-linux's `script`), the plain lines of
// --log-level info elsewhere, and silence with --quiet, through the installed binary against a Pebble
// that sleeps before each validation (PEBBLE_VA_SLEEPTIME) so there is a wait to show.

let pebble: PebbleServer;
let bin: string;
let work: string;
before(async () => {
  [pebble, bin, work] = await Promise.all([
    startPebble({ vaSleep: true, env: { PEBBLE_VA_SLEEPTIME: '3' } }),
    installedCli(),
    mkdtemp(join(tmpdir(), 'acmekit-progress-')),
  ]);
});
after(async () => {
  await pebble?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const CLEAR = '\r\u001b[2K';

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !/^(ACMEKIT_|LEGO_)/.test(e[0]),
    ),
  );
}

/** Runs the binary with stdout and stderr on a pseudo-terminal; `output` is what the terminal got. */
function runOnTerminal(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', [bin, ...args].map(quote).join(' '), '/dev/null'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** What the terminal shows at the end: "\r\x1b[2K" wipes the line the cursor is on. */
function screen(raw: string): string {
  const lines = [''];
  for (const part of raw.replaceAll('\r\n', '\n').split(/(\r\u001b\[2K|\n)/)) {
    if (part === CLEAR) lines[lines.length - 1] = '';
    else if (part === '\n') lines.push('');
    else lines[lines.length - 1] += part;
  }
  return lines.join('\n');
}

function args(name: string, ...more: string[]): string[] {
  return [
    'run',
    ...caArgs(pebble),
    ...['-a', '-m', 'progress@example.com', '--path', join(work, name), '-d', `${name}.example.com`],
    ...['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
    ...more,
  ];
}

test('on a terminal: one status line, rewritten in place, says what is awaited, for which name and for how long', async () => {
  // --http.delay 2s: a wait of known length, so the line is seen to count up.
  const r = await runOnTerminal(args('tty', '--http.delay', '2s'));
  assert.equal(r.code, 0, r.output);
  const o = r.output;
  assert.match(o, /\r\u001b\[2K {2}waiting before asking the CA to check: tty\.example\.com \(0 s of 2 s\)/);
  assert.match(o, /\r\u001b\[2K {2}waiting before asking the CA to check: tty\.example\.com \(1 s of 2 s\)/);
  assert.match(o, /\r\u001b\[2K {2}waiting for the CA to validate: tty\.example\.com \(\d+ s\)/);
  // Nothing of it is left: the terminal shows the normal lines only, each from the start of its line.
  const shown = screen(o);
  assert.doesNotMatch(shown, /waiting/, shown);
  assert.match(shown, /^tty\.example\.com: obtained, valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z → /m);
  assert.match(
    shown,
    /^ {2}certificate issued order=\S+ notAfter=\d{4}-\d\d-\d\dT[\d:.]+Z$/m,
    'ISO 8601 UTC',
  );
  assert.doesNotMatch(shown, /GMT|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} \d\d/);
});

test('on a terminal, a failure leaves no status text behind: the error line starts its own line', async () => {
  // The listener binds a port Pebble does not connect to: validation fails.
  const r = await runOnTerminal([...args('fail'), '--http.port', `127.0.0.1:${await freePort()}`]);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /\r\u001b\[2K {2}waiting for the CA to validate: fail\.example\.com \(\d+ s\)/);
  const shown = screen(r.output);
  assert.doesNotMatch(shown, /waiting/, shown);
  assert.match(shown, /^error: fail\.example\.com: failed: /m);
  assert.ok(
    r.output.trimEnd().endsWith('run again'),
    'the last thing printed is the next step, not a status line',
  );
});

test('--quiet on a terminal: no status line and no progress', async () => {
  const r = await runOnTerminal(args('quiet', '--quiet'));
  assert.equal(r.code, 0, r.output);
  assert.doesNotMatch(r.output, /\u001b\[2K|waiting/);
  assert.equal(r.output.trim(), '');
});

test('not a terminal: --log-level info prints plain lines; without it, and with --quiet, nothing of the waits', async () => {
  const plain: CliResult = await runCli(bin, args('plain', '--log-level', 'info'));
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /\r|\u001b/);
  assert.match(plain.stderr, /^ {2}waiting for the CA to validate: plain\.example\.com$/m);
  assert.match(plain.stderr, /^ {2}done waiting for the CA to validate: plain\.example\.com after \d+ s$/m);
  assert.match(plain.stderr, /^ {2}certificate issued order=\S+ notAfter=\d{4}-\d\d-\d\dT[\d:.]+Z$/m);

  const silent = await runCli(bin, args('silent'));
  assert.equal(silent.code, 0, silent.stderr);
  assert.equal(silent.stderr, '');

  const quiet = await runCli(bin, args('quietplain', '--quiet'));
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr + quiet.stdout, '');
});
