import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { certificateFiles } from '../../src/lifecycle/certificate-files.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import {
  assertNoNonceTwice,
  assertNoTempFiles,
  changedFiles,
  hasFaketime,
  removeDir,
  runAcmekit,
  snapshot,
  tempDir,
} from '../reliability/support.ts';
import { installedCli } from '../support/cli.ts';
import { decodeJwsPayload, type FaultProxy, problemReply, startFaultProxy } from '../support/fault-proxy.ts';
import { freePort } from '../support/free-port.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// RELIABILITY G5 (the random sleep of cron renewals) and G6 (every documented exit code, each with a
// message that says what to do next), through the installed CLI against Pebble behind the fault proxy.

let pebble: PebbleServer;
let bin: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
});
after(() => pebble?.stop());

interface Setup {
  proxy: FaultProxy;
  lego: string;
  /** Server (the proxy), trust, account, path and the http-01 listener; names are added per run. */
  base: string[];
}

async function setup(t: TestContext, label: string): Promise<Setup> {
  const proxy = await startFaultProxy({ target: pebble });
  const dir = await tempDir(label);
  t.after(async () => {
    await proxy.stop();
    await removeDir(dir);
  });
  const lego = join(dir, '.lego');
  const base = [
    ...['--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '-a', '-m', 'x@example.com'],
    ...['--path', lego, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  return { proxy, lego, base };
}

/** The codes in docs/cli.md's "Exit codes" table. */
async function documentedExitCodes(): Promise<number[]> {
  const doc = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  const section = doc.split('## Exit codes')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
}

/** newOrder for this name gets 400 rejectedIdentifier from the proxy (Pebble never sees it). */
function refuseName(proxy: FaultProxy, name: string): void {
  proxy.rule({
    resource: 'newOrder',
    when: (req) => JSON.stringify(decodeJwsPayload(req.body) ?? '').includes(name),
    action: problemReply(400, 'rejectedIdentifier', `Policy forbids issuing for ${name}`),
  });
}

test('G6: every exit code in docs/cli.md is provoked once, and each failure says what to do next', async (t) => {
  const { proxy, lego, base } = await setup(t, 'g6');
  const provoked = new Map<number, string>();
  const expect = (code: number, r: { code: number | null; all: string }, what: string) => {
    assert.equal(r.code, code, `${what}: ${r.all}`);
    provoked.set(code, what);
  };

  const ok = await runAcmekit(bin, [...base, '-d', 'ok.g6.example', '-d', 'www.ok.g6.example', 'run']);
  expect(0, ok, 'a certificate obtained');
  assert.match(ok.stdout, /ok\.g6\.example: obtained, valid until .* → .*ok\.g6\.example\.crt/);

  const closed = await freePort();
  const offline = await runAcmekit(bin, [
    ...['--server', `https://127.0.0.1:${closed}/dir`, '--ca-bundle', pebble.caBundlePath, '-a'],
    ...['--path', join(lego, '..', 'offline'), '-d', 'offline.g6.example', '--http', 'run', '--json'],
  ]);
  expect(1, offline, 'the CA unreachable');
  const offlineDoc = JSON.parse(offline.stdout);
  assert.equal(offlineDoc.ok, false);
  assert.match(offlineDoc.error.message, new RegExp(`127\\.0\\.0\\.1:${closed}/dir failed: ECONNREFUSED`));
  assert.match(offlineDoc.error.next, /check the network, the --server URL, --ca-bundle and any HTTPS_PROXY/);
  assert.match(offline.stderr, /next: check the network/);

  const usage = await runAcmekit(bin, [...base, '-d', 'u.g6.example', '--htttp', 'run']);
  expect(2, usage, 'a misspelt option');
  assert.match(usage.stderr, /unknown option --htttp; did you mean --http\?/);
  const level = await runAcmekit(bin, [...base, '-d', 'u.g6.example', '--log-level', 'loud', 'run']);
  assert.equal(level.code, 2, level.all);
  assert.match(level.stderr, /--log-level loud: expected error, warn, info or debug/);

  refuseName(proxy, 'refused.g6.example');
  const refused = await runAcmekit(bin, [...base, '-d', 'refused.g6.example', 'run']);
  expect(3, refused, 'the CA refused the name');
  assert.match(refused.stderr, /refused\.g6\.example: failed: rejectedIdentifier: Policy forbids issuing/);
  assert.match(
    refused.stderr,
    /next: the CA will not issue for these names to this account: check the names/,
  );

  // Two stored certificates due at once (--force), one of them refused by the CA.
  proxy.clearRules();
  const second = await runAcmekit(bin, [...base, '-d', 'two.g6.example', 'run']);
  assert.equal(second.code, 0, second.all);
  refuseName(proxy, 'two.g6.example');
  const some = await runAcmekit(bin, [...base, 'renew', '--force', '--no-random-sleep']);
  expect(4, some, 'one of two certificates failed');
  assert.match(some.stdout, /ok\.g6\.example: renewed/);
  assert.match(some.stderr, /two\.g6\.example: failed: rejectedIdentifier[\s\S]*next: the CA will not issue/);
  proxy.clearRules();

  const hook = await runAcmekit(bin, [
    ...[...base, '-d', 'ok.g6.example', 'renew', '--force', '--no-random-sleep'],
    ...['--deploy-hook', 'echo "reload failed: nginx.conf line 3" >&2; exit 7'],
  ]);
  expect(5, hook, 'the deploy hook failed');
  assert.match(hook.stderr, /ok\.g6\.example: the certificate was saved, but deploy hook exited with code 7/);
  assert.match(hook.stderr, /--- last output ---\nreload failed: nginx\.conf line 3/);
  assert.match(hook.stderr, /To test it, run it as acmekit does: env ACMEKIT_CERT_DOMAIN=.* \/bin\/sh -c/);

  if (hasFaketime()) {
    // The test holds the certificate's lock; the CLI gives up after its 15 minutes, which faketime
    // runs 300 times faster (3 s). The lease outlives that wait, so it is never taken over.
    const store = new FileStore(lego);
    const lease = await store.lock(certificateFiles('ok.g6.example').lockName, { ttlMs: 4 * 3_600_000 });
    try {
      const mark = proxy.log.length;
      const locked = await runAcmekit(
        bin,
        [...base, '-d', 'ok.g6.example', 'renew', '--force', '--no-random-sleep'],
        { faketime: '+0 x300' },
      );
      expect(6, locked, 'another acmekit holds the lock');
      assert.match(locked.stderr, /is locked by .*; another acmekit is working on it, try again later/);
      assert.ok(locked.stderr.includes(String(process.pid)), 'the message names the holder');
      assert.deepEqual(
        proxy.log.slice(mark).filter((e) => e.resource === 'newOrder'),
        [],
        'nothing is ordered without the lock',
      );
    } finally {
      await lease.release();
    }
  } else {
    t.diagnostic('faketime is not installed (scripts/setup.sh installs it): exit code 6 is not provoked');
  }

  const documented = await documentedExitCodes();
  assert.deepEqual(documented, [0, 1, 2, 3, 4, 5, 6], 'docs/cli.md documents these codes');
  const missing = documented.filter((c) => !provoked.has(c));
  assert.deepEqual(missing, hasFaketime() ? [] : [6], `every documented code was provoked: ${[...provoked]}`);
  assertNoNonceTwice(proxy.log);
  assertNoTempFiles(await snapshot(lego));
});

test('G5: renew from cron (stdout not a terminal) announces and sleeps a random 0–8 minutes before contacting the CA; --no-random-sleep and run do not sleep', async (t) => {
  const { proxy, lego, base } = await setup(t, 'g5');
  const name = 'sleep.g5.example';
  const first = await runAcmekit(bin, [...base, '-d', name, 'run']);
  assert.equal(first.code, 0, first.all);
  const files = await snapshot(lego);
  proxy.clearLog();

  let announced: number | undefined;
  const sleeping = await runAcmekit(bin, [...base, '-d', name, 'renew', '--force'], {
    timeoutMs: 20_000,
    onStdout: (text, kill) => {
      const m = /waiting (\d+) s before renewing \(--no-random-sleep skips this\)/.exec(text);
      if (!m || announced !== undefined) return;
      announced = Number(m[1]);
      // Look a little later: still nothing sent, then stop it (the sleep itself would last up to 8 min).
      setTimeout(kill, 500);
    },
  });
  assert.notEqual(announced, undefined, `the sleep is announced on stdout: ${sleeping.all}`);
  assert.ok(announced! >= 0 && announced! <= 480, `0–480 s, got ${announced}`);
  t.diagnostic(`announced ${announced}`);
  if (announced! >= 2) {
    assert.equal(sleeping.code, null, 'still sleeping half a second later (killed by the test)');
    assert.deepEqual(proxy.log, [], 'nothing reaches the CA during the sleep');
    assert.deepEqual(changedFiles(files, await snapshot(lego)), [], 'nothing was written');
  } else {
    t.diagnostic(`the draw was ${announced} s, too short to watch the sleep this time`);
  }
  proxy.clearLog();

  for (const args of [
    ['renew', '--force', '--no-random-sleep'],
    ['run', '--force'],
  ]) {
    const started = Date.now();
    const r = await runAcmekit(bin, [...base, '-d', name, ...args]);
    assert.equal(r.code, 0, r.all);
    assert.doesNotMatch(r.stdout, /waiting \d+ s/, args.join(' '));
    assert.match(r.stdout, /sleep\.g5\.example: renewed/);
    assert.ok(Date.now() - started < 30_000, `${args.join(' ')} does not sleep`);
  }
  assertNoNonceTwice(proxy.log);
});
