import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
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

for (const layout of ['v4', 'v5'] as const) {
  test(`accounts keyrollover replaces the key where lego ${layout} keeps it; the account then works with the new key`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-'));
    const lego = join(dir, '.lego');
    const email = `roll-${layout}@example.com`;
    const common = [...caArgs(pebble), '--email', email, '--path', lego, '-a'];
    const register = await runCli(bin, [...common, 'accounts', 'register']);
    assert.equal(register.code, 0, register.stderr);
    const accountDir = join(lego, 'accounts', new URL(pebble.directoryUrl).host.replace(':', '_'), email);
    let keyFile = join(accountDir, 'keys', `${email}.key`);
    if (layout === 'v5') {
      const v5 = join(accountDir, `${email}.key`);
      await rename(keyFile, v5);
      await rm(join(accountDir, 'keys'), { recursive: true });
      keyFile = v5;
    }
    const oldKey = await readFile(keyFile, 'utf8');
    const roll = await runCli(bin, [...common, 'accounts', 'keyrollover']);
    assert.equal(roll.code, 0, roll.stderr);
    const newKey = await readFile(keyFile, 'utf8');
    assert.notEqual(newKey, oldKey);
    assert.match(newKey, /PRIVATE KEY/);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const entries = await readdir(accountDir, { recursive: true });
    assert.equal(entries.filter((e) => String(e).endsWith('.key')).length, 1, entries.join(', '));
    assert.ok(!entries.some((e) => String(e).endsWith('.next')), 'no staged key left');
    const issue = await runCli(bin, [
      ...common,
      '-d',
      `${layout}.roll.example.com`,
      '--http',
      '--http.port',
      `127.0.0.1:${pebble.httpPort}`,
      'run',
    ]);
    assert.equal(issue.code, 0, issue.stderr);
  });
}
