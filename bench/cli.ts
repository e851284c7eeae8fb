/**
 * CLI start-up benchmark (a figure, not a test): the installed `acmekit` binary, run as whole
 * processes against a local Pebble, as a user or cron would run it.
 *
 *   node --import tsx bench/cli.ts [--runs 10] [--keep-extra-ca-certs] [--cpu-prof DIR]
 *
 * Installs acmekit from a packed tarball (test/support/cli.ts), starts Pebble 2.4.0 on loopback and a
 * tiny static web server on Pebble's http-01 port that serves the webroot, registers one account with
 * one `run` (not counted), then runs `--runs` rounds of all commands: wall time with performance.now()
 * around spawn → exit, peak RSS from GNU time's %M. See bench/README.md for what every line means.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { installedCli } from '../test/support/cli.ts';
import { type PebbleServer, startPebble } from '../test/support/pebble.ts';

const GNU_TIME = '/usr/bin/time';
const GOAL = { runWallMs: 150, runRssMb: 50 };

/**
 * What Node alone needs for the parts of an issuance that cannot be skipped, as a floor for `run`: one
 * verified HTTPS GET of the directory with the CA bundle (the TLS context and one handshake), a P-256
 * key and one signature, one file written and fsync'd. CommonJS, so no ES module loader either.
 * Arguments: directory URL, CA bundle path, scratch file.
 */
const FLOOR_SCRIPT = `const https = require('node:https'), fs = require('node:fs'), crypto = require('node:crypto');
const [url, caPath, file] = process.argv.slice(1);
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
crypto.sign('sha256', Buffer.from('x'), privateKey);
const agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(caPath, 'utf8') });
https.get(url, { agent }, (res) => {
  res.resume();
  res.on('end', async () => {
    const fh = await fs.promises.open(file, 'w');
    await fh.writeFile('x');
    await fh.sync();
    await fh.close();
    agent.destroy();
  });
});`;

interface Sample {
  ms: number;
  /** Peak resident set size in MiB; NaN when it could not be measured. */
  rssMb: number;
  /** User + system CPU in ms as GNU time reports it (10 ms resolution); NaN without GNU time. */
  cpuMs: number;
  /** The CLI's phase marks (ACMEKIT_TIMING=1, src/internal/timing.ts): ms since the process started. */
  marks?: Record<string, number>;
  /** Resident set size in MiB at each mark. */
  markRssMb?: Record<string, number>;
}

interface Command {
  label: string;
  file: string;
  args: (i: number) => string[];
  /** Checks the output of a finished run; returns an error message or undefined. */
  check?: (stdout: string, i: number) => string | undefined;
  /** Ask the CLI for its phase marks (ACMEKIT_TIMING=1; they cost a few µs each). */
  timing?: boolean;
  /** More environment for this command only. */
  env?: NodeJS.ProcessEnv;
}

// ---------------------------------------------------------------------------------------------
// Running one process
// ---------------------------------------------------------------------------------------------

type RssMethod = 'gnu-time' | 'proc' | 'none';

/** Runs `file args` once; wall time covers spawn → exit (stdout and stderr fully read). */
async function measure(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  scratch: string,
  rssMethod: RssMethod,
): Promise<Sample & { code: number | null; stdout: string; stderr: string }> {
  const timeOut = join(scratch, 'time.out');
  const [cmd, argv] =
    rssMethod === 'gnu-time'
      ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeOut, '--', file, ...args]]
      : [file, args];
  let stdout = '';
  let stderr = '';
  let hwmKb = Number.NaN;
  const start = performance.now();
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Without GNU time: poll VmHWM while the process lives. The last read before exit may miss the peak,
  // so this is a lower bound, and the polling itself costs the machine some CPU.
  const poll =
    rssMethod === 'proc'
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKb = Math.max(Number.isNaN(hwmKb) ? 0 : hwmKb, Number(m[1]));
          } catch {
            // exited between two polls
          }
        }, 2)
      : undefined;
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  const ms = performance.now() - start;
  clearInterval(poll);
  let rssMb = Number.NaN;
  let cpuMs = Number.NaN;
  if (rssMethod === 'gnu-time') {
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    const last = (await readFile(timeOut, 'utf8')).trim().split('\n').pop() ?? '';
    const [maxKb, user, sys] = last.split(' ').map(Number) as [number, number, number];
    rssMb = maxKb / 1024;
    cpuMs = (user + sys) * 1000;
  } else if (rssMethod === 'proc') {
    rssMb = hwmKb / 1024;
  }
  return { ms, rssMb, cpuMs, code, stdout, stderr };
}

