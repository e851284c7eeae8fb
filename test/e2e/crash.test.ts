import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
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

const RUNS = Number(process.env.ACMEKIT_CRASH_RUNS ?? 20);

function runAndKill(args: string[], afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Every file on disk is whole: certificates parse, keys parse, JSON parses. */
async function checkWhole(lego: string): Promise<void> {
  const certs = join(lego, 'certificates');
  for (const name of await readdir(certs).catch(() => [] as string[])) {
    const text = await readFile(join(certs, name), 'utf8');
    if (name.endsWith('.crt')) new X509Certificate(text);
    else if (name.endsWith('.key') || name.endsWith('.key.pending')) createPrivateKey(text);
    else if (name.endsWith('.json')) JSON.parse(text);
  }
  const accounts = join(lego, 'accounts');
  for (const server of await readdir(accounts).catch(() => [] as string[])) {
    for (const email of await readdir(join(accounts, server))) {
      const json = await readFile(join(accounts, server, email, 'account.json'), 'utf8').catch(
        () => undefined,
      );
      if (json !== undefined) JSON.parse(json);
    }
  }
}

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
    await runAndKill([...args, ...command], Math.floor(Math.random() * 900));
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
