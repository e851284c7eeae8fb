import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AcmeClient } from '../../src/acme/client.ts';
import { loadOrRegisterAccount } from '../../src/lifecycle/accounts.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// `accounts info|show|update|deactivate|register --new` against a real Pebble, through the installed binary.

let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
});
after(() => pebble?.stop());

interface Folder {
  lego: string;
  email: string;
  /** --server, --ca-bundle, --path, --email */
  common: string[];
  accountDir: string;
}

async function folder(ca: PebbleServer, email: string): Promise<Folder> {
  const lego = join(await mkdtemp(join(tmpdir(), 'acmekit-e2e-accounts-')), '.lego');
  const server = new URL(ca.directoryUrl).host.replace(':', '_');
  return {
    lego,
    email,
    common: [...caArgs(ca), '--path', lego, '--email', email],
    accountDir: join(lego, 'accounts', server, email),
  };
}

async function registered(ca: PebbleServer, email: string): Promise<Folder> {
  const f = await folder(ca, email);
  const r = await runCli(bin, ['accounts', 'register', ...f.common, '--accept-tos']);
  assert.equal(r.code, 0, r.stderr);
  return f;
}

async function storedBody(f: Folder): Promise<{ status?: string; contact?: string[] }> {
  return JSON.parse(await readFile(join(f.accountDir, 'account.json'), 'utf8')).registration.body;
}

/** The account of the folder, loaded as a library user would (from the files, no request), with its client. */
async function libraryAccount(ca: PebbleServer, f: Folder) {
  const client = new AcmeClient(ca.directoryUrl, { caBundle: ca.caBundle });
  const account = await loadOrRegisterAccount({
    store: new FileStore(f.lego),
    client,
    email: f.email,
    acceptTos: false,
    create: false,
  });
  return { client, account };
}

function issue(ca: PebbleServer, f: Folder, name: string, more: string[] = []) {
  return runCli(bin, [
    ...f.common,
    ...more,
    '-d',
    name,
    '--http',
    '--http.port',
    `127.0.0.1:${ca.httpPort}`,
    'run',
  ]);
}

