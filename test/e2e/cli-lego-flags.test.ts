import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCsr } from '../../src/crypto/csr.ts';
import { installedCli, runCli } from '../support/cli.ts';
import {
  decodeJwsPayload,
  type FaultProxy,
  type ProxyRequest,
  startFaultProxy,
} from '../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// lego flags that real scripts use (--http-timeout, --cert.timeout, --not-after, --filename,
// --private-key, --disable-cn, --user-agent, --always-deactivate-authorizations, --run-hook-timeout),
// through the installed binary against Pebble, in lego v4's spelling: global options before `run`.

let pebble: PebbleServer;
let proxy: FaultProxy;
let bin: string;
/** Every request acmekit sent through the proxy, bodies included (a rule that only looks, never acts). */
const sent: ProxyRequest[] = [];
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
  proxy = await startFaultProxy({ target: pebble });
  proxy.rule({
    name: 'record',
    when: (req) => {
      sent.push(req);
      return false;
    },
    action: {},
  });
});
after(async () => {
  await proxy?.stop();
  await pebble?.stop();
});

/** What acmekit asked for: the JWS payloads of one kind of request, in order. */
const payloads = (resource: ProxyRequest['resource']) =>
  sent.filter((r) => r.resource === resource && r.method === 'POST').map((r) => decodeJwsPayload(r.body));
/** The CSRs acmekit sent to finalize, parsed. */
const finalizedCsrs = () =>
  Promise.all(
    payloads('finalize')
      .filter((p): p is { csr: string } => typeof (p as { csr?: unknown })?.csr === 'string')
      .map((p) => parseCsr(Buffer.from(p.csr, 'base64url'))),
  );

const spki = (pem: string) =>
  createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' }).toString('base64');
const leafSpki = (crt: string) =>
  new X509Certificate(crt).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
