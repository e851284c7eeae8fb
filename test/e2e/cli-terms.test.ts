import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
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

test('A14: run without --accept-tos exits non-zero, shows the terms URL and how to agree, and registers nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-'));
  const lego = join(dir, '.lego');
  const r = await runCli(bin, [
    ...caArgs(pebble),
    '--email',
    'tos@example.com',
    '--path',
    lego,
    '-d',
    'tos.example.com',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    'run',
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /terms of service/i);
  // Pebble's terms URL, as its directory gives it.
  assert.ok(r.stderr.includes('data:text/plain,Do%20what%20thou%20wilt'), r.stderr);
  assert.match(r.stderr, /--accept-tos/, 'says how to agree');
  const accounts = await readdir(join(lego, 'accounts')).catch(() => []);
  const files = [];
  for (const a of accounts) files.push(...(await readdir(join(lego, 'accounts', a), { recursive: true })));
  assert.ok(
    !files.some((f) => String(f).endsWith('account.json')),
    `no account registered: ${files.join(', ')}`,
  );
});
