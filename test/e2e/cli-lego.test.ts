import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
});
after(() => pebble?.stop());

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'acmekit-e2e-'));
}

async function filesUnder(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name === '.locks') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = (await stat(p)).mode & 0o777;
    }
  };
  await walk(dir, '');
  return out;
}

const serverPart = () => new URL(pebble.directoryUrl).host.replace(':', '_');

test('lego v4 command line (seed 002, --http) runs unchanged and writes lego files with safe modes', async () => {
  const dir = await tmp();
  const r = await runCli(
    bin,
    [
      `--server=${pebble.directoryUrl}`,
      '--path',
      join(dir, '.lego'),
      '--email=m@example.com',
      '--domains=v4.example.com',
      '--domains=www.v4.example.com',
      '--http',
      '--http.port',
      `127.0.0.1:${pebble.httpPort}`,
      '--accept-tos',
      'run',
    ],
    { env: { LEGO_CA_CERTIFICATES: pebble.caBundlePath } },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /v4\.example\.com: obtained/);
  const files = await filesUnder(join(dir, '.lego'));
  assert.deepEqual(files, {
    [`accounts/${serverPart()}/m@example.com/account.json`]: 0o600,
    [`accounts/${serverPart()}/m@example.com/keys/m@example.com.key`]: 0o600,
    'certificates/v4.example.com.crt': 0o644,
    'certificates/v4.example.com.issuer.crt': 0o644,
    'certificates/v4.example.com.json': 0o600,
    'certificates/v4.example.com.key': 0o600,
  });
  const crt = await readFile(join(dir, '.lego/certificates/v4.example.com.crt'), 'utf8');
  assert.match(new X509Certificate(crt).subjectAltName ?? '', /DNS:www\.v4\.example\.com/);
  const key = await readFile(join(dir, '.lego/certificates/v4.example.com.key'), 'utf8');
  assert.match(key, /BEGIN EC PRIVATE KEY/, 'key in the PEM form lego writes');
  const account = JSON.parse(
    await readFile(join(dir, `.lego/accounts/${serverPart()}/m@example.com/account.json`), 'utf8'),
  );
  assert.equal(account.email, 'm@example.com');
  assert.match(account.registration.uri, /^https:\/\//);
});

test('lego v5 spelling gives the same files; a second run is idempotent (G3: not due, no new certificate)', async () => {
  const dir = await tmp();
  const args = [
    'run',
    ...caArgs(pebble),
    '--accept-tos',
    '--email',
    'm@example.com',
    '-d',
    'v5.example.com',
    '--http',
    '--http.address',
    `127.0.0.1:${pebble.httpPort}`,
    '--path',
    join(dir, '.lego'),
  ];
  const first = await runCli(bin, args);
  assert.equal(first.code, 0, first.stderr);
  const crtPath = join(dir, '.lego/certificates/v5.example.com.crt');
  const serial = new X509Certificate(await readFile(crtPath)).serialNumber;
  const second = await runCli(bin, args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /v5\.example\.com: not due until .* \(one third of the .*lifetime left\)/);
  assert.equal(new X509Certificate(await readFile(crtPath)).serialNumber, serial);
  assert.deepEqual(
    Object.keys(await filesUnder(join(dir, '.lego')))
      .filter((f) => f.startsWith('certificates/'))
      .sort(),
    [
      'certificates/v5.example.com.crt',
      'certificates/v5.example.com.issuer.crt',
      'certificates/v5.example.com.json',
      'certificates/v5.example.com.key',
    ],
  );
});

test('G2: renew: not due without flags; --days beyond the remaining time renews; hooks run pre → deploy → post with data in env only', async () => {
  const dir = await tmp();
  const lego = join(dir, '.lego');
  const common = [...caArgs(pebble), '--email', 'h@example.com', '--path', lego];
  const web = ['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`];
  const ok = await runCli(bin, [...common, '-a', '-d', 'hooks.example.com', ...web, 'run']);
  assert.equal(ok.code, 0, ok.stderr);
  const log = join(dir, 'hooks.log');
  const hook = join(dir, 'hook.sh');
  await writeFile(
    hook,
    `#!/bin/sh\necho "$1 domain=$ACMEKIT_CERT_DOMAIN lego=$LEGO_CERT_DOMAIN cert=$LEGO_CERT_PATH renewed=$ACMEKIT_RENEWED_DOMAINS" >> '${log}'\n`,
  );
  await chmod(hook, 0o755);
  const hooks = [
    '--pre-hook',
    `${hook} pre`,
    '--renew-hook',
    `${hook} deploy`,
    '--post-hook',
    `${hook} post`,
    '--no-random-sleep',
  ];
  const notDue = await runCli(bin, [
    ...common,
    '-d',
    'hooks.example.com',
    ...web,
    'renew',
    '--days',
    '30',
    ...hooks,
  ]);
  assert.equal(notDue.code, 0, notDue.stderr);
  assert.match(notDue.stdout, /not due until/);
  await assert.rejects(readFile(log), 'no hook runs when nothing is renewed');

  const due = await runCli(bin, [
    ...common,
    '-d',
    'hooks.example.com',
    ...web,
    'renew',
    '--days',
    '1900',
    ...hooks,
  ]);
  assert.equal(due.code, 0, due.stderr);
  assert.match(due.stdout, /hooks\.example\.com: renewed/);
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['pre', 'deploy', 'post'],
  );
  assert.match(
    lines[1]!,
    new RegExp(
      `domain=hooks\\.example\\.com lego=hooks\\.example\\.com cert=${lego}/certificates/hooks\\.example\\.com\\.crt`,
    ),
  );
});

test('G2: a failing deploy hook exits 5 and keeps the new certificate', async () => {
  const dir = await tmp();
  const r = await runCli(bin, [
    ...caArgs(pebble),
    '-a',
    '--email',
    'f@example.com',
    '--path',
    join(dir, '.lego'),
    '-d',
    'hookfail.example.com',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    'run',
    '--deploy-hook',
    'echo broken >&2; exit 3',
  ]);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /deploy hook/);
  assert.match(r.stderr, /broken/);
  await stat(join(dir, '.lego/certificates/hookfail.example.com.crt'));
});

