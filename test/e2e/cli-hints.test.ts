import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// What the CLI says to do next when the URL given as --server is no ACME directory, and when the CA
// refuses the external account binding: through the installed binary against Pebble.

const kid = 'hint-kid';
let pebble: PebbleServer;
let bin: string;
let work: string;
before(async () => {
  [pebble, bin, work] = await Promise.all([
    startPebble({ eab: { [kid]: randomBytes(32).toString('base64url') } }),
    installedCli(),
    mkdtemp(join(tmpdir(), 'acmekit-hints-')),
  ]);
});
after(async () => {
  await pebble?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function register(server: string, ...more: string[]) {
  return runCli(bin, [
    ...['accounts', 'register', '--server', server, '--ca-bundle', pebble.caBundlePath],
    ...['-a', '-m', 'hints@example.com', '--path', join(work, '.lego'), ...more],
  ]);
}

test('a 404 at --server: the URL is not an ACME directory, check --server (not "report it to the CA")', async () => {
  const wrong = new URL('/directory', pebble.directoryUrl).href; // Pebble serves its directory at /dir
  const r = await register(wrong);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^error: ${wrong} is not an ACME directory: it answers HTTP 404`, 'm'));
  assert.match(
    r.stderr,
    new RegExp(
      `^ {2}next: check --server: ${wrong} is not an ACME directory; give the CA's directory URL`,
      'm',
    ),
  );
  assert.doesNotMatch(r.stderr, /report it to the CA/);

  const json = await register(wrong, '--json');
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.error.code, 'ERR_BAD_SERVER_RESPONSE');
  assert.match(doc.error.next, /^check --server: /);
});

test('a wrong EAB HMAC key: check --eab.kid and --eab.hmac, not the names and their CAA records', async () => {
  const r = await register(
    pebble.directoryUrl,
    '--eab.kid',
    kid,
    // = form: a base64url key may start with '-', which would read as an option.
    `--eab.hmac=${randomBytes(32).toString('base64url')}`,
  );
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /next: the CA refused the external account binding: check --eab\.kid and --eab\.hmac/,
  );
  assert.doesNotMatch(r.stderr, /CAA/);

  const unknown = await register(
    pebble.directoryUrl,
    '--eab.kid',
    'no-such-kid',
    // = form: a base64url key may start with '-', which would read as an option.
    `--eab.hmac=${randomBytes(32).toString('base64url')}`,
  );
  assert.equal(unknown.code, 3, unknown.stderr);
  assert.match(unknown.stderr, /next: the CA refused the external account binding: check --eab\.kid/);
});
