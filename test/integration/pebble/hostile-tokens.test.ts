import assert from 'node:assert/strict';
import fsp, { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, mock, type TestContext, test } from 'node:test';
import {
  BadServerResponseError,
  Http01ListenerSolver,
  obtainCertificate,
  SolverError,
} from '../../../src/index.ts';
import { autoHttps, type FailureEvent } from '../../../src/server/index.ts';
import { Http01WebrootSolver } from '../../../src/solvers/http01-webroot.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { runAcmekit } from '../../reliability/support.ts';
import { installedCli } from '../../support/cli.ts';
import { type FaultProxy, mutateJson } from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, listen, until } from '../server/support.ts';
import { proxiedClient, rejection, uniqueName } from './proxied.ts';

// RELIABILITY D3: the fault proxy rewrites the challenge tokens in Pebble's authorizations into
// hostile ones. The token is checked in one place, Challenge#token (src/acme/challenge.ts: 16-256
// base64url characters), which every http-01 consumer reads it through: the webroot solver (which
// checks again itself and says which challenge), the listener solver and the manager's
// HttpChallengeSolver. Each must refuse before any file system call, socket or store write, and the
// CA is never told to validate (no challenge POST).

const PAD = 'a'.repeat(22);
/** The checklist's tokens as the CA would send them, and padded so that only the bad characters are wrong. */
const NAMED = ['../x', 'a/b', '%2e%2e', '..\\x', 'x\0y'];
const TOKENS = [
  ...NAMED,
  ...NAMED.map((t) => `${t}${PAD}`),
  'a'.repeat(2048),
  `${PAD}==`,
  `tökenäöü-${PAD}`,
  `\u{1F600}${PAD}`,
];

let pebble: PebbleServer;
let base: string;
before(async () => {
  [pebble, base] = await Promise.all([startPebble(), mkdtemp(join(tmpdir(), 'acmekit-d3-'))]);
});
after(async () => {
  await pebble?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

const FAST_RETRY = { backoffBaseMs: 50, backoffMaxMs: 200 };

/** Makes the proxy hand out `tokenFor(name)` as the token of every challenge of that name's authorizations. */
function rewriteTokens(proxy: FaultProxy, tokenFor: (name: string) => string | undefined): void {
  proxy.rule({
    resource: 'authz',
    action: mutateJson((authz: { identifier: { value: string }; challenges: { token?: string }[] }) => {
      const token = tokenFor(authz.identifier.value);
      if (token === undefined) return;
      for (const c of authz.challenges) c.token = token;
    }),
  });
}

/** A fresh parent folder holding an empty webroot, like /var/www with its html/. */
async function webrootIn(): Promise<{ parent: string; root: string }> {
  const parent = await mkdtemp(join(base, 'site-'));
  const root = join(parent, 'html');
  await mkdir(root);
  return { parent, root };
}

/** Every path under dir, folders included, relative and sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

/**
 * Records every node:fs/promises call whose first argument is a path under `dir`, while the real call
 * still runs (a pass-through spy: the solver imports these functions, syncBuiltinESMExports makes its
 * bindings see the wrappers).
 */
function spyOnFs(t: TestContext, dir: string): string[] {
  const calls: string[] = [];
  const api = fsp as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, original] of Object.entries(api)) {
    if (typeof original !== 'function') continue;
    mock.method(api, name, (...args: unknown[]) => {
      const path = args[0] instanceof URL ? args[0].pathname : String(args[0]);
      if (path.startsWith(dir)) calls.push(`${name} ${path}`);
      return original(...args);
    });
  }
  syncBuiltinESMExports();
  t.after(() => {
    mock.restoreAll();
    syncBuiltinESMExports();
  });
  return calls;
}

const shown = (token: string) => JSON.stringify(token.slice(0, 20));

test('D3: hostile tokens rewritten into the challenges are refused by the webroot solver before any file system call, naming the challenge; nothing is created', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  const { parent, root } = await webrootIn();
  const before = await tree(parent);
  assert.deepEqual(before, ['html']);

  const names = TOKENS.map((_, i) => uniqueName(`d3-${i}`));
  const tokenOf = new Map(names.map((n, i) => [n, TOKENS[i]!]));
  rewriteTokens(proxy, (name) => tokenOf.get(name));
  const fsCalls = spyOnFs(t, parent);

  const solver = new Http01WebrootSolver({ root });
  const results = await Promise.all(
    names.map((name) => rejection(obtainCertificate(account, { names: [name], solvers: [solver] }))),
  );
  for (const [i, err] of results.entries()) {
    const name = names[i]!;
    const token = TOKENS[i]!;
    assert.ok(err instanceof SolverError, `${shown(token)}: got ${String(err)}`);
    assert.equal(err.identifier, name, `${shown(token)}: the error names the identifier`);
    assert.equal(err.challengeType, 'http-01');
    assert.ok(err.message.includes(name), err.message);
    assert.match(
      err.message,
      new RegExp(`refusing challenge ${proxy.origin.replace(/\./g, '\\.')}/chalZ/\\S+ with token `),
      `${shown(token)}: the error names the challenge URL`,
    );
    assert.ok(err.message.length < 400, `${shown(token)}: the token is not echoed whole`);
  }
  assert.deepEqual(fsCalls, [], 'no file system call touched the webroot or its parent');
  assert.deepEqual(await tree(parent), before, 'nothing was created next to or inside the webroot');
  assert.equal(proxy.requests('chall').length, 0, 'the CA was never told to validate');
  assert.equal(proxy.requests('finalize').length, 0);

  // The spy does see the solver's calls: a well-formed token goes through it.
  const good = {
    identifier: { type: 'dns', value: 'good.example.com' },
    challenge: { token: `good_${PAD}`, keyAuthorization: `good_${PAD}.thumbprint` },
  } as unknown as ChallengeContext;
  await solver.present(good, AbortSignal.timeout(5000));
  await solver.cleanup(good, AbortSignal.timeout(5000));
  assert.match(fsCalls.join('\n'), /^mkdir /m, 'the spy saw the solver’s calls');
  assert.deepEqual(await tree(parent), before);
});

