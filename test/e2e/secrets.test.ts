import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BindServer, startBind } from '../support/bind.ts';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type FakeCloudflare, startFakeCloudflare } from '../support/fake-cloud/cloudflare.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';
import { createTestCa, type TestCa } from '../support/test-ca.ts';

// RELIABILITY F1 (and F2 for a token with a trailing newline): unique canaries as the EAB HMAC key, the
// TSIG secret and a DNS API token; every run at the most verbose level (--log-level debug, --verbose or
// ACMEKIT_LOG_LEVEL=debug). No canary and no "PRIVATE KEY" may appear in stdout, stderr or any stored
// file but the key files, and the debug output must really be there, so the check cannot pass on silence.

const canary = randomBytes(32).toString('base64url');
const kid = 'canary-kid';
const TSIG_SECRET = randomBytes(30).toString('base64');
const CF_TOKEN = `cf-${randomBytes(24).toString('hex')}`;
let pebble: PebbleServer;
let dnsPebble: PebbleServer;
let bind: BindServer;
let cfCa: TestCa;
let cf: FakeCloudflare;
let bin: string;
let work: string;
before(async () => {
  [pebble, bind, cfCa, bin, work] = await Promise.all([
    startPebble({ eab: { [kid]: canary } }),
    startBind({ keys: [{ name: 'f1-key.', algorithm: 'hmac-sha256', secret: TSIG_SECRET }] }),
    createTestCa(),
    installedCli(),
    mkdtemp(join(tmpdir(), 'acmekit-f1-')),
  ]);
  [dnsPebble, cf] = await Promise.all([
    startPebble({ dnsServer: `127.0.0.1:${bind.port}`, authzReuse: 0 }),
    startFakeCloudflare({ ca: cfCa, zones: ['example.test'], tokens: { [CF_TOKEN]: { edit: true } } }),
  ]);
});
after(async () => {
  await Promise.all([pebble?.stop(), dnsPebble?.stop(), cf?.close()]);
  await bind?.stop();
  if (cfCa) await rm(cfCa.dir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

/** Nothing secret in the texts; and the debug lines are there (requests to the CA at least). */
function assertClean(texts: string[], secrets: string[]): void {
  const all = texts.join('\n');
  assert.match(
    all,
    /^debug: ACME request method=POST url=https:\/\/\S+ status=\d+/m,
    'debug output was produced',
  );
  for (const s of secrets) assert.ok(!all.includes(s), 'a canary secret was printed');
  assert.ok(!all.includes('PRIVATE KEY'), 'a private key was printed');
}

/** No canary in any stored file, and PEM private keys only in the key files. */
async function assertFilesClean(lego: string, secrets: string[]): Promise<void> {
  for (const file of await allFiles(lego)) {
    const text = await readFile(file, 'utf8');
    for (const s of secrets) assert.ok(!text.includes(s), `canary stored in ${file}`);
    if (!file.endsWith('.key') && !file.endsWith('.pending'))
      assert.ok(!text.includes('PRIVATE KEY'), `private key in ${file}`);
  }
}

test('F1: at debug level, the EAB HMAC key and private keys never appear in output, --json, errors or stored files', async () => {
  const lego = join(work, 'eab', '.lego');
  const base = [...caArgs(pebble), '-a', '--email', 's@example.com', '--path', lego];
  const web = ['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`];
  const outputs: string[] = [];
  const ok = await runCli(
    bin,
    [...base, '--eab', '--eab.kid', kid, '-d', 'f1.example.com', ...web, 'run', '--json'],
    {
      env: { ACMEKIT_EAB_HMAC: canary, ACMEKIT_LOG_LEVEL: 'debug' },
    },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).ok, true, 'stdout stays one JSON document at debug level');
  assert.match(ok.stderr, /^debug: ACME request method=POST/m, 'ACMEKIT_LOG_LEVEL=debug turns debug on');
  outputs.push(ok.stdout, ok.stderr);
  // The same key on the command line, and a wrong key, for the error paths.
  const wrongKey = `${canary.slice(0, -4)}AAAA`;
  const bad = await runCli(bin, [
    ...[...caArgs(pebble), '-a', '--email', 'w@example.com', '--path', lego, '--verbose'],
    ...['--eab.kid', kid, `--eab.hmac=${wrongKey}`, '-d', 'f1b.example.com', ...web, 'run', '--json'],
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^debug: ACME request method=POST .*status=4\d\d/m, '--verbose turns debug on');
  outputs.push(bad.stdout, bad.stderr);
  const short = await runCli(bin, [
    ...[...base, '--log-level', 'debug', '--eab.kid', kid, '--eab.hmac', 'c2hvcnQ'],
    ...['-d', 'f1c.example.com', '--http', 'run'],
  ]);
  assert.equal(short.code, 2);
  outputs.push(short.stdout, short.stderr);
  // The account key is saved before registering (crash safety, C1); no account.json means no account.
  const refusedAccount = join(
    lego,
    'accounts',
    new URL(pebble.directoryUrl).host.replace(':', '_'),
    'w@example.com',
  );
  await assert.rejects(
    readFile(join(refusedAccount, 'account.json')),
    'a refused EAB key registers no account',
  );
  assertClean(outputs, [canary, wrongKey]);
  await assertFilesClean(lego, [canary, wrongKey]);
});

test('F1, D8: at debug level, the TSIG secret of --dns rfc2136 never appears, while the DNS steps are logged', async () => {
  const lego = join(work, 'rfc2136', '.lego');
  const r = await runCli(
    bin,
    [
      ...[...caArgs(dnsPebble), '-a', '--email', 'dns@example.com', '--path', lego, '--log-level', 'debug'],
      ...['--dns', 'rfc2136', '--dns.resolvers', `127.0.0.1:${bind.port}`, '-d', 'f1.example.test', 'run'],
    ],
    {
      env: {
        RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
        RFC2136_TSIG_KEY: 'f1-key.',
        RFC2136_TSIG_SECRET: TSIG_SECRET,
        RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
        RFC2136_POLLING_INTERVAL: '0.2',
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^debug: TXT value added .*provider=rfc2136/m, 'the DNS update is logged');
  assert.match(r.stderr, /^debug: dns-01: record visible on every nameserver/m);
  assertClean([r.stdout, r.stderr], [TSIG_SECRET]);
  await assertFilesClean(lego, [TSIG_SECRET]);
});

test('F1/F2: at debug level, a DNS API token (given with a trailing newline) never appears, while each API call is logged', async () => {
  const lego = join(work, 'cloudflare', '.lego');
  // The record goes to the fake API, not to the DNS Pebble asks, so validation fails: the provider's
  // present and cleanup still run and log, which is what this test is about.
  const r = await runCli(
    bin,
    [
      ...[...caArgs(dnsPebble), '-a', '--email', 'cf@example.com', '--path', lego, '--verbose'],
      ...['--dns', 'cloudflare', '--dns.propagation.wait', '10ms', '-d', 'cf.example.test', 'run'],
    ],
    {
      env: {
        CLOUDFLARE_DNS_API_TOKEN: `${CF_TOKEN}\n`,
        CLOUDFLARE_BASE_URL: cf.baseUrl,
        ACMEKIT_DNS_CA_BUNDLE: cfCa.rootPath,
      },
    },
  );
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^debug: cloudflare: API call .*method=POST/m, 'the record creation is logged');
  assert.match(r.stderr, /^debug: cloudflare: API call .*method=DELETE/m, 'the clean-up is logged');
  assert.ok(
    cf.requests.some((q) => q.headers.authorization === `Bearer ${CF_TOKEN}`),
    'the token reached the API',
  );
  assertClean([r.stdout, r.stderr], [CF_TOKEN]);
  await assertFilesClean(lego, [CF_TOKEN]);
});
