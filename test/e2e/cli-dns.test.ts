import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BindServer, startBind } from '../support/bind.ts';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// `acmekit --dns rfc2136` from the installed binary against a real BIND that Pebble validates through.
const SECRET = `${randomBytes(30).toString('base64')}`; // also the canary: it must never be printed
let bind: BindServer;
let pebble: PebbleServer;
let bin: string;
let dir: string;

before(async () => {
  [bin, bind] = await Promise.all([
    installedCli(),
    startBind({ keys: [{ name: 'cli-key.', algorithm: 'hmac-sha512', secret: SECRET }] }),
  ]);
  pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, authzReuse: 0 });
  dir = await mkdtemp(join(tmpdir(), 'acmekit-cli-dns-'));
});
after(async () => {
  await pebble?.stop();
  await bind?.stop();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
  RFC2136_TSIG_KEY: 'cli-key.',
  RFC2136_TSIG_SECRET: SECRET,
  RFC2136_TSIG_ALGORITHM: 'hmac-sha512.',
  RFC2136_POLLING_INTERVAL: '0.2',
});
const base = (path: string) => [...caArgs(pebble), '-a', '--email', 'dns@example.com', '--path', path];

function assertNoSecret(...texts: string[]) {
  for (const t of texts) assert.ok(!t.includes(SECRET), 'the TSIG secret was printed');
}

test("lego v4 spelling: --dns rfc2136 for example.test and *.example.test writes lego's wildcard file names", async () => {
  const path = join(dir, 'v4');
  const r = await runCli(
    bin,
    [
      ...base(path),
      '--dns',
      'rfc2136',
      '--dns.resolvers',
      `127.0.0.1:${bind.port}`,
      '-d',
      '*.example.test',
      '-d',
      'example.test',
      'run',
    ],
    { env: env() },
  );
  assert.equal(r.code, 0, r.stderr);
  assertNoSecret(r.stdout, r.stderr);
  const files = (await readdir(join(path, 'certificates'))).sort();
  assert.deepEqual(files, [
    '_.example.test.crt',
    '_.example.test.issuer.crt',
    '_.example.test.json',
    '_.example.test.key',
  ]);
  assert.equal((await stat(join(path, 'certificates', '_.example.test.key'))).mode & 0o777, 0o600);
  const record = JSON.parse(await readFile(join(path, 'certificates', '_.example.test.json'), 'utf8'));
  assert.deepEqual(record.acmekit.challenge.dns.providers, [{ provider: 'rfc2136' }]);
  assertNoSecret(JSON.stringify(record));
  assert.deepEqual(await bind.txt('_acme-challenge.example.test.'), [], 'records removed');

  // renew --force replays the stored dns-01 settings without any challenge flag.
  const again = await runCli(bin, [...base(path), 'renew', '--force', '--no-random-sleep'], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /renewed/);
});

test('lego v5 spelling: run --dns DOMAIN=PROVIDER with --dns.propagation.wait', async () => {
  const path = join(dir, 'v5');
  const r = await runCli(
    bin,
    [
      'run',
      ...base(path),
      '--dns',
      'v5.example.test=rfc2136',
      '--dns.propagation.wait',
      '100ms',
      '--dns.resolvers',
      `127.0.0.1:${bind.port}`,
      '-d',
      'v5.example.test',
      '--json',
    ],
    { env: env() },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).certificates[0].status, 'obtained');
});

test('bad DNS input: unknown provider lists the known ones, a missing variable is named, a wrong secret is explained', async () => {
  const path = join(dir, 'bad');
  const unknown = await runCli(bin, [...base(path), '--dns', 'cloudflair', '-d', 'x.example.test', 'run']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown DNS provider "cloudflair"; known providers: .*cloudflare/);

  const missing = await runCli(bin, [...base(path), '--dns', 'rfc2136', '-d', 'x.example.test', 'run'], {
    env: { RFC2136_TSIG_SECRET: SECRET },
  });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /RFC2136_NAMESERVER is not set/);
  assertNoSecret(missing.stdout, missing.stderr);

  const wrong = await runCli(
    bin,
    [
      ...base(path),
      '--dns',
      'rfc2136',
      '--dns.resolvers',
      `127.0.0.1:${bind.port}`,
      '-d',
      'wrong.example.test',
      'run',
    ],
    { env: { ...env(), RFC2136_TSIG_SECRET: randomBytes(30).toString('base64') } },
  );
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /rfc2136: present: .*(BADSIG|wrong TSIG secret)/);
  assertNoSecret(wrong.stdout, wrong.stderr);

  const mixed = await runCli(bin, [
    ...base(path),
    '--dns',
    'rfc2136',
    '--http',
    '-d',
    'x.example.test',
    'run',
  ]);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /--dns cannot be combined with --http/);
});

test('dns list and dns help describe the providers; help never shows a value', async () => {
  const list = await runCli(bin, ['dns', 'list']);
  assert.equal(list.code, 0, list.stderr);
  for (const code of [
    'alidns',
    'cloudflare',
    'digitalocean',
    'exec',
    'httpreq',
    'manual',
    'rfc2136',
    'route53',
  ]) {
    assert.match(list.stdout, new RegExp(`^${code} `, 'm'));
  }
  const help = await runCli(bin, ['dns', 'help', 'dnsupdate'], { env: env() });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /RFC2136_TSIG_SECRET/);
  assert.match(help.stdout, /--dns rfc2136/);
  assertNoSecret(help.stdout);
  const json = await runCli(bin, ['dns', 'help', 'cloudflare', '--json']);
  const doc = JSON.parse(json.stdout);
  assert.ok(
    doc.variables.some(
      (v: { name: string; secret: boolean }) => v.name === 'CLOUDFLARE_DNS_API_TOKEN' && v.secret,
    ),
  );
});
