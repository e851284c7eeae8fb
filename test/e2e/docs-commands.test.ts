import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseArgs } from '../../src/cli/parse-args.ts';
import { installedCli, runCli } from '../support/cli.ts';
import { type DocCommand, docCommands, HOOK_OPTIONS, rewriteOptions } from '../support/docs-commands.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

/**
 * The documented command lines of `run` (with --http and with --http.webroot), `list`, `renew` and
 * `revoke`, run with the installed binary against Pebble, as written apart from: Pebble as --server
 * (trusted through LEGO_CA_CERTIFICATES), a temp --path, Pebble's validation port for the listener
 * and the webroot, `--no-random-sleep` for renew, and hooks that only record that they ran.
 * test/unit/docs-commands.test.ts parses every documented line.
 */
let pebble: PebbleServer;
let bin: string;
before(async () => {
  // 20-day certificates: the documented `renew --days 30` renews at once.
  [pebble, bin] = await Promise.all([
    startPebble({ certificateValidityPeriod: 20 * 86_400, authzReuse: 0 }),
    installedCli(),
  ]);
});
after(() => pebble?.stop());

const commands = docCommands();
const commandOf = (c: DocCommand) => parseArgs(c.argv).command.join(' ');
const has = (c: DocCommand, re: RegExp) => c.argv.some((w) => re.test(w));
/** Lines that need only Pebble and a folder: no DNS provider, database, CSR, config file, profile or trial run. */
const runnable = (c: DocCommand) =>
  Object.keys(c.env).length === 0 &&
  !has(c, /^--(dns|storage|csr|config|profile|tls|dry-run|server|eab)/) &&
  !has(c, /^-c$/);
const documented = (command: string, also: (c: DocCommand) => boolean = () => true) =>
  commands.filter((c) => commandOf(c) === command && runnable(c) && also(c));

async function lineRunner() {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-docs-e2e-'));
  const path = join(dir, '.lego');
  const hooks = join(dir, 'hooks.log');
  const www = join(dir, 'www');
  await mkdir(www);
  const runLine = async (c: DocCommand, extra: string[] = []) => {
    const hook = `echo "$LEGO_CERT_DOMAIN" >> '${hooks}'`;
    let argv = rewriteOptions(
      c.argv,
      { path: null, ...Object.fromEntries(HOOK_OPTIONS.map((h) => [h, hook])) },
      (w) => (w === '/var/www/html' ? www : w),
    );
    argv = [...argv, ...extra, '--server', pebble.directoryUrl, '--path', path];
    if (argv.includes('--http')) argv.push('--http.port', `127.0.0.1:${pebble.httpPort}`);
    if (commandOf(c) === 'renew') argv.push('--no-random-sleep');
    const webroot = argv.includes(www) ? await serve(www, pebble.httpPort) : undefined;
    try {
      const r = await runCli(bin, argv, { env: { LEGO_CA_CERTIFICATES: pebble.caBundlePath } });
      assert.equal(r.code, 0, `${c.where}: acmekit ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
      return r;
    } finally {
      webroot?.close();
    }
  };
  const hooksRan = async () =>
    (await readFile(hooks, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { path, runLine, hooksRan };
}

/** Serves `root` over plain HTTP on 127.0.0.1:port, as a web server serves a webroot. */
async function serve(root: string, port: number) {
  const server = createServer(async (req, res) => {
    const file = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const body = file.includes('..') ? undefined : await readFile(join(root, file)).catch(() => undefined);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

test('the documented run lines with --http.webroot obtain a certificate', async () => {
  const lines = documented('run', (c) => c.argv.includes('--http.webroot') && has(c, /^(-a|--accept-tos)$/));
  assert.ok(lines.length >= 1);
  for (const c of lines) {
    const { path, runLine } = await lineRunner();
    const r = await runLine(c);
    assert.match(r.stdout, /^example\.com: obtained, valid until /m, c.where);
    const crt = new X509Certificate(await readFile(join(path, 'certificates/example.com.crt')));
    assert.match(crt.subjectAltName ?? '', /DNS:www\.example\.com/);
  }
});

test('a folder from the documented run --http line: every documented list, renew and revoke line works on it', async () => {
  const [obtain] = documented('run', (c) => c.argv.includes('--http'));
  assert.ok(obtain, 'a documented run --http line');
  const { path, runLine, hooksRan } = await lineRunner();
  assert.match((await runLine(obtain)).stdout, /example\.com: obtained/);

  const lists = [...documented('list'), ...documented('certificates list')];
  assert.ok(lists.length >= 2);
  for (const c of lists) {
    const r = await runLine(c);
    const text = c.argv.includes('--json') ? JSON.stringify(JSON.parse(r.stdout)) : r.stdout;
    assert.match(text, /example\.com/, c.where);
  }

  const renewals = documented('renew');
  assert.ok(renewals.length >= 2);
  for (const c of renewals) {
    const before = new X509Certificate(await readFile(join(path, 'certificates/example.com.crt')))
      .serialNumber;
    const r = await runLine(c);
    const after = new X509Certificate(await readFile(join(path, 'certificates/example.com.crt')))
      .serialNumber;
    // A 20-day certificate: due under --days 30, not due under the lifetime rule.
    const quiet = c.argv.includes('--quiet');
    if (c.argv.includes('--days') || c.argv.includes('--renew-days')) {
      if (!quiet) assert.match(r.stdout, /example\.com: renewed/, c.where);
      assert.notEqual(after, before, c.where);
    } else {
      if (!quiet) assert.match(r.stdout, /example\.com: not due until/, c.where);
      else assert.equal(r.stdout, '', `${c.where}: --quiet prints nothing`);
      assert.equal(after, before, c.where);
    }
  }
  assert.ok((await hooksRan()).includes('example.com'), 'the deploy hook of a renewal ran');

  // Each revoke line on a certificate of its own: after one, the run line orders the next (forced when
  // --keep left the revoked one in place).
  const revokes = [...documented('revoke'), ...documented('certificates revoke')];
  assert.ok(revokes.some((c) => commandOf(c) === 'revoke') && revokes.some((c) => commandOf(c) !== 'revoke'));
  for (const [i, c] of revokes.entries()) {
    const r = await runLine(c);
    assert.match(r.stdout, /^example\.com: revoked/m, c.where);
    const archived = (await readdir(join(path, 'archives')).catch(() => [])).filter((f) =>
      f.endsWith('.example.com.crt'),
    );
    if (c.argv.includes('--keep')) await readFile(join(path, 'certificates/example.com.crt'));
    else assert.ok(archived.length > 0, 'the files moved to archives/');
    if (i < revokes.length - 1) await runLine(obtain, c.argv.includes('--keep') ? ['--force'] : []);
  }
});