test('D3: the CLI with --http.webroot refuses a hostile token, names the domain and the challenge, leaves no file and exits 1', async (t) => {
  const bin = await installedCli();
  const { proxy } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const { parent, root } = await webrootIn();
  const lego = await mkdtemp(join(base, 'lego-'));
  for (const token of [`../${PAD}`, `x\0y${PAD}`]) {
    proxy.clearRules();
    proxy.clearLog();
    rewriteTokens(proxy, () => token);
    const name = uniqueName('d3-cli');
    const before = await tree(parent);
    const r = await runAcmekit(bin, [
      ...['--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '-a', '-m', 'd3@example.com'],
      ...['--path', lego, '-d', name, '--http.webroot', root, 'run'],
    ]);
    assert.equal(r.code, 1, r.all);
    assert.ok(r.stderr.includes(name), `the domain is named: ${r.stderr}`);
    assert.match(r.stderr, /refusing challenge https:\/\/127\.0\.0\.1:\d+\/chalZ\/\S+ with token /);
    assert.match(r.stderr, /a token must be 16-256 characters/);
    assert.deepEqual(await tree(parent), before, 'nothing was created next to or inside the webroot');
    assert.equal(proxy.requests('chall').length, 0, 'the CA was never told to validate');
    assert.equal(proxy.requests('finalize').length, 0);
  }
  assert.deepEqual(await tree(root), []);
});

test('D3: the http-01 listener solver refuses a hostile token before it binds its port', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  // The port is taken: a solver that tried to listen before checking would fail with EADDRINUSE instead.
  let connections = 0;
  const squatter = createTcpServer((s) => {
    connections++;
    s.destroy();
  });
  const port = await listen(squatter);
  t.after(() => closeServer(squatter));

  for (const token of [`../${PAD}`, `%2e%2e${PAD}`, `x\0y${PAD}`, `${PAD}==`]) {
    const name = uniqueName('d3-listener');
    proxy.clearRules();
    rewriteTokens(proxy, () => token);
    const solver = new Http01ListenerSolver({ port, host: '127.0.0.1' });
    const err = await rejection(obtainCertificate(account, { names: [name], solvers: [solver] }));
    assert.ok(err instanceof BadServerResponseError, `${shown(token)}: got ${String(err)}`);
    assert.match(
      err.message,
      new RegExp(`http-01 challenge for ${name.replace(/\./g, '\\.')} with an unusable token`),
    );
    assert.match(err.url ?? '', /\/chalZ\//, 'the error carries the challenge URL');
    assert.equal(solver.listening, false);
  }
  assert.equal(connections, 0);
  assert.equal(proxy.requests('chall').length, 0, 'the CA was never told to validate');
});

test('D3: the HTTPS manager never publishes a hostile token: the attempt fails naming the domain, nothing is stored or served', async (t) => {
  const proxy = (await proxiedClient(t, pebble)).proxy;
  const token = `../${PAD}`;
  rewriteTokens(proxy, () => token);
  const store = new MemoryStore();
  const name = uniqueName('d3-manager');
  const tls = await autoHttps({
    domains: [name],
    acceptTos: true,
    directory: proxy.directoryUrl,
    caBundle: pebble.caBundle,
    store,
    challenges: ['http-01'],
    retry: { minMs: 600_000, maxMs: 600_000 },
    acme: { retry: FAST_RETRY },
  });
  t.after(() => tls.close());
  const failures: FailureEvent[] = [];
  tls.on('failed', (e) => failures.push(e));
  const port80 = createHttpServer(tls.httpHandler());
  const port = await listen(port80);
  t.after(() => closeServer(port80));

  await until('the first failed attempt', () => failures.length > 0);
  const [failure] = failures;
  assert.ok(failure);
  assert.deepEqual(failure.names, [name]);
  assert.ok(failure.error instanceof BadServerResponseError, `got ${String(failure.error)}`);
  assert.match(failure.error.message, new RegExp(`for ${name.replace(/\./g, '\\.')} with an unusable token`));

  assert.deepEqual(await store.list('challenges/'), [], 'no challenge answer was shared through the store');
  for (const path of [
    `/.well-known/acme-challenge/${token}`,
    `/.well-known/acme-challenge/${encodeURIComponent(token)}`,
  ]) {
    const res = await get(port, path, name);
    assert.equal(res.status, 404, `${path}: not answered`);
    assert.ok(!res.body.includes(PAD), `${path}: the token is not reflected`);
  }
  assert.equal(proxy.requests('chall').length, 0, 'the CA was never told to validate');
});

/** A raw GET (the path is sent exactly as given, dots and all). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
