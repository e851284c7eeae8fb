import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// A canary EAB HMAC key: it must never appear in any output or in any file but where the user put it.
const canary = randomBytes(32).toString('base64url');
const kid = 'canary-kid';
let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble({ eab: { [kid]: canary } }), installedCli()]);
});
after(() => pebble?.stop());

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

test('F1: the EAB HMAC key and private keys never appear in output, --json, errors or stored files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-f1-'));
  const lego = join(dir, '.lego');
  const base = [...caArgs(pebble), '-a', '--email', 's@example.com', '--path', lego];
  const outputs: string[] = [];
  const ok = await runCli(
    bin,
    [
      ...base,
      '--eab',
      '--eab.kid',
      kid,
      '-d',
      'f1.example.com',
      '--http',
      '--http.port',
      `127.0.0.1:${pebble.httpPort}`,
      'run',
      '--json',
    ],
    {
      env: { ACMEKIT_EAB_HMAC: canary },
    },
  );
  assert.equal(ok.code, 0, ok.stderr);
  outputs.push(ok.stdout, ok.stderr);
  // The same key on the command line, and a wrong key, for the error paths.
  const wrongKey = `${canary.slice(0, -4)}AAAA`;
  const bad = await runCli(bin, [
    ...caArgs(pebble),
    '-a',
    '--email',
    'w@example.com',
    '--path',
    lego,
    '--eab.kid',
    kid,
    '--eab.hmac',
    wrongKey,
    '-d',
    'f1b.example.com',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    'run',
    '--json',
  ]);
  assert.notEqual(bad.code, 0);
  outputs.push(bad.stdout, bad.stderr);
  const short = await runCli(bin, [
    ...base,
    '--eab.kid',
    kid,
    '--eab.hmac',
    'c2hvcnQ',
    '-d',
    'f1c.example.com',
    '--http',
    'run',
  ]);
  assert.equal(short.code, 2);
  outputs.push(short.stdout, short.stderr);
  const accountDirs = await readdir(
    join(lego, 'accounts', new URL(pebble.directoryUrl).host.replace(':', '_')),
  );
  assert.ok(!accountDirs.includes('x@example.com'), 'a refused EAB key leaves no account files behind');
  for (const text of outputs) {
    assert.ok(!text.includes(canary), 'canary in output');
    assert.ok(!text.includes(wrongKey), 'wrong key in output');
    assert.ok(!text.includes('PRIVATE KEY'), 'private key in output');
  }
  for (const file of await allFiles(lego)) {
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(canary) && !text.includes(wrongKey), `canary stored in ${file}`);
    if (!file.endsWith('.key') && !file.endsWith('.pending'))
      assert.ok(!text.includes('PRIVATE KEY'), `private key in ${file}`);
  }
});