interface Setting {
  env: NodeJS.ProcessEnv;
  scratch: string;
  rssMethod: RssMethod;
}

/** Runs one command once (i < 0: a warm-up); throws with its output unless it exited 0 and passed its check. */
async function runOnce(cmd: Command, i: number, s: Setting): Promise<Sample> {
  const args = cmd.args(i);
  const env = { ...s.env, ...cmd.env, ...(cmd.timing ? { ACMEKIT_TIMING: '1' } : {}) };
  const r = await measure(cmd.file, args, env, s.scratch, s.rssMethod);
  const problem = r.code !== 0 ? `exit code ${r.code}` : cmd.check ? cmd.check(r.stdout, i) : undefined;
  if (problem) {
    throw new Error(
      `${cmd.label}: ${problem}\n$ ${cmd.file} ${args.join(' ')}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`,
    );
  }
  const marks = markLine(r.stderr, 'acmekit-timing');
  const markRssMb = markLine(r.stderr, 'acmekit-rss');
  return {
    ms: r.ms,
    rssMb: r.rssMb,
    cpuMs: r.cpuMs,
    ...(marks ? { marks } : {}),
    ...(markRssMb ? { markRssMb } : {}),
  };
}

/** `<prefix> {"label":number,...}` from the CLI's stderr (src/internal/timing.ts). */
function markLine(stderr: string, prefix: string): Record<string, number> | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith(`${prefix} `));
  return line ? (JSON.parse(line.slice(prefix.length + 1)) as Record<string, number>) : undefined;
}

/**
 * One uncounted warm-up round, then `runs` rounds; each round runs every command once, in order. So
 * a burst of load from elsewhere on the machine hits all commands alike instead of one command's block.
 */
