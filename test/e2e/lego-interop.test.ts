import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliResult, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

/**
 * Both directions against the real lego (Debian's 4.9) and a real Pebble: a folder one tool wrote is
 * listed and renewed by the other with the same command line, with the account the first one made.
 * lego trusts Pebble's root through LEGO_CA_CERTIFICATES; acmekit reads the same variable.
 */
const legoFound = spawnSync('lego', ['--version'], { encoding: 'utf8' });
const skip = legoFound.error
  ? `lego is not installed (${legoFound.error.message}): apt-get install lego, as scripts/setup.sh does in CI`
  : false;

const DAY = 86_400;

describe('interop with the real lego', { skip }, () => {
  let pebble: PebbleServer;
  let bin: string;
  before(async () => {
    // 90-day certificates, so --days 365 renews at once; no authorization reuse, so the renewing tool
    // answers http-01 itself (Pebble still reuses about 1 in 100).
    [pebble, bin] = await Promise.all([
      startPebble({ certificateValidityPeriod: 90 * DAY, authzReuse: 0 }),
      installedCli(),
    ]);
  });
  after(() => pebble?.stop());

  const env = () => ({ LEGO_CA_CERTIFICATES: pebble.caBundlePath });
  /** lego's global flags, which acmekit takes as they are. */
  const global = (dir: string, email: string, domains: string[]) => [
    '--server',
    pebble.directoryUrl,
    '--email',
    email,
    ...domains.flatMap((d) => ['--domains', d]),
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    '--path',
    dir,
  ];
  const lego = (args: string[]) => runCli('lego', args, { env: env(), timeoutMs: 120_000 });
  const acmekit = (args: string[]) => runCli(bin, args, { env: env() });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}:\n${r.stdout}\n${r.stderr}`);

  /** Pebble logs "There are now N accounts in memory" for each new account. */
  const pebbleAccounts = () =>
    Math.max(
      0,
      ...[...pebble.logs().matchAll(/There are now (\d+) accounts in memory/g)].map((m) => Number(m[1])),
    );
  const serverFolder = () => new URL(pebble.directoryUrl).host.replace(':', '_');
  const certOf = async (dir: string, name: string) =>
    new X509Certificate(await readFile(join(dir, 'certificates', `${name}.crt`)));
  const publicKeyOf = async (dir: string, name: string) =>
    createPublicKey(await readFile(join(dir, 'certificates', `${name}.key`))).export({
      type: 'spki',
      format: 'der',
    });
  const accountUri = async (dir: string, email: string) =>
    JSON.parse(await readFile(join(dir, 'accounts', serverFolder(), email, 'account.json'), 'utf8'))
      .registration.uri as string;
  const tmp = () => mkdtemp(join(tmpdir(), 'acmekit-lego-interop-'));

  test("lego obtains; acmekit lists the certificate and renews it with lego's account (and key)", async () => {
    const dir = join(await tmp(), '.lego');
    const email = 'lego-first@example.com';
    const domains = ['lego-first.example.com', 'www.lego-first.example.com'];
    // RSA: lego then writes PKCS#1 keys (account and certificate) for acmekit to read.
    ok(
      await lego([...global(dir, email, domains), '--accept-tos', '--key-type', 'rsa2048', 'run']),
      'lego run',
    );
    const legoSerial = (await certOf(dir, domains[0]!)).serialNumber;
    const legoKey = await publicKeyOf(dir, domains[0]!);
    const uri = await accountUri(dir, email);
    const accounts = pebbleAccounts();
    assert.ok(accounts >= 1, 'Pebble logged the account lego registered');

    const list = await acmekit(['list', '--path', dir]);
    ok(list, 'acmekit list');
    assert.match(
      list.stdout,
      /^lego-first\.example\.com: lego-first\.example\.com, www\.lego-first\.example\.com; valid until /m,
    );
    const listed = JSON.parse((await acmekit(['list', '--json', '--path', dir])).stdout);
    assert.equal(listed.certificates.length, 1);
    assert.equal(listed.certificates[0].domain, 'lego-first.example.com');

    const renew = await acmekit([
      ...global(dir, email, domains),
      'renew',
      '--days',
      '365',
      '--no-random-sleep',
      '--reuse-key',
    ]);
    ok(renew, 'acmekit renew');
    assert.match(renew.stdout, /lego-first\.example\.com: renewed, valid until/);
    assert.notEqual((await certOf(dir, domains[0]!)).serialNumber, legoSerial, 'a new certificate');
    assert.deepEqual(await publicKeyOf(dir, domains[0]!), legoKey, "--reuse-key kept lego's RSA key");
    assert.equal(pebbleAccounts(), accounts, 'no new account was registered');
    assert.equal(await accountUri(dir, email), uri, 'the account file is unchanged');
    assert.deepEqual(await readdir(join(dir, 'accounts', serverFolder())), [email]);

    // lego reads back what acmekit wrote (the record now has acmekit's own section) and renews again.
    const legoList = await lego(['--path', dir, 'list']);
    ok(legoList, 'lego list');
    assert.match(legoList.stdout, /Domains: lego-first\.example\.com, www\.lego-first\.example\.com/);
    const acmekitSerial = (await certOf(dir, domains[0]!)).serialNumber;
    ok(
      await lego([...global(dir, email, domains), 'renew', '--days', '365', '--no-random-sleep']),
      'lego renew',
    );
    assert.notEqual((await certOf(dir, domains[0]!)).serialNumber, acmekitSerial);
    assert.equal(pebbleAccounts(), accounts);
  });

  test("acmekit obtains; lego lists the certificate and renews it with acmekit's account (and key)", async () => {
    const dir = join(await tmp(), '.lego');
    const email = 'acmekit-first@example.com';
    const domains = ['acmekit-first.example.com', 'www.acmekit-first.example.com'];
    const accountsBefore = pebbleAccounts();
    ok(await acmekit([...global(dir, email, domains), '--accept-tos', 'run']), 'acmekit run');
    const acmekitSerial = (await certOf(dir, domains[0]!)).serialNumber;
    const acmekitKey = await publicKeyOf(dir, domains[0]!);
    const uri = await accountUri(dir, email);
    const accounts = pebbleAccounts();
    assert.equal(accounts, accountsBefore + 1, 'acmekit registered one account');

    const list = await lego(['--path', dir, 'list']);
    ok(list, 'lego list');
    assert.match(list.stdout, /Certificate Name: acmekit-first\.example\.com/);
    assert.match(list.stdout, /Domains: acmekit-first\.example\.com, www\.acmekit-first\.example\.com/);
    assert.match(
      list.stdout,
      new RegExp(`Certificate Path: ${dir}/certificates/acmekit-first\\.example\\.com\\.crt`),
    );
    const names = await lego(['--path', dir, 'list', '--names']);
    assert.equal(names.stdout.trim(), 'acmekit-first.example.com');

    const renew = await lego([
      ...global(dir, email, domains),
      'renew',
      '--days',
      '365',
      '--no-random-sleep',
      '--reuse-key',
    ]);
    ok(renew, 'lego renew');
    assert.notEqual((await certOf(dir, domains[0]!)).serialNumber, acmekitSerial, 'a new certificate');
    assert.deepEqual(await publicKeyOf(dir, domains[0]!), acmekitKey, "--reuse-key kept acmekit's key");
    assert.equal(pebbleAccounts(), accounts, 'no new account was registered');
    assert.equal(await accountUri(dir, email), uri);
    assert.deepEqual(await readdir(join(dir, 'accounts', serverFolder())), [email]);

    // acmekit sees lego's renewal, and revoke archives the files under the names lego gives them.
    const listed = JSON.parse((await acmekit(['list', '--json', '--path', dir])).stdout);
    assert.equal(
      listed.certificates[0].notAfter,
      new Date((await certOf(dir, domains[0]!)).validTo).toISOString(),
    );
    ok(await acmekit([...global(dir, email, [domains[0]!]), 'revoke']), 'acmekit revoke');
    const archived = (await readdir(join(dir, 'archives'))).map((f) => f.replace(/^\d+\./, '<unix>.')).sort();
    assert.deepEqual(archived, [
      '<unix>.acmekit-first.example.com.crt',
      '<unix>.acmekit-first.example.com.issuer.crt',
      '<unix>.acmekit-first.example.com.json',
      '<unix>.acmekit-first.example.com.key',
    ]);
    assert.match((await lego(['--path', dir, 'list'])).stdout, /No certificates found/);
  });

  test('lego names the files after -d as typed (Mixed.Example.com.crt): acmekit renews those files', async () => {
    const dir = join(await tmp(), '.lego');
    const email = 'case@example.com';
    const domains = ['Case.Lego-Interop.Example'];
    ok(await lego([...global(dir, email, domains), '--accept-tos', 'run']), 'lego run');
    const before = (await readdir(join(dir, 'certificates'))).sort();
    assert.ok(before.includes('Case.Lego-Interop.Example.crt'), before.join(', '));
    const list = await acmekit(['list', '--path', dir]);
    ok(list, 'acmekit list');
    assert.match(list.stdout, /^Case\.Lego-Interop\.Example: case\.lego-interop\.example; valid until/m);
    const serial = (await certOf(dir, domains[0]!)).serialNumber;
    for (const typed of ['Case.Lego-Interop.Example', 'case.lego-interop.example']) {
      const renew = await acmekit([
        ...global(dir, email, [typed]),
        'renew',
        '--days',
        '365',
        '--no-random-sleep',
      ]);
      ok(renew, `acmekit renew -d ${typed}`);
      assert.match(renew.stdout, /renewed, valid until .*Case\.Lego-Interop\.Example\.crt/);
    }
    assert.notEqual((await certOf(dir, domains[0]!)).serialNumber, serial);
    assert.deepEqual((await readdir(join(dir, 'certificates'))).sort(), before, 'no second set of files');
  });
});