/** RFC 3339 without fraction, as a lego user writes it. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('lego v4 line with --filename, --private-key, --not-after, --disable-cn, --user-agent and the timeouts: files, key, dates and CSR as asked; renew replays them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-flags-'));
  const lego = join(dir, '.lego');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(dir, 'given.key');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  // Whole seconds: a certificate's times have no fraction, and Pebble honours the order's notAfter.
  const notAfter = Math.floor(Date.now() / 1000) * 1000 + 3 * 3600_000;
  const env = { LEGO_CA_CERTIFICATES: pebble.caBundlePath };
  const started = Date.now();
  sent.length = 0;
  const r = await runCli(
    bin,
    [
      `--server=${proxy.directoryUrl}`,
      '--path',
      lego,
      '--email=m@example.com',
      '--domains=flags.example.com',
      '--domains=www.flags.example.com',
      '--http',
      '--http.port',
      `127.0.0.1:${pebble.httpPort}`,
      '--accept-tos',
      '--http-timeout',
      '20',
      '--cert.timeout',
      '60',
      '--user-agent',
      'e2e-app/1.0',
      '--not-after',
      rfc3339(notAfter),
      '--filename',
      'site',
      '--private-key',
      keyFile,
      '--disable-cn',
      '--always-deactivate-authorizations',
      'true',
      '--log-level',
      'info',
      'run',
      '--run-hook-timeout',
      '1m0s',
    ],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /flags\.example\.com: obtained, valid until .* → .*certificates\/site\.crt/);

  // --filename: every file under the given base name, none under the domain's.
  const certs = (await readdir(join(lego, 'certificates'))).sort();
  assert.deepEqual(certs, ['site.crt', 'site.issuer.crt', 'site.json', 'site.key']);
  const crt = await readFile(join(lego, 'certificates/site.crt'), 'utf8');
  const leaf = new X509Certificate(crt);
  // --not-after: the CA was asked for it and the leaf ends then (to the second).
  assert.equal(Date.parse(leaf.validTo), notAfter, `leaf ends ${leaf.validTo}`);
  assert.deepEqual(
    payloads('newOrder').map((p) => (p as { notAfter?: string }).notAfter),
    [new Date(notAfter).toISOString()],
  );
  // --disable-cn: the CSR acmekit sent has no common name, both names in the SAN. (Pebble writes a CN
  // into the leaf on its own, so the CSR is where the flag shows.)
  const [csr, ...more] = await finalizedCsrs();
  assert.equal(more.length, 0);
  assert.equal(csr?.commonName, undefined, 'no CN in the CSR');
  assert.deepEqual(csr?.identifiers.map((i) => i.value).sort(), [
    'flags.example.com',
    'www.flags.example.com',
  ]);
  assert.match(leaf.subjectAltName ?? '', /DNS:flags\.example\.com/);
  assert.match(leaf.subjectAltName ?? '', /DNS:www\.flags\.example\.com/);
  // --user-agent: in front of acmekit's own on every request to the CA.
  assert.ok(sent.length > 5);
  for (const req of sent) assert.match(req.headers['user-agent'] ?? '', /^e2e-app\/1\.0 acmekit\//, req.path);
  // --private-key: the certificate is for the given key, and that key is the stored one.
  assert.equal(leafSpki(crt), spki(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
  const stored = await readFile(join(lego, 'certificates/site.key'), 'utf8');
  assert.match(stored, /BEGIN EC PRIVATE KEY/, 'in the PEM form lego writes');
  assert.equal(spki(stored), leafSpki(crt));
  // The record remembers what a renewal must repeat.
  const record = JSON.parse(await readFile(join(lego, 'certificates/site.json'), 'utf8'));
  assert.equal(record.domain, 'flags.example.com');
  assert.equal(record.acmekit.orderNotAfter, rfc3339(notAfter));
  assert.equal(record.acmekit.noCommonName, true);
  // --always-deactivate-authorizations: both authorizations given up after the success.
  assert.equal(
    payloads('authz').filter((p) => (p as { status?: string })?.status === 'deactivated').length,
    2,
  );
  assert.match(r.stderr, /authorization for flags\.example\.com deactivated/);
  assert.match(r.stderr, /authorization for www\.flags\.example\.com deactivated/);
  assert.ok(Date.now() - started < 60_000);

  // renew with lego's usual cron line, without the flags: it finds site.* by the domain and replays
  // the end date and the CSR without a common name; a new key (no --reuse-key), as lego does.
  sent.length = 0;
  const renewed = await runCli(
    bin,
    [
      `--server=${proxy.directoryUrl}`,
      '--path',
      lego,
      '--email=m@example.com',
      '--domains=flags.example.com',
      '--domains=www.flags.example.com',
      'renew',
      '--force',
      '--no-random-sleep',
    ],
    { env },
  );
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.match(renewed.stdout, /flags\.example\.com: renewed, .*certificates\/site\.crt/);
  assert.deepEqual((await readdir(join(lego, 'certificates'))).sort(), certs);
  const crt2 = await readFile(join(lego, 'certificates/site.crt'), 'utf8');
  assert.notEqual(new X509Certificate(crt2).serialNumber, leaf.serialNumber);
  assert.equal(Date.parse(new X509Certificate(crt2).validTo), notAfter, 'the remembered --not-after');
  assert.deepEqual(
    payloads('newOrder').map((p) => (p as { notAfter?: string }).notAfter),
    [new Date(notAfter).toISOString()],
  );
  const [csr2] = await finalizedCsrs();
  assert.ok(csr2);
  assert.equal(csr2.commonName, undefined, 'the remembered --disable-cn');
  assert.equal(
    payloads('authz').filter((p) => (p as { status?: string })?.status === 'deactivated').length,
    0,
  );
  for (const req of sent) assert.doesNotMatch(req.headers['user-agent'] ?? '', /e2e-app/, 'not remembered');
  assert.equal(spki(await readFile(join(lego, 'certificates/site.key'), 'utf8')), leafSpki(crt2));
  assert.notEqual(leafSpki(crt2), leafSpki(crt), 'a new key: --private-key is not remembered, as in lego');

  // --force-cert-domains: not due, but the names differ from --domains, so it renews for exactly those.
  const base = [
    `--server=${proxy.directoryUrl}`,
    '--path',
    lego,
    '--email=m@example.com',
    '-d',
    'flags.example.com',
    '--ari-disable',
  ];
  const notDue = await runCli(bin, [...base, 'renew', '--no-random-sleep'], { env });
  assert.equal(notDue.code, 0, notDue.stderr);
  assert.match(notDue.stdout, /flags\.example\.com: not due until/);
  const forced = await runCli(bin, [...base, 'renew', '--no-random-sleep', '--force-cert-domains'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /flags\.example\.com: names changed \(-www\.flags\.example\.com\); renewing\n/);
  const crt3 = new X509Certificate(await readFile(join(lego, 'certificates/site.crt'), 'utf8'));
  assert.equal(crt3.subjectAltName, 'DNS:flags.example.com');
});

test('--user-agent goes in front of acmekit’s User-Agent and --http-timeout bounds each request to the CA', async () => {
  // A "CA" that reads the request and never answers: the run can only end through the timeout.
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req) => {
    seen.push(req.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-flags-'));
    const started = Date.now();
    const r = await runCli(
      bin,
      [
        `--server=http://127.0.0.1:${port}/directory`,
        '--path',
        join(dir, '.lego'),
        '--email=m@example.com',
        '--domains=ua.example.com',
        '--http',
        '--http.port',
        `127.0.0.1:${pebble.httpPort}`,
        '--accept-tos',
        '--http-timeout',
        '1',
        '--user-agent',
        'e2e-app/1.0',
        'run',
      ],
      { timeoutMs: 45_000 },
    );
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /within 1000 ms/, 'the 1 s deadline, not the default 30 s');
    assert.ok(elapsed < 25_000, `ended after ${elapsed} ms`);
    assert.ok(seen.length >= 1);
    assert.match(seen[0]!['user-agent'] ?? '', /^e2e-app\/1\.0 acmekit\/\S+ node\//);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('--http.memcached-host (lego v4 line) exits 2 with what to use instead, before anything is written or sent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-flags-'));
  const r = await runCli(
    bin,
    [
      `--server=${pebble.directoryUrl}`,
      '--path',
      join(dir, '.lego'),
      '--email=m@example.com',
      '--domains=mc.example.com',
      '--http',
      '--http.memcached-host',
      '127.0.0.1:11211',
      '--accept-tos',
      'run',
    ],
    { env: { LEGO_CA_CERTIFICATES: pebble.caBundlePath } },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: --http\.memcached-host is not supported: .*memcached/);
  assert.match(r.stderr, /--http\.webroot DIR/, 'says what to use instead');
  assert.doesNotMatch(r.stderr, /unknown option/);
  assert.equal(existsSync(join(dir, '.lego')), false, 'nothing written');
});

test('lego v5 `accounts keyrollover --private-key FILE`: the CA switches to the given key, which becomes the stored one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-flags-'));
  const lego = join(dir, '.lego');
  const env = { LEGO_CA_CERTIFICATES: pebble.caBundlePath };
  const common = ['--server', pebble.directoryUrl, '--path', lego, '--email', 'roll@example.com'];
  const registered = await runCli(bin, ['accounts', 'register', ...common, '--accept-tos'], { env });
  assert.equal(registered.code, 0, registered.stderr);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const keyFile = join(dir, 'next-account.key');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const rolled = await runCli(bin, ['accounts', 'keyrollover', ...common, '--private-key', keyFile], { env });
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, /key rolled over/);
  const folder = new URL(pebble.directoryUrl).host.replace(':', '_');
  const stored = await readFile(
    join(lego, `accounts/${folder}/roll@example.com/keys/roll@example.com.key`),
    'utf8',
  );
  assert.equal(spki(stored), spki(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
  // The CA knows the account by the new key: an order signed with it (the stored key) succeeds.
  const obtained = await runCli(
    bin,
    [...common, '-d', 'roll.example.com', '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`, 'run'],
    { env },
  );
  assert.equal(obtained.code, 0, obtained.stderr);
  assert.match(obtained.stdout, /roll\.example\.com: obtained/);
});
