import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { checkWhole, runAndKill } from '../support/crash.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// crash.test.ts kills at random moments of 0.9 s; a whole `run` now takes a fraction of that. This one
// kills inside the issuance itself, where writes overlap requests: the certificate lock taken while the
// TLS set-up runs, the pending key written while the order is created, the certificate, issuer, key
// and record written under one guard.
let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
});
after(() => pebble?.stop());

const RUNS = Number(process.env.ACMEKIT_CRASH_RUNS ?? 30);

test(`C1 (overlapped writes): SIGKILL at ${RUNS} moments of the issuance leaves whole files, and the next run pairs certificate and key`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-crash-overlap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lego = join(dir, '.lego');
  const base = [...caArgs(pebble), '-a', '--email', 'o@example.com', '--path', lego];
  const http = ['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`];
  const first = await runCli(bin, [...base, '-d', 'warm.example.com', ...http, 'run']);
  assert.equal(first.code, 0, first.stderr); // the account exists: every later run goes straight to the order
  const certs = join(lego, 'certificates');
  for (let i = 0; i < RUNS; i++) {
    // From just after start-up to past the end of a quick run, evenly spread.
    const at = 40 + Math.floor(((i + Math.random()) / RUNS) * 400);
    await runAndKill(
      bin,
      [...base, '-d', 'overlap.example.com', ...http, 'renew', '--force', '--no-random-sleep'],
      at,
    );
    await checkWhole(lego);
  }
  const final = await runCli(bin, [
    ...base,
    '-d',
    'overlap.example.com',
    ...http,
    'renew',
    '--force',
    '--no-random-sleep',
  ]);
  assert.equal(final.code, 0, final.stderr);
  await checkWhole(lego);
  const crt = new X509Certificate(await readFile(join(certs, 'overlap.example.com.crt')));
  const key = createPrivateKey(await readFile(join(certs, 'overlap.example.com.key')));
  assert.ok(crt.checkPrivateKey(key), 'the certificate on disk is paired with its key');
  const record = JSON.parse(await readFile(join(certs, 'overlap.example.com.json'), 'utf8'));
  assert.equal(record.acmekit?.pending, undefined, 'the record has no pending order left');
  assert.deepEqual(
    (await readdir(certs)).filter((f) => f.endsWith('.pending')),
    [],
  );
});