/** The command the one-line message names, as words (acmekit quotes only words that need it; these do not). */
function namedCommand(stderr: string): string[] {
  const m = /register a new one with: (acmekit accounts register --new[^\n]*)/.exec(stderr);
  assert.ok(m, `no register command in: ${stderr}`);
  assert.doesNotMatch(m[1]!, /'/, 'no quoted words in these paths');
  return m[1]!.split(' ').slice(1);
}

test('accounts info --json: what the CA answers now (status, contact, orders and the fields of its own); show is the same', async () => {
  const f = await registered(pebble, 'info@example.com');
  const r = await runCli(bin, ['accounts', 'info', ...f.common, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.match(doc.url, /^https:\/\/127\.0\.0\.1:\d+\//);
  assert.equal(doc.account.status, 'valid');
  assert.deepEqual(doc.account.contact, ['mailto:info@example.com']);
  assert.match(doc.account.orders, /^https:\/\//);
  // A field RFC 8555 does not define (Pebble sends the account's public key) comes through as sent.
  assert.equal(doc.account.key.kty, 'EC');
  const show = await runCli(bin, [...f.common, 'accounts', 'show']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^account ${doc.url}$`, 'm'));
  assert.match(show.stdout, /^ {2}status: valid$/m);
  assert.match(show.stdout, /^ {2}contact: mailto:info@example\.com$/m);
  assert.match(show.stdout, /^ {2}orders: https:\/\//m);
  assert.match(show.stdout, /^ {2}key: \{"kty":"EC"/m);
});

test('accounts info after the account was deactivated through the library: deactivated, as the CA says it, not the cache', async () => {
  const f = await registered(pebble, 'gone@example.com');
  const { client, account } = await libraryAccount(pebble, f);
  try {
    await account.deactivate();
    assert.equal(account.status, 'deactivated');
  } finally {
    client.close();
  }
  assert.equal((await storedBody(f)).status, 'valid', 'the files still say valid');
  const r = await runCli(bin, ['accounts', 'info', ...f.common, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.account.status, 'deactivated');
  assert.match(doc.refused, /unauthorized/);
  assert.equal((await storedBody(f)).status, 'deactivated', 'the stored account is marked now');
  const run = await issue(pebble, f, 'gone.example.com');
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /is deactivated .*register a new one with: acmekit accounts register --new /);
});

test('accounts update --contact: the CA changes the contacts (several, then none); account.json follows', async () => {
  const f = await registered(pebble, 'update@example.com');
  const two = await runCli(bin, [
    ...f.common,
    'accounts',
    'update',
    '--contact',
    'ops@example.com,mailto:oncall@example.com',
    '--json',
  ]);
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(JSON.parse(two.stdout).account.contact, [
    'mailto:ops@example.com',
    'mailto:oncall@example.com',
  ]);
  const { client, account } = await libraryAccount(pebble, f);
  try {
    await account.refresh();
    assert.deepEqual(account.contact, ['mailto:ops@example.com', 'mailto:oncall@example.com'], 'at the CA');
    assert.deepEqual((await storedBody(f)).contact, ['mailto:ops@example.com', 'mailto:oncall@example.com']);
    const none = await runCli(bin, [...f.common, 'accounts', 'update', '--contact', '']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /contact removed/);
    await account.refresh();
    assert.deepEqual(account.contact, [], 'no contact left at the CA');
    assert.equal((await storedBody(f)).contact, undefined);
  } finally {
    client.close();
  }
  // The folder keeps its name: --email still picks the account.
  const missing = await runCli(bin, [...f.common, 'accounts', 'update']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /needs --contact/);
  const bad = await runCli(bin, [...f.common, 'accounts', 'update', '--contact', 'https://example.com']);
  assert.equal(bad.code, 2);
});

test('accounts deactivate: without --yes and no terminal exit 2 and nothing sent; with --yes deactivated, files kept and marked; later commands say so', async () => {
  const f = await registered(pebble, 'bye@example.com');
  const refused = await runCli(bin, [...f.common, 'accounts', 'deactivate']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /add --yes/);
  const still = await runCli(bin, [...f.common, 'accounts', 'info', '--json']);
  assert.equal(JSON.parse(still.stdout).account.status, 'valid', 'the CA was not asked to deactivate');

  const done = await runCli(bin, [...f.common, 'accounts', 'deactivate', '--yes', '--json']);
  assert.equal(done.code, 0, done.stderr);
  const doc = JSON.parse(done.stdout);
  assert.equal(doc.account.status, 'deactivated');
  const files = (await readdir(f.accountDir, { recursive: true })).map(String).sort();
  assert.deepEqual(files, ['account.json', 'keys', `keys/${f.email}.key`]);
  const stored = JSON.parse(await readFile(join(f.accountDir, 'account.json'), 'utf8'));
  assert.equal(stored.registration.uri, doc.url);
  assert.equal(stored.registration.body.status, 'deactivated');

  const list = await runCli(bin, [...f.common, 'accounts', 'list']);
  assert.match(list.stdout, /bye@example\.com: \S+ \[deactivated\]/);
  for (const args of [
    ['accounts', 'update', '--contact', 'x@example.com'],
    ['accounts', 'keyrollover'],
    ['accounts', 'deactivate', '--yes'],
  ]) {
    const r = await runCli(bin, [...f.common, ...args]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^error: the account \S+ is deactivated \(so marked in its account\.json\); register a new one with: acmekit accounts register --new .*--email bye@example\.com\n$/,
    );
  }
  const run = await issue(pebble, f, 'bye.example.com');
  assert.equal(run.code, 3, run.stderr);
  const registerAgain = await runCli(bin, namedCommand(run.stderr).concat('--accept-tos'));
  assert.equal(registerAgain.code, 0, registerAgain.stderr);
  const retried = await issue(pebble, f, 'bye.example.com');
  assert.equal(retried.code, 0, retried.stderr);
});

test('after a CA reset, run, renew, revoke and accounts say in one line that the CA no longer knows the account; the command they name registers anew, and run works again', async (t) => {
  const first = await startPebble();
  let second: PebbleServer | undefined;
  t.after(async () => {
    await first.stop();
    await second?.stop();
  });
  const f = await registered(first, 'reset@example.com');
  const obtained = await issue(first, f, 'kept.reset.example.com', ['--accept-tos']);
  assert.equal(obtained.code, 0, obtained.stderr);
  const keyFile = join(f.accountDir, 'keys', `${f.email}.key`);
  const oldKey = await readFile(keyFile, 'utf8');

  await first.stop();
  second = await startPebble({ port: Number(new URL(first.directoryUrl).port) });
  assert.equal(second.directoryUrl, first.directoryUrl, 'the same CA, reset');
  const g: Folder = { ...f, common: [...caArgs(second), '--path', f.lego, '--email', f.email] };

  const run = await issue(second, g, 'new.reset.example.com', ['--accept-tos']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(
    run.stderr,
    /^error: the CA no longer knows the account https:\/\/\S+ \(accountDoesNotExist: the CA was reset or removed it\); register a new one with: acmekit accounts register --new --server \S+ --ca-bundle \S+ --path \S+ --email reset@example\.com --accept-tos\n$/,
  );
  for (const args of [
    [
      'renew',
      '-d',
      'kept.reset.example.com',
      '--force',
      '--no-random-sleep',
      '--http',
      '--http.port',
      `127.0.0.1:${second.httpPort}`,
    ],
    ['revoke', '-d', 'kept.reset.example.com', '--keep'],
    ['accounts', 'info'],
    ['accounts', 'register'],
  ]) {
    const r = await runCli(bin, [...g.common, ...args]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line from ${args.join(' ')}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^error: the CA no longer knows the account .*; register a new one with: acmekit accounts register --new /,
    );
  }

  const again = await runCli(bin, namedCommand(run.stderr));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /registered with a new key; the previous files are kept as /);
  const files = (await readdir(join(f.accountDir, 'keys'))).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.equal(files[0], `${f.email}.key`);
  assert.match(files[1]!, new RegExp(`^${f.email.replace('.', '\\.')}\\.key\\.replaced-\\d{10}$`));
  assert.equal(await readFile(join(f.accountDir, 'keys', files[1]!), 'utf8'), oldKey, 'the old key is kept');
  assert.notEqual(await readFile(keyFile, 'utf8'), oldKey);

  const retried = await issue(second, g, 'new.reset.example.com');
  assert.equal(retried.code, 0, retried.stderr);
  assert.match(retried.stdout, /new\.reset\.example\.com: obtained/);
});
