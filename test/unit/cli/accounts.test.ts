import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AcmeClient } from '../../../src/acme/client.ts';
import { registerAgainCommand, unusableMessage } from '../../../src/cli/account.ts';
import { accountLines } from '../../../src/cli/account-lines.ts';
import { isYes } from '../../../src/cli/confirm.ts';
import { main } from '../../../src/cli/main.ts';
import { Options } from '../../../src/cli/options.ts';
import { applyDefaults, applyEnvironment, parseArgs } from '../../../src/cli/parse-args.ts';
import { markAccountStatus } from '../../../src/lifecycle/accounts.ts';
import { decodeLegoAccount, encodeLegoAccount } from '../../../src/storage/lego/account-json.ts';
import { accountKeys } from '../../../src/storage/lego/layout.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';

function options(argv: string[], env: NodeJS.ProcessEnv = {}): Options {
  const parsed = parseArgs(argv);
  applyEnvironment(parsed, env);
  applyDefaults(parsed);
  return new Options(parsed);
}

test('accounts info prints the RFC fields first, then every other field the CA sent, one line each', () => {
  const lines = accountLines('https://ca.example/acct/1', {
    key: { kty: 'EC' },
    createdAt: '2024-05-01T10:00:00Z',
    status: 'valid',
    termsOfServiceAgreed: true,
    orders: 'https://ca.example/acct/1/orders',
    contact: ['mailto:a@example.com', 'mailto:b@example.com'],
    initialIp: '192.0.2.7',
    note: 'two\nlines\u001b[31m',
  });
  assert.deepEqual(lines, [
    'account https://ca.example/acct/1',
    '  status: valid',
    '  contact: mailto:a@example.com, mailto:b@example.com',
    '  orders: https://ca.example/acct/1/orders',
    '  terms of service agreed: yes',
    '  key: {"kty":"EC"}',
    '  createdAt: 2024-05-01T10:00:00Z',
    '  initialIp: 192.0.2.7',
    '  note: two lines',
  ]);
  assert.deepEqual(accountLines('https://ca.example/acct/2', { status: 'valid' }), [
    'account https://ca.example/acct/2',
    '  status: valid',
    '  contact: none',
  ]);
});

test('only y or yes confirms', () => {
  for (const yes of ['y', 'Y', 'yes', ' YES ', 'Yes\n']) assert.equal(isYes(yes), true, yes);
  for (const no of ['', 'n', 'no', 'yess', 'y y', 'sure']) assert.equal(isYes(no), false, no);
});

test('the register-again command repeats what picks the account, its CA and storage, and never a secret', () => {
  const o = options([
    'run',
    '--server',
    'https://ca.internal:14000/dir',
    '--ca-bundle',
    '/etc/acmekit/root ca.pem',
    '--path',
    '/var/lib/acmekit',
    '-m',
    'me@example.com',
    '--eab.kid',
    'kid-1',
    '--eab.hmac',
    'c2VjcmV0LWhtYWMta2V5',
    '-a',
    '-d',
    'example.com',
  ]);
  assert.equal(
    registerAgainCommand(o),
    "acmekit accounts register --new --server https://ca.internal:14000/dir --ca-bundle '/etc/acmekit/root ca.pem' --path /var/lib/acmekit --email me@example.com --eab.kid kid-1 --accept-tos",
  );
  // From the environment (or the config file) they apply again by themselves; defaults are not repeated.
  const fromEnv = options(['run'], {
    LEGO_EMAIL: 'me@example.com',
    ACMEKIT_STORAGE: 'postgres://u:pw@db/acmekit',
  });
  assert.equal(registerAgainCommand(fromEnv), 'acmekit accounts register --new');
  const storage = options(['renew', '--storage', 'postgres://u:pw@db/acmekit']);
  storage.set('email', 'me@example.com');
  assert.equal(
    registerAgainCommand(storage),
    "acmekit accounts register --new --storage 'postgres://u:***@db/acmekit' --email me@example.com",
  );
});

test('the unusable-account message is one line that names the command', () => {
  const command = 'acmekit accounts register --new --email me@example.com';
  for (const message of [
    unusableMessage('unknown', 'https://ca.example/acct/1', 'ca', command),
    unusableMessage('deactivated', 'https://ca.example/acct/1', 'stored', command),
    unusableMessage('revoked', undefined, 'ca', command),
  ]) {
    assert.doesNotMatch(message, /\n/);
    assert.ok(message.endsWith(`register a new one with: ${command}`), message);
  }
  assert.match(unusableMessage('unknown', 'https://ca.example/acct/1', 'ca', command), /no longer knows/);
});

test('account subcommands and their flags parse in both positions; show is info', () => {
  const a = parseArgs(['accounts', 'show', '-m', 'me@example.com']);
  assert.deepEqual(a.command, ['accounts', 'show']);
  const b = parseArgs([
    '--contact',
    'a@example.com,b@example.com',
    '--contact',
    'c@example.com',
    'accounts',
    'update',
  ]);
  assert.deepEqual(b.options.contact, ['a@example.com', 'b@example.com', 'c@example.com']);
  assert.deepEqual(parseArgs(['accounts', 'update', '--contact', '']).options.contact, ['']);
  assert.equal(parseArgs(['accounts', 'register', '--new']).options.newAccount, true);
  assert.equal(parseArgs(['accounts', 'deactivate', '--yes']).options.yes, true);
});

test('refused before anything is opened or sent: deactivate without --yes and no terminal, update without --contact, --new elsewhere', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-accounts-'));
  const lego = join(dir, '.lego');
  const quiet = ['--path', lego, '--server', 'https://127.0.0.1:9/dir', '--quiet'];
  assert.equal(await main(['accounts', 'deactivate', ...quiet], {}), 2);
  assert.equal(await main(['accounts', 'update', ...quiet], {}), 2);
  assert.equal(await main(['accounts', 'update', '--contact', 'ftp://x', ...quiet], {}), 2);
  assert.equal(await main(['accounts', 'info', '--new', ...quiet], {}), 2);
  assert.equal(await main(['accounts', ...quiet], {}), 2);
  assert.deepEqual(await readdir(dir), [], 'nothing written');
});

test('markAccountStatus marks a stored account and leaves a folder without one alone', async (t) => {
  const client = new AcmeClient('https://127.0.0.1:1/dir');
  t.after(() => client.close());
  const store = new MemoryStore();
  const email = 'm@example.com';
  await markAccountStatus({ store, client, email }, 'deactivated');
  assert.deepEqual(await store.list(''), []);
  const key = accountKeys(client.directoryUrl, email).accountJson;
  await store.put(
    key,
    encodeLegoAccount({
      email,
      accountUrl: 'https://127.0.0.1:1/acct/1',
      accountObject: { status: 'valid', contact: [`mailto:${email}`] },
      extra: { id: email },
    }),
  );
  await markAccountStatus({ store, client, email }, 'deactivated');
  const marked = decodeLegoAccount((await store.get(key))!, key);
  assert.equal(marked.status, 'deactivated');
  assert.deepEqual(marked.contact, [`mailto:${email}`]);
  assert.deepEqual(marked.extra, { id: email });
});
