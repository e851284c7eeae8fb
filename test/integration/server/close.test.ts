import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AutoHttpsStatus } from '../../../src/server/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
});
after(() => pebble?.stop());

const CHILD = fileURLToPath(new URL('./fixtures/close-child.ts', import.meta.url));

/** Runs the child and resolves when it exits by itself (it is killed after 15 s, failing the test). */
function runChild(mode: 'ready' | 'inflight'): Promise<{
  code: number | null;
  ms: number;
  status: AutoHttpsStatus;
  resources: string[];
  stderr: string;
}> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DIRECTORY: pebble.directoryUrl,
      CA_BUNDLE_PATH: pebble.caBundlePath,
      HTTP_PORT: String(pebble.httpPort),
      MODE: mode,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      const out = JSON.parse(stdout.trim() || '{}');
      resolve({ code, ms: Date.now() - started, status: out.status, resources: out.resources, stderr });
    });
  });
}

test('after close() the process exits by itself: no timer, socket or handle is left (certificate obtained first)', async () => {
  const r = await runChild('ready');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.status.certificates[0]?.serial, 'the certificate was obtained before closing');
  assert.deepEqual(r.resources, [], 'nothing keeps the event loop alive after close()');
});

test('close() while the first order is in flight stops it, and the process still exits by itself', async () => {
  const r = await runChild('inflight');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.ms < 15_000);
  assert.deepEqual(r.resources, []);
});
