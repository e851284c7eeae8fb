import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { autoHttps } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { track } from '../../support/child-process.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import type { LoadSummary } from './fixtures/handshake-load.ts';
import { closeServer, listen, onPebble, peek } from './support.ts';

// Hot swap under load: 20 forced renewals while two other processes keep opening new TLS connections
// (a Node client that records each served serial, and wrk with `Connection: close`). Not a speed test:
// it asserts that no handshake or request fails and that new connections see each new certificate.
const RENEWALS = 20;
const NAME = 'hot.example.com';
const LOADER = fileURLToPath(new URL('./fixtures/handshake-load.ts', import.meta.url));

let pebble: PebbleServer;
let roots: string[];
let dir: string;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  // Half the renewals reuse the authorization, half go through http-01 again, which keeps the run short.
  pebble = await startPebble({ authzReuse: 50 });
  roots = await pebble.roots();
  dir = await mkdtemp(join(tmpdir(), 'acmekit-hotswap-'));
  await writeFile(join(dir, 'roots.pem'), roots.join(''));
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await pebble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts the Node load child and resolves once it runs. */
function startLoader(port: number): Promise<ChildProcess> {
  const child = fork(LOADER, {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      PORT: String(port),
      SERVERNAME: NAME,
      CA_PATH: join(dir, 'roots.pem'),
      CONCURRENCY: '4',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const tracked = track(child);
  cleanups.push(tracked.stop);
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`load child exited (${code}): ${tracked.logs()}`)));
  });
}

function stopLoader(child: ChildProcess): Promise<LoadSummary> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as LoadSummary));
    child.send('stop');
  });
}

test(`E1, A18: ${RENEWALS} forced renewals under continuous new-connection load: no failure, each new serial served at once`, async () => {
  const tls = await autoHttps({ ...onPebble(pebble, NAME), store: new MemoryStore() });
  cleanups.push(() => tls.close());
  const http = createHttpServer(tls.httpHandler());
  await listen(http, pebble.httpPort);
  const https = tls.attach(createHttpsServer(tls.serverOptions, (_req, res) => res.end('ok')));
  const port = await listen(https);
  cleanups.push(
    () => closeServer(http),
    () => closeServer(https),
  );
  await tls.ready({ signal: AbortSignal.timeout(20_000) });

  const loader = await startLoader(port);
  // wrk sends no SNI name we manage (it connects to 127.0.0.1), so it gets the attached default certificate.
  const wrk = spawn(
    'wrk',
    [
      '-c',
      '8',
      '-t',
      '2',
      '-d',
      '120s',
      '--latency',
      '-H',
      'Connection: close',
      `https://127.0.0.1:${port}/`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const wrkTracked = track(wrk);
  cleanups.push(wrkTracked.stop);

  // Which serial was replaced when: the first handshake started a second after that must not get it.
  const replacedAt = new Map<string, number>();
  let current = tls.status().certificates[0]!.serial!;
  for (let i = 0; i < RENEWALS; i++) {
    let fresh = '';
    const onRenewed = (e: { serial: string }): void => {
      fresh = e.serial;
      replacedAt.set(current, Date.now());
    };
    tls.once('renewed', onRenewed);
    await tls.renew(NAME, { force: true });
    assert.ok(fresh && fresh !== current, `renewal ${i + 1} gave a new serial`);
    const deadline = Date.now() + 1000;
    for (const servername of [NAME, undefined]) {
      for (;;) {
        const h = await peek(port, { ...(servername ? { servername } : {}), ca: roots });
        if (h.serial === fresh) {
          // Without SNI the host name check fails (127.0.0.1); only the chain is judged there.
          if (servername) assert.equal(h.authorized, true, h.authorizationError);
          break;
        }
        assert.ok(
          Date.now() < deadline,
          `renewal ${i + 1}: ${servername ?? 'no SNI'} still gets ${h.serial}`,
        );
      }
    }
    current = fresh;
  }

  const summary = await stopLoader(loader);
  wrk.kill('SIGINT'); // wrk prints its figures on SIGINT
  await new Promise((r) => wrk.once('close', r));
  const wrkOut = wrkTracked.logs();

  assert.deepEqual(summary.failures, [], 'every handshake and request of the Node client succeeded');
  assert.ok(summary.handshakes >= RENEWALS, `handshakes: ${summary.handshakes}`);
  assert.equal(summary.requests, summary.handshakes);
  assert.ok(summary.bySerial[current], 'the load client saw the last certificate');
  for (const [serial, seen] of Object.entries(summary.bySerial)) {
    const replaced = replacedAt.get(serial);
    if (replaced === undefined) continue;
    assert.ok(
      seen.lastStart < replaced + 1000,
      `${serial} served to a connection started ${seen.lastStart - replaced} ms after it was replaced`,
    );
  }
  const requests = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? 0);
  assert.ok(requests > 0, wrkOut);
  assert.doesNotMatch(wrkOut, /Socket errors|Non-2xx/, wrkOut);
  console.log(
    `# node client: ${summary.handshakes} handshakes, ${Object.keys(summary.bySerial).length} serials; wrk: ${requests} requests (one connection each)`,
  );
});
