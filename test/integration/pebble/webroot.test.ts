import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { type Account, AcmeClient, obtainCertificate, type Solver } from '../../../src/index.ts';
import { Http01WebrootSolver } from '../../../src/solvers/http01-webroot.ts';
import { opensslText } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
let webroot: string;
let server: Server;
const served: string[] = [];

/** A static file server over the webroot, as nginx would be: GET/HEAD of existing files, else 404. */
function staticServer(root: string): Server {
  return createServer(async (req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const path = normalize(join(root, urlPath));
    try {
      if (!path.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) throw new Error();
      const body = await readFile(path);
      served.push(urlPath);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
  webroot = await mkdtemp(join(tmpdir(), 'acmekit-webroot-it-'));
  server = staticServer(webroot);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(pebble.httpPort, '127.0.0.1', resolve);
  });
});
after(async () => {
  client?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await pebble?.stop();
  if (webroot) await rm(webroot, { recursive: true, force: true });
});

async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

test('issuance with http-01 files served by a separate web server; the webroot is left as it was', async () => {
  await writeFile(join(webroot, 'index.html'), '<h1>site</h1>');
  served.length = 0;
  const solver = new Http01WebrootSolver({ root: webroot });
  const result = await obtainCertificate(account, {
    names: ['web.example.com', 'www.web.example.com'],
    solvers: [solver],
  });
  const text = await opensslText(result.certificate);
  assert.match(text, /DNS:web\.example\.com/);
  assert.match(text, /DNS:www\.web\.example\.com/);
  assert.ok(
    served.filter((p) => p.startsWith('/.well-known/acme-challenge/')).length >= 2,
    `Pebble fetched the token files: ${served.join(', ')}`,
  );
  assert.deepEqual(await tree(webroot), ['index.html'], 'no token files or folders left over');
  await rm(join(webroot, 'index.html'));
});

test('D5: a flow aborted right after present still removes the token file and the folders', async () => {
  const real = new Http01WebrootSolver({ root: webroot });
  const controller = new AbortController();
  const written: string[] = [];
  const interrupting: Solver = {
    type: 'http-01',
    present: async (ctx, signal) => {
      await real.present(ctx, signal);
      const file = join(webroot, '.well-known/acme-challenge', ctx.challenge.token);
      await access(file);
      written.push(file);
      controller.abort(new Error('interrupted by the test'));
    },
    cleanup: (ctx, signal) => real.cleanup(ctx, signal),
  };
  await assert.rejects(
    obtainCertificate(account, {
      names: ['abort.example.com'],
      solvers: [interrupting],
      signal: controller.signal,
    }),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_ABORTED', String(err));
      return true;
    },
  );
  assert.equal(written.length, 1, 'the token file existed before the abort');
  assert.deepEqual(await tree(webroot), [], 'the webroot is empty again');
});

test('D5: a failed validation also cleans up, keeping a pre-existing .well-known', async () => {
  await mkdir(join(webroot, '.well-known'));
  await writeFile(join(webroot, '.well-known/security.txt'), 'Contact: mailto:a@example.com\n');
  const real = new Http01WebrootSolver({ root: webroot });
  // The token file is deleted right after present, so the CA gets a 404 and the authorization fails.
  const wrong: Solver = {
    type: 'http-01',
    present: (ctx, signal) =>
      real
        .present(ctx, signal)
        .then(() => rm(join(webroot, '.well-known/acme-challenge', ctx.challenge.token))),
    cleanup: (ctx, signal) => real.cleanup(ctx, signal),
  };
  await assert.rejects(
    obtainCertificate(account, { names: ['fail-web.example.com'], solvers: [wrong] }),
    /fail-web\.example\.com/,
  );
  assert.deepEqual(await tree(webroot), ['.well-known', '.well-known/security.txt']);
});
