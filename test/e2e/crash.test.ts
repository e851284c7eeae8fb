import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { checkWhole, runAndKill } from '../support/crash.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
});
after(() => pebble?.stop());

const RUNS = Number(process.env.ACMEKIT_CRASH_RUNS ?? 20);

test(`C1: SIGKILL at ${RUNS} random moments of run/renew never leaves a broken file, and the next run completes`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-crash-'));
  const lego = join(dir, '.lego');
  const args = [
    ...caArgs(pebble),
    '-a',
    '--email',
    'k@example.com',
    '--path',
    lego,
    '-d',
    'crash.example.com',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
  ];
  for (let i = 0; i < RUNS; i++) {
    const command = i % 2 === 0 ? ['run'] : ['renew', '--force', '--no-random-sleep'];
    await runAndKill(bin, [...args, ...command], Math.floor(Math.random() * 900));
    await checkWhole(lego);
  }
  const final = await runCli(bin, [...args, 'renew', '--force', '--no-random-sleep']);
  assert.equal(final.code, 0, final.stderr);
  await checkWhole(lego);
  const crt = new X509Certificate(await readFile(join(lego, 'certificates/crash.example.com.crt')));
  const key = createPrivateKey(await readFile(join(lego, 'certificates/crash.example.com.key')));
  assert.ok(crt.checkPrivateKey(key), 'the certificate on disk is paired with its key');
  const servers = await readdir(join(lego, 'accounts'));
  assert.equal(servers.length, 1);
  assert.deepEqual(
    await readdir(join(lego, 'accounts', servers[0]!)),
    ['k@example.com'],
    'one account, never a second',
  );
  assert.deepEqual(
    (await readdir(join(lego, 'certificates'))).filter((f) => f.endsWith('.pending')),
    [],
  );
});