test('--json prints one parsable document; list --json explains the next renewal', async () => {
  const dir = await tmp();
  const base = [...caArgs(pebble), '--path', join(dir, '.lego')];
  const r = await runCli(bin, [
    ...base,
    '-a',
    '--email',
    'j@example.com',
    '-d',
    'json.example.com',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    'run',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.certificates[0].status, 'obtained');
  assert.match(doc.certificates[0].files.certificate, /json\.example\.com\.crt$/);
  const list = await runCli(bin, ['list', '--json', '--path', join(dir, '.lego')]);
  const listed = JSON.parse(list.stdout);
  assert.equal(listed.certificates.length, 1);
  for (const field of ['domain', 'names', 'issuer', 'notAfter', 'renewAt', 'reason'])
    assert.ok(field in listed.certificates[0], field);
  const again = JSON.parse((await runCli(bin, ['list', '--json', '--path', join(dir, '.lego')])).stdout);
  assert.equal(again.certificates[0].renewAt, listed.certificates[0].renewAt, 'the renewal time stays put');
});

test('G1: bad input exits 2 with a message naming it, and nothing is created', async () => {
  const dir = await tmp();
  const lego = join(dir, '.lego');
  const base = [...caArgs(pebble), '-a', '--email', 'g@example.com', '--path', lego];
  const cases: [string[], RegExp][] = [
    [['-d', '*.wild.example', '--http', 'run'], /wildcard \*\.wild\.example needs dns-01/],
    [['-d', 'a..b.example', '--http', 'run'], /a\.\.b\.example/],
    [
      ['-d', 'ok.example', '--http', 'run', '--days', '30', '--renew-days', '7'],
      /--days 30 and --renew-days 7/,
    ],
    [['-d', 'ok.example', '--http', '--key-type', 'rsa1024', 'run'], /--key-type rsa1024/],
    [['-d', 'ok.example', '--http', '--csr', join(dir, 'missing.csr'), 'run'], /missing\.csr/],
    [['-d', 'ok.example', '--htttp', 'run'], /unknown option --htttp; did you mean --http/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(bin, [...base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  await assert.rejects(stat(lego), 'no --path folder was created');
});

test('two renew processes on one --path produce exactly one new certificate (C7)', async () => {
  const dir = await tmp();
  const lego = join(dir, '.lego');
  const common = [
    ...caArgs(pebble),
    '--email',
    'c@example.com',
    '--path',
    lego,
    '-d',
    'race.example.com',
    '--http.webroot',
    join(dir, 'www'),
  ];
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'www'));
  // The webroot is served by challtestsrv? No: serve it with a tiny static server on the validation port.
  const { createServer } = await import('node:http');
  const server = createServer(async (req, res) => {
    const body = await readFile(join(dir, 'www', req.url ?? '/')).catch(() => undefined);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(pebble.httpPort, '127.0.0.1', resolve));
  try {
    const first = await runCli(bin, [...common, '-a', 'run']);
    assert.equal(first.code, 0, first.stderr);
    // The pre-hook runs after the renewal decision and before the lock: both processes decide "due"
    // before either holds the lock, so the race is real however fast one of them is.
    const renew = () =>
      runCli(bin, [...common, 'renew', '--days', '1900', '--no-random-sleep', '--pre-hook', 'sleep 0.3']);
    const [a, b] = await Promise.all([renew(), renew()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const outputs = [a.stdout, b.stdout].join('\n');
    assert.equal((outputs.match(/race\.example\.com: renewed/g) ?? []).length, 1, outputs);
    assert.match(outputs, /already renewed by another process meanwhile/);
  } finally {
    server.close();
  }
});

test('seed 002 --csr: the certificate is for the CSR names; no key file is written', async () => {
  const dir = await tmp();
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  await promisify(execFile)('openssl', [
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'k.pem'),
    '-out',
    join(dir, 'csr.pem'),
    '-subj',
    '/CN=csr.example.com',
    '-addext',
    'subjectAltName=DNS:csr.example.com,DNS:www.csr.example.com',
  ]);
  const r = await runCli(bin, [
    `--server=${pebble.directoryUrl}`,
    '--ca-bundle',
    pebble.caBundlePath,
    '-a',
    '--email=c@example.com',
    '--path',
    join(dir, '.lego'),
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    '--csr',
    join(dir, 'csr.pem'),
    'run',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const crt = new X509Certificate(await readFile(join(dir, '.lego/certificates/csr.example.com.crt')));
  assert.match(crt.subjectAltName ?? '', /www\.csr\.example\.com/);
  assert.ok(
    crt.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(join(dir, 'k.pem')))),
  );
  await assert.rejects(stat(join(dir, '.lego/certificates/csr.example.com.key')));
});

test('--tls with --pem and --pfx: tls-alpn-01 listener, and the extra files lego writes', async () => {
  const dir = await tmp();
  const r = await runCli(
    bin,
    [
      'run',
      ...caArgs(pebble),
      '-a',
      '--email',
      't@example.com',
      '--path',
      join(dir, '.lego'),
      '-d',
      'tls.example.com',
      '--tls',
      '--tls.port',
      `127.0.0.1:${pebble.tlsPort}`,
      '--pem',
      '--pfx',
    ],
    { env: { ACMEKIT_PFX_PASSWORD: 'secret-pass' } },
  );
  assert.equal(r.code, 0, r.stderr);
  const files = await filesUnder(join(dir, '.lego'));
  assert.equal(files['certificates/tls.example.com.pem'], 0o600);
  assert.equal(files['certificates/tls.example.com.pfx'], 0o600);
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)('openssl', [
    'pkcs12',
    '-in',
    join(dir, '.lego/certificates/tls.example.com.pfx'),
    '-passin',
    'pass:secret-pass',
    '-nokeys',
  ]);
  assert.match(stdout, /subject=CN ?= ?tls\.example\.com/);
  assert.ok(!r.stdout.includes('secret-pass') && !r.stderr.includes('secret-pass'));
});

test('A16: revoke (v4) and certificates revoke (v5): the CA revokes, files move to archives/ as lego names them', async () => {
  const dir = await tmp();
  const lego = join(dir, '.lego');
  const base = [...caArgs(pebble), '-a', '--email', 'r@example.com', '--path', lego];
  const web = ['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`];
  assert.equal((await runCli(bin, [...base, '-d', 'rv4.example.com', ...web, 'run'])).code, 0);
  assert.equal((await runCli(bin, [...base, '-d', 'rv5.example.com', ...web, 'run'])).code, 0);
  const v4 = await runCli(bin, [...base, '-d', 'rv4.example.com', 'revoke', '--reason', '4']);
  assert.equal(v4.code, 0, v4.stderr);
  const v5 = await runCli(bin, ['certificates', 'revoke', ...base, '-d', 'rv5.example.com', '--keep']);
  assert.equal(v5.code, 0, v5.stderr);
  const files = await filesUnder(lego);
  assert.ok(!('certificates/rv4.example.com.crt' in files));
  assert.ok(Object.keys(files).some((f) => /^archives\/\d+\.rv4\.example\.com\.crt$/.test(f)));
  const archivedKey = Object.keys(files).find((f) => /^archives\/\d+\.rv4\.example\.com\.key$/.test(f));
  assert.equal(files[archivedKey ?? ''], 0o600, 'the archived key stays private');
  assert.ok('certificates/rv5.example.com.crt' in files, '--keep leaves the files');
  const again = await runCli(bin, ['certificates', 'revoke', ...base, '-d', 'rv5.example.com']);
  assert.equal(again.code, 3, 'revoking twice is refused by the CA');
  assert.match(again.stderr, /alreadyRevoked/);
});
