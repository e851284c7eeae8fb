import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { main } from '../../src/cli/main.ts';
import {
  applyConfig,
  applyDefaults,
  applyEnvironment,
  checkUnsupported,
  commandTree,
  parseArgs,
} from '../../src/cli/parse-args.ts';
import { accountKeys } from '../../src/storage/lego/layout.ts';
import { type DocCommand, docCommands, HOOK_OPTIONS, rewriteOptions } from '../support/docs-commands.ts';

/**
 * Every `acmekit …` line of README.md and docs/cli.md goes through the real parser: options, the
 * environment it sets, the config file it names (docs/cli.md's own example), defaults and the refused
 * lego flags. Lines that need nothing but this machine then run whole through `main()` against a CA
 * stub on loopback that answers 404, over a folder holding an account and a certificate, so every check
 * made before the first request to the CA runs too: they must end in 0, or in 1 at that request, never
 * in a usage error. Lines that need a cloud account (a DNS provider, a database, an EAB-only CA) are
 * only parsed. test/e2e/docs-commands.test.ts runs one line of each command against Pebble.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const commands = docCommands();
const EMAIL = 'me@example.com';

/** Why a line cannot run here, or undefined when it can. */
function needsCloud(c: DocCommand): string | undefined {
  const words = [...c.argv, ...Object.values(c.env)];
  if (c.argv.some((w) => w === '--dns' || w.startsWith('--dns='))) return 'a DNS provider account';
  const parsed = parseArgs(c.argv);
  if (parsed.command.join(' ') === 'dns check') return 'a DNS provider account';
  if (words.some((w) => /^(postgres(ql)?|rediss?):\/\//.test(w))) return 'a database';
  if (c.argv.some((w) => /^--(eab|kid|hmac)/.test(w) || /^(zerossl|google|google-staging|sslcom)$/.test(w)))
    return 'an account at a CA that requires external account binding';
  return undefined;
}

/** The YAML example of docs/cli.md's "Config file", as the config file its command line names. */
async function configExample(): Promise<string> {
  const text = await readFile(join(ROOT, 'docs/cli.md'), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
  assert.ok(yaml, 'docs/cli.md has a ```yaml config example');
  return yaml;
}

test('the documentation shows command lines for every command', () => {
  const shown = new Set(commands.map((c) => parseArgs(c.argv).command.join(' ')));
  for (const command of ['run', 'renew', 'revoke', 'list', 'certificates list', 'certificates revoke'])
    assert.ok(shown.has(command), `no documented line for ${command}`);
  assert.ok(commands.length >= 30, `only ${commands.length} lines found: is the extraction broken?`);
});

describe('every documented command line parses', () => {
  for (const c of commands) {
    test(`${c.where}: acmekit ${c.argv.join(' ')}`, async () => {
      const parsed = parseArgs(c.argv);
      const [first, second] = parsed.command;
      if (parsed.options.help || parsed.options.version) return;
      assert.ok(first, 'a command');
      const subcommands = commandTree[first]!;
      if (subcommands.length > 0 && first !== 'dns')
        assert.ok(second, `${first} needs one of ${subcommands}`);
      applyEnvironment(parsed, c.env);
      if (typeof parsed.options.config === 'string') {
        applyConfig(
          parsed,
          parseYaml(await configExample()) as Record<string, unknown>,
          parsed.options.config,
        );
      }
      applyDefaults(parsed);
      checkUnsupported(parsed);
    });
  }
});

describe('documented command lines that need nothing but this machine run up to the CA', () => {
  let dir: string;
  let stub: Server;
  let stubUrl: string;
  const requests: string[] = [];
  /** Paths in the documentation → the fixtures standing in for them. */
  let paths: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acmekit-docs-'));
    stub = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not a CA');
    });
    await new Promise<void>((done) => stub.listen(0, '127.0.0.1', done));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/dir`;
    const state = join(dir, 'state');
    paths = {
      '/etc/acmekit/config.yaml': join(dir, 'config.yaml'),
      '/etc/acmekit': state,
      '/var/www/html': join(dir, 'www'),
      '/var/backups/acmekit': join(dir, 'backups'),
      'server.csr': join(dir, 'server.csr'),
    };
    await mkdir(join(dir, 'www'));
    await writeFile(paths['/etc/acmekit/config.yaml']!, mapPaths(await configExample()));
    // The account the lines without -a use, registered earlier (its URL is never fetched: the stub says 404).
    const account = accountKeys(stubUrl, EMAIL);
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await mkdir(join(state, dirname(account.privateKey)), { recursive: true, mode: 0o700 });
    await writeFile(join(state, account.privateKey), key.export({ type: 'sec1', format: 'pem' }), {
      mode: 0o600,
    });
    await writeFile(
      join(state, account.accountJson),
      JSON.stringify({ email: EMAIL, registration: { body: { status: 'valid' }, uri: `${stubUrl}/acct/1` } }),
      { mode: 0o600 },
    );
    // A certificate for example.com with 60 days left (not due), for revoke and renew; and the CSR of run --csr.
    await mkdir(join(state, 'certificates'), { recursive: true, mode: 0o700 });
    const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await openssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '60'],
      ...[
        '-keyout',
        join(state, 'certificates/example.com.key'),
        '-out',
        join(state, 'certificates/example.com.crt'),
      ],
      ...['-subj', '/CN=example.com', '-addext', 'subjectAltName=DNS:example.com'],
    );
    await writeFile(
      join(state, 'certificates/example.com.json'),
      JSON.stringify({
        domain: 'example.com',
        certUrl: `${stubUrl}/cert/1`,
        certStableUrl: `${stubUrl}/cert/1`,
        // Obtained by acmekit with --http.webroot: renew (also --dry-run, which orders) replays it.
        acmekit: {
          version: 1,
          identifiers: ['example.com'],
          server: stubUrl,
          email: EMAIL,
          keyType: 'ec256',
          challenge: { type: 'http-01', webroot: join(dir, 'www') },
        },
      }),
    );
    await openssl(
      ...['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', join(dir, 'server.key'), '-out', paths['server.csr']!],
      ...['-subj', '/CN=example.com', '-addext', 'subjectAltName=DNS:example.com,DNS:www.example.com'],
    );
  });
  after(async () => {
    await new Promise((done) => stub?.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  function mapPaths(text: string): string {
    for (const [from, to] of Object.entries(paths)) text = text.replaceAll(from, to);
    return text;
  }

  /**
   * The line with the fixtures' paths, the stub as CA, the fixture folder, no cron sleep, and hooks
   * that do nothing (they run only after a certificate is written or an attempt failed, but never a
   * documented `systemctl reload nginx` here).
   */
  function localArgv(c: DocCommand): string[] {
    const hooks = Object.fromEntries(HOOK_OPTIONS.map((h) => [h, 'true']));
    const argv = rewriteOptions(c.argv, { server: null, ...hooks }, (w) =>
      w.startsWith('file:') ? `file:${mapPaths(w.slice(5))}` : (paths[w] ?? w),
    );
    const command = parseArgs(argv).command;
    const storage = argv.some((w) => /^--(path|storage)(=|$)/.test(w)) || command[0] === 'storage';
    return [
      ...argv,
      '--server',
      stubUrl,
      ...(storage ? [] : ['--path', paths['/etc/acmekit']!]),
      ...(command[0] === 'renew' ? ['--no-random-sleep'] : []),
    ];
  }

  for (const c of commands) {
    const cloud = needsCloud(c);
    test(`${c.where}: acmekit ${c.argv.join(' ')}`, {
      skip: cloud ? `only parsed: needs ${cloud}` : false,
    }, async (t) => {
      const argv = localArgv(c);
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...c.env };
      const before = requests.length;
      const [stdoutSink, stderrSink] = [sink(), sink()];
      const code = await main(argv, env, { stdout: stdoutSink, stderr: stderrSink });
      const [stdout, stderr] = [stdoutSink.text, stderrSink.text];
      const shown = `acmekit ${argv.join(' ')}\nexit ${code}\n${stdout}${stderr}`;
      t.diagnostic(`exit ${code}: ${(stderr || stdout).trim().split('\n')[0]}`);
      assert.notEqual(code, 2, `a usage error:\n${shown}`);
      if (code === 1) {
        assert.ok(requests.length > before, `exit 1 before any request to the CA:\n${shown}`);
        assert.match(
          stderr,
          /http:\/\/127\.0\.0\.1:\d+\/dir is not an ACME directory: it answers HTTP 404/,
          shown,
        );
      } else assert.equal(code, 0, shown);
    });
  }
});

/** A stream that keeps what is written to it. */
function sink(): NodeJS.WritableStream & { text: string } {
  const stream = {
    text: '',
    write(chunk: string | Uint8Array, ...rest: unknown[]) {
      stream.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    },
  };
  return stream as unknown as NodeJS.WritableStream & { text: string };
}
