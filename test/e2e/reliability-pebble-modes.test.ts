import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { AcmeClient } from '../../src/acme/client.ts';
import { loadOrRegisterAccount } from '../../src/lifecycle/accounts.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import {
  assertNoNonceTwice,
  assertNoTempFiles,
  removeDir,
  runAcmekit,
  snapshot,
  tempDir,
} from '../reliability/support.ts';
import { deactivateValidAuthorizations } from '../support/authorizations.ts';
import { installedCli } from '../support/cli.ts';
import { countRequests, effective, type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { opensslVerify } from '../support/openssl.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// RELIABILITY A3, A5–A7, A9 and A20 through the installed CLI: each needs Pebble started in another
// mode (every nonce rejected, authorizations always or never reused, a longer chain, -strict).

let reuseAll: PebbleServer;
let strict: PebbleServer;
let noNonce: PebbleServer;
let bin: string;
before(async () => {
  [reuseAll, strict, noNonce, bin] = await Promise.all([
    startPebble({ authzReuse: 100 }),
    startPebble({ authzReuse: 0, strict: true, chainLength: 3 }),
    startPebble({ nonceReject: 100 }),
    installedCli(),
  ]);
});
after(async () => {
  await Promise.all([reuseAll?.stop(), strict?.stop(), noNonce?.stop()]);
});

interface Setup {
  proxy: FaultProxy;
  lego: string;
  base: string[];
}

async function setup(t: TestContext, pebble: PebbleServer, label: string): Promise<Setup> {
  const proxy = await startFaultProxy({ target: pebble });
  const dir = await tempDir(label);
  t.after(async () => {
    await proxy.stop();
    await removeDir(dir);
  });
  const lego = join(dir, '.lego');
  const base = [
    ...['--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '-a', '-m', 'm@example.com'],
    ...['--path', lego, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  return { proxy, lego, base };
}

/** Challenge POSTs since `mark`, as the client meant them (Pebble's random badNonce rejections, sent again, left out). */
const challengeAnswers = (proxy: FaultProxy, mark: number) =>
  effective(proxy.log.slice(mark)).filter((e) => e.resource === 'chall' && e.method === 'POST');

test('A3: every nonce rejected: the CLI gives up after its bounded badNonce retries with a typed error and exit 3, each retry with the nonce of the rejection', async (t) => {
  const { proxy, lego, base } = await setup(t, noNonce, 'a3');
  const started = Date.now();
  const r = await runAcmekit(bin, [...base, '-d', 'a3.example.com', 'run', '--json']);
  assert.equal(r.code, 3, r.all);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error?.code ?? doc.certificates?.[0]?.error?.code, 'ERR_ACME_BAD_NONCE', r.stdout);
  assert.ok(Date.now() - started < 20_000, 'no unbounded loop');
  const posts = proxy.log.filter((e) => e.method === 'POST');
  assert.equal(posts.length, 131, 'the first attempt and 130 badNonce retries (the default), no more');
  // The CLI may fetch one nonce ahead (GET newNonce) besides the HEAD of its first request; the 130
  // retries fetch none: each signs with a nonce an earlier answer handed out (the rejections do).
  assert.ok(proxy.requests('newNonce').length <= 2, 'the badNonce retries ask newNonce for nothing');
  for (const p of posts) {
    const source = proxy.log.find((e) => e.seq < p.seq && e.replayNonce === p.nonce);
    assert.ok(source, `#${p.seq} signs with a nonce an earlier answer handed out`);
  }
  const fromRejections = posts.filter((p) =>
    proxy.log.some((e) => e.seq < p.seq && e.replayNonce === p.nonce && e.problemType?.endsWith(':badNonce')),
  );
  assert.ok(fromRejections.length >= 19, 'the retries use the Replay-Nonce of the rejections');
  assertNoNonceTwice(proxy.log);
  await assert.rejects(
    readFile(
      join(
        lego,
        'accounts',
        new URL(proxy.directoryUrl).host.replace(':', '_'),
        'm@example.com',
        'account.json',
      ),
    ),
    'no account was stored',
  );
});

test('A5, A6: with authorizations always reused, a second order is ready at once (no challenge, no listener even with the port taken), and a bigger order solves only the new names', async (t) => {
  const { proxy, base } = await setup(t, reuseAll, 'a5');
  const first = await runAcmekit(bin, [...base, '-d', 'a.reuse.example', 'run']);
  assert.equal(first.code, 0, first.all);
  assert.equal(challengeAnswers(proxy, 0).length, 1);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(reuseAll.httpPort, '127.0.0.1', resolve));
  let mark = proxy.log.length;
  try {
    const again = await runAcmekit(bin, [...base, '-d', 'a.reuse.example', 'run', '--force']);
    assert.equal(again.code, 0, `no listener was started on the taken port: ${again.all}`);
    assert.match(again.stdout, /a\.reuse\.example: renewed/);
  } finally {
    blocker.close();
  }
  assert.deepEqual(challengeAnswers(proxy, mark), [], 'A5: no challenge answered');
  assert.equal(
    countRequests(proxy.log.slice(mark), (e) => e.resource === 'finalize'),
    1,
    'straight to finalize',
  );

  mark = proxy.log.length;
  const bigger = await runAcmekit(bin, [
    ...[...base, '-d', 'a.reuse.example', '-d', 'b.reuse.example', '-d', 'c.reuse.example'],
    ...['run', '--force'],
  ]);
  assert.equal(bigger.code, 0, bigger.all);
  assert.equal(challengeAnswers(proxy, mark).length, 2, 'A6: only b and c are solved');
  assertNoNonceTwice(proxy.log);
});

test('A7, A9, A20: Pebble -strict without reuse and with a 3-intermediate chain: every order solves every name; lego files hold the whole chain, which verifies to /roots/0', async (t) => {
  const { proxy, lego, base } = await setup(t, strict, 'a7');
  const names = ['-d', 'x.strict.example', '-d', 'y.strict.example'];
  const first = await runAcmekit(bin, [...base, ...names, 'run']);
  assert.equal(first.code, 0, first.all);
  // PEBBLE_AUTHZREUSE=0 still reuses a valid authorization about 1 order in 100: the account gives up
  // its two, so the second order must present both names whatever Pebble draws.
  const client = new AcmeClient(proxy.directoryUrl, { caBundle: strict.caBundle });
  t.after(() => client.close());
  const account = await loadOrRegisterAccount({
    store: new FileStore(lego),
    client,
    email: 'm@example.com',
    acceptTos: true,
    create: false,
  });
  assert.equal(await deactivateValidAuthorizations(account), 2);
  const mark = proxy.log.length;
  const again = await runAcmekit(bin, [...base, ...names, 'run', '--force']);
  assert.equal(again.code, 0, again.all);
  // A7: no authorization reused, so both challenges were posted (a retried POST counts once); A20 below
  // checks that every answer to them was accepted.
  const challengePosts = proxy.log.slice(mark).filter((e) => e.resource === 'chall' && e.method === 'POST');
  assert.equal(
    new Set(challengePosts.map((e) => e.path)).size,
    2,
    `A7: both names solved again: ${JSON.stringify(challengePosts.map((e) => [e.path, e.status, e.problemType]))}`,
  );
  // Pebble rejects a share of nonces at random (each sent again with a fresh one); nothing else may fail.
  for (const e of effective(proxy.log).filter((x) => x.resource === 'chall' && x.method === 'POST')) {
    assert.ok(e.status < 400, `A20: -strict accepts every challenge response (${e.problemType})`);
  }

  const crt = await readFile(join(lego, 'certificates', 'x.strict.example.crt'), 'utf8');
  const issuer = await readFile(join(lego, 'certificates', 'x.strict.example.issuer.crt'), 'utf8');
  const count = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
  assert.equal(count(crt), 4, 'A9: .crt is the leaf and three intermediates');
  assert.equal(count(issuer), 3, 'A9: .issuer.crt holds the three intermediates');
  const blocks = crt.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  for (let i = 0; i + 1 < blocks.length; i++) {
    assert.ok(
      new X509Certificate(blocks[i]!).checkIssued(new X509Certificate(blocks[i + 1]!)),
      `A9: cert ${i + 1} is issued by cert ${i + 2}`,
    );
  }
  const roots = await strict.roots();
  assert.match(await opensslVerify({ leaf: blocks[0]!, intermediates: issuer, roots: [roots[0]!] }), /OK/);
  assertNoNonceTwice(proxy.log);
  assertNoTempFiles(await snapshot(lego));
});