async function benchRounds(commands: Command[], runs: number, s: Setting): Promise<Sample[][]> {
  const samples: Sample[][] = commands.map(() => []);
  for (let i = -1; i < runs; i++) {
    for (const [c, cmd] of commands.entries()) {
      const sample = await runOnce(cmd, i, s);
      if (i >= 0) samples[c]!.push(sample);
    }
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

const median = (xs: number[]) => percentile(xs, 0.5);
/** Nearest-rank percentile (as bench/issue.ts). */
function percentile(xs: number[], p: number): number {
  const ys = xs.filter((x) => !Number.isNaN(x));
  if (ys.length === 0) return Number.NaN;
  const sorted = [...ys].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const fmt = (x: number, digits = 1) => (Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

function printTable(rows: { label: string; samples: Sample[] }[], baselineMs: number): void {
  const head = [
    'command',
    'wall med (ms)',
    'wall p90 (ms)',
    'wall min (ms)',
    '− node (ms)',
    'CPU med (ms)',
    'peak RSS med (MB)',
  ];
  const body = rows.map(({ label, samples }) => {
    const wall = samples.map((s) => s.ms);
    return [
      label,
      fmt(median(wall)),
      fmt(percentile(wall, 0.9)),
      fmt(Math.min(...wall)),
      fmt(median(wall) - baselineMs),
      fmt(median(samples.map((s) => s.cpuMs)), 0),
      fmt(median(samples.map((s) => s.rssMb))),
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(line(r));
}

/** Median time and RSS of every phase mark, in the order the marks came, plus the gap to the one before. */
function printPhases(samples: Sample[], wallMs: number): void {
  const withMarks = samples.filter((s) => s.marks);
  if (withMarks.length === 0) return;
  const labels: string[] = [];
  for (const s of withMarks) for (const k of Object.keys(s.marks!)) if (!labels.includes(k)) labels.push(k);
  const at = labels.map((k) => ({ k, ms: median(withMarks.map((s) => s.marks![k] ?? Number.NaN)) }));
  at.sort((a, b) => a.ms - b.ms);
  const rows = at.map(({ k, ms }, n) => [
    k,
    fmt(ms),
    fmt(ms - (n === 0 ? 0 : at[n - 1]!.ms)),
    fmt(median(withMarks.map((s) => s.markRssMb?.[k] ?? Number.NaN))),
  ]);
  const last = at.at(-1)!.ms;
  rows.push(['(process gone, as measured outside)', fmt(wallMs), fmt(wallMs - last), '']);
  const head = ['mark', 'at (ms)', 'since previous (ms)', 'RSS (MB)'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      'keep-extra-ca-certs': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const cpuProfDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, got ${values.runs}`);

  const rssMethod: RssMethod = existsSync(GNU_TIME)
    ? 'gnu-time'
    : existsSync('/proc/self/status')
      ? 'proc'
      : 'none';

  // The children get the environment a user's shell would give them: no ACMEKIT_/LEGO_ settings from
  // the developer's shell, and no NODE_OPTIONS (tsx or a debugger would otherwise load into every child).
  // NODE_EXTRA_CA_CERTS too, unless asked: Node 20 reads and parses that file at every start, even for
  // `node -e 0` (~40 ms for a 150-root bundle on the project machines), which is the machine's cost,
  // not acmekit's; `run` does not need it (it trusts only --ca-bundle).
  const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
  const keepExtraCaCerts = values['keep-extra-ca-certs'] === true;
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('ACMEKIT_') &&
        !k.startsWith('LEGO_') &&
        k !== 'NODE_OPTIONS' &&
        (k !== 'NODE_EXTRA_CA_CERTS' || keepExtraCaCerts),
    ),
  );

  console.log('installing acmekit from a packed tarball (build, npm pack, npm install) ...');
  const bin = await installedCli();
  const binJs = await realpath(bin); // <install>/node_modules/acmekit/dist/bin/acmekit.cjs
  const pkgDir = resolve(dirname(binJs), '../..');
  const indexJs = join(pkgDir, 'dist', 'index.js');
  if (!existsSync(indexJs)) throw new Error(`no ${indexJs} in the installed package`);

  // The `node` that the binary's `#!/usr/bin/env node` finds with this PATH: the baseline must use it too.
  const probe = await measure(
    '/usr/bin/env',
    ['node', '-p', 'process.execPath + " " + process.version'],
    env,
    tmpdir(),
    'none',
  );
  const [node, nodeVersion] = probe.stdout.trim().split(' ') as [string, string];
  if (probe.code !== 0 || !node) throw new Error(`cannot find node in PATH: ${probe.stderr}`);

  const scratch = await mkdtemp(join(tmpdir(), 'acmekit-bench-cli-'));
  // The CLI's compile cache (src/internal/compile-cache.ts) goes to the scratch folder, not the home folder.
  env.ACMEKIT_COMPILE_CACHE = join(scratch, 'compile-cache');
  const webroot = join(scratch, 'www');
  const store = join(scratch, 'lego');
  const listStore = join(scratch, 'lego-list');
  await mkdir(webroot);
  // Answers Pebble's http-01 requests from the webroot, as nginx would.
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = resolve(webroot, `.${decodeURIComponent((req.url ?? '/').split('?')[0]!)}`);
    } catch {
      return void res.writeHead(400).end();
    }
    if (!path.startsWith(webroot + sep)) return void res.writeHead(404).end();
    readFile(path).then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const setting: Setting = { env, scratch, rssMethod };
  let pebble: PebbleServer | undefined;
  try {
    pebble = await startPebble(); // default 5 % badNonce rejection, PEBBLE_VA_NOSLEEP=1
    const { directoryUrl, caBundlePath, httpPort } = pebble;
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(httpPort, '127.0.0.1', done);
    });
    const email = 'bench@example.com';
    const runArgs = (name: string, path = store) => [
      '--server',
      directoryUrl,
      '--ca-bundle',
      caBundlePath,
      '--path',
      path,
      '--email',
      email,
      '-a',
      '--domains',
      name,
      '--http.webroot',
      webroot,
      'run',
    ];
    const runCheck = (name: (i: number) => string) => (stdout: string, i: number) =>
      stdout.includes(`${name(i)}: obtained`) ? undefined : 'no "obtained" line';

    // Not counted: the account registration for `run`, and a second store holding exactly one
    // certificate for `list` (the `run` store grows by one certificate per round).
    const setupName = () => 'setup.bench.test';
    for (const path of [store, listStore]) {
      await runOnce(
        { label: 'setup', file: bin, args: () => runArgs(setupName(), path), check: runCheck(setupName) },
        0,
        setting,
      );
    }

    const issueName = (i: number) => (i < 0 ? 'warmup.bench.test' : `run-${i}.bench.test`);
    const coldName = (i: number) => (i < 0 ? 'warmup-cold.bench.test' : `cold-${i}.bench.test`);
    const commands: Command[] = [
      { label: 'node -e 0', file: node, args: () => ['-e', '0'] },
      {
        label: 'node -e "await import(\'acmekit\')"',
        file: node,
        args: () => [
          '--input-type=module',
          '-e',
          `await import(${JSON.stringify(pathToFileURL(indexJs).href)})`,
        ],
      },
      {
        label: 'node: 1 HTTPS GET + key + fsync',
        file: node,
        args: () => ['-e', FLOOR_SCRIPT, directoryUrl, caBundlePath, join(scratch, 'floor.txt')],
      },
      { label: 'node <bin> --version', file: node, args: () => [binJs, '--version'] },
      { label: 'acmekit --version', file: bin, args: () => ['--version'] },
      {
        label: 'acmekit list --path P (1 cert)',
        file: bin,
        args: () => ['list', '--path', listStore],
        check: (stdout) => (stdout.includes('setup.bench.test') ? undefined : 'setup.bench.test not listed'),
      },
      {
        // A first run after an install or upgrade, or NODE_DISABLE_COMPILE_CACHE=1: the bundle compiled anew.
        label: 'acmekit run, no compile cache',
        file: bin,
        args: (i) => runArgs(coldName(i)),
        check: runCheck(coldName),
        env: { NODE_DISABLE_COMPILE_CACHE: '1' },
      },
      {
        label: 'acmekit run (webroot, new name)',
        // --cpu-prof DIR: the same run with V8's sampling profiler on (slower; for finding where time goes).
        file: cpuProfDir === undefined ? bin : node,
        args: (i) =>
          cpuProfDir === undefined
            ? runArgs(issueName(i))
            : [
                '--cpu-prof',
                '--cpu-prof-dir',
                cpuProfDir,
                '--cpu-prof-interval',
                '100',
                binJs,
                ...runArgs(issueName(i)),
              ],
        check: runCheck(issueName),
        timing: true,
      },
    ];

    console.log(
      `acmekit ${JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version} installed at ${pkgDir}`,
    );
    console.log(
      `Node ${nodeVersion} (${node}); ${runs} rounds of all commands after 1 uncounted warm-up round; ` +
        `Pebble 2.4.0 on loopback (5 % badNonce, PEBBLE_VA_NOSLEEP=1), known account, http-01 via webroot`,
    );
    if (extraCaCerts) {
      console.log(
        keepExtraCaCerts
          ? `NODE_EXTRA_CA_CERTS=${extraCaCerts} kept for the children (--keep-extra-ca-certs): Node reads it at every start`
          : `NODE_EXTRA_CA_CERTS is set in this shell; the children run without it (--keep-extra-ca-certs keeps it)`,
      );
    }
    console.log(
      rssMethod === 'gnu-time'
        ? 'peak RSS and CPU: GNU time (%M, %U + %S) around each process'
        : rssMethod === 'proc'
          ? 'peak RSS: /usr/bin/time is missing (Debian package `time`), so VmHWM polled from /proc every 2 ms: a lower bound; no CPU figures'
          : 'peak RSS: not measured (no /usr/bin/time, no /proc)',
    );
    console.log('');

    const samples = await benchRounds(commands, runs, setting);
    const rows = commands.map((cmd, c) => ({ label: cmd.label, samples: samples[c]! }));

    let overheadNote = '';
    if (rssMethod === 'gnu-time') {
      // What wrapping in GNU time adds to each wall time (one more fork + exec): `true` with and without it.
      const plain: number[] = [];
      const wrapped: number[] = [];
      for (let i = 0; i < runs; i++) {
        plain.push((await measure('/bin/true', [], env, scratch, 'none')).ms);
        wrapped.push((await measure('/bin/true', [], env, scratch, 'gnu-time')).ms);
      }
      overheadNote = `wall times include GNU time's own fork + exec, about ${fmt(median(wrapped) - median(plain))} ms (median, /bin/true with and without it)`;
    }

    printTable(rows, median(rows[0]!.samples.map((s) => s.ms)));
    console.log('');
    if (overheadNote) console.log(overheadNote);
    const run = rows.at(-1)!.samples;
    const runMs = median(run.map((s) => s.ms));
    const runMb = median(run.map((s) => s.rssMb));
    console.log('');
    console.log(
      `phases of \`acmekit run\` (its ACMEKIT_TIMING=1 marks; median of each over the ${runs} runs, ms since the process started):`,
    );
    printPhases(run, runMs);
    console.log('');
    console.log(
      `goal for one issuance: ≤${GOAL.runWallMs} ms median wall time (now ${fmt(runMs)}: ${runMs <= GOAL.runWallMs ? 'met' : 'not met'}), ` +
        `≤${GOAL.runRssMb} MB peak RSS (now ${fmt(runMb)}: ${Number.isNaN(runMb) ? 'not measured' : runMb <= GOAL.runRssMb ? 'met' : 'not met'})`,
    );
  } finally {
    server.close();
    await pebble?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
