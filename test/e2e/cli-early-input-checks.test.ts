import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installedCli, runCli } from '../support/cli.ts';

// Inputs that can be checked are checked before the first request: the "CA" here is a TCP listener that
// counts connections and must see none. A bad --email used to be refused only after the directory and a
// nonce were fetched; `-d -lead.example.test` was reported as a missing value, not as an invalid name.

let bin: string;
let work: string;
let ca: Server;
let server: string;
const connections: Socket[] = [];
before(async () => {
  [bin, work] = await Promise.all([installedCli(), mkdtemp(join(tmpdir(), 'acmekit-early-'))]);
  ca = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => ca.listen(0, '127.0.0.1', resolve));
  const { port } = ca.address() as { port: number };
  server = `https://127.0.0.1:${port}/dir`;
});
after(async () => {
  ca?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function refused(args: string[], message: RegExp): Promise<void> {
  const before = connections.length;
  const r = await runCli(bin, ['--server', server, '--path', join(work, '.lego'), '--accept-tos', ...args]);
  assert.equal(r.code, 2, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message, args.join(' '));
  assert.equal(connections.length, before, `${args.join(' ')}: the CA was contacted`);
}

const web = ['--http', '--http.port', '127.0.0.1:1'];

test('an --email that cannot name the account folder or is no address, or a bad EAB key, exits 2 before any request', async () => {
  await refused(
    ['--email', '../../x@example.com', '-d', 'a.example.test', ...web, 'run'],
    /error: the email "\.\.\/\.\.\/x@example\.com" cannot name a folder/,
  );
  await refused(
    ['--email', 'x/y@example.com', '-d', 'a.example.test', ...web, 'run'],
    /cannot name a folder/,
  );
  await refused(
    ['--email', 'not-an-address', '-d', 'a.example.test', ...web, 'run'],
    /contact "not-an-address" is not an email address like user@example\.com/,
  );
  await refused(
    ['--email', 'a@example.com?cc=b@example.com', '-d', 'a.example.test', ...web, 'run'],
    /characters not allowed in an email address/,
  );
  await refused(
    ['--email', '../../x@example.com', '-d', 'a.example.test', ...web, 'renew', '--force'],
    /cannot name a folder/,
  );
  await refused(['--email', '../../x@example.com', 'accounts', 'register'], /cannot name a folder/);
  await refused(['--email', 'not-an-address', '-d', 'a.example.test', 'revoke'], /is not an email address/);
  const run = ['--email', 'a@example.com', '-d', 'a.example.test', ...web, 'run'];
  await refused(
    [...run, '--eab', '--eab.kid', 'kid'],
    /external account binding needs both --eab\.kid and --eab\.hmac/,
  );
  await refused([...run, '--eab.kid', 'kid', '--eab.hmac', 'not base64!'], /EAB HMAC key is not base64url/);
});

test('-d -lead.example.test is an invalid name, not a missing value, refused before any request', async () => {
  await refused(
    ['--email', 'a@example.com', '-d', '-lead.example.test', ...web, 'run'],
    /error: invalid name "-lead\.example\.test": label "-lead" starts or ends with "-"/,
  );
  await refused(
    ['run', '--email', 'a@example.com', ...web, '--domains', '--x.example.test'],
    /invalid name "--x\.example\.test"/,
  );
  await refused(
    ['--email', 'a@example.com', 'revoke', '-d', '-lead.example.test'],
    /invalid name "-lead\.example\.test"/,
  );
  // A known option after -d is still a forgotten name.
  await refused(['--email', 'a@example.com', '-d', '--http', 'run'], /error: -d needs a value \(NAME\)/);
});
