import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';
import { createTestCa, type TestCa } from '../support/test-ca.ts';

let pebble: PebbleServer;
let unrelated: TestCa;
let bin: string;
let work: string;
before(async () => {
  [pebble, unrelated, bin, work] = await Promise.all([
    startPebble(),
    createTestCa(),
    installedCli(),
    mkdtemp(join(tmpdir(), 'acmekit-tls-')),
  ]);
});
after(async () => {
  await pebble?.stop();
  if (unrelated) await rm(unrelated.dir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

test('NODE_TLS_REJECT_UNAUTHORIZED=0 does not switch verification off: a CA bundle of another root fails with the trust error', async () => {
  const lego = join(work, '.lego');
  const r = await runCli(
    bin,
    [
      ...['--server', pebble.directoryUrl, '--path', lego, '--accept-tos'],
      ...['--email', 'tls@example.com', '-d', 'tls.example.com'],
      ...['--http', '--http.port', `127.0.0.1:${pebble.httpPort}`, 'run'],
    ],
    { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', ACMEKIT_CA_BUNDLE: unrelated.rootPath } },
  );
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /TLS certificate is not trusted \([A-Z_]+\); for a private or test CA/);
  assert.match(r.stderr, /warning: NODE_TLS_REJECT_UNAUTHORIZED=0 is set: acmekit ignores it/);
  assert.equal(r.stderr.match(/NODE_TLS_REJECT_UNAUTHORIZED=0 is set/g)?.length, 1, 'warned once');
  assert.ok(!existsSync(join(lego, 'certificates', 'tls.example.com.crt')), 'no certificate');
});
