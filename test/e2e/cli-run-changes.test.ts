import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { countRequests, type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// `run` orders a new certificate when what is asked for differs from the stored one (names, key type,
// CSR), `renew` does not; `--dry-run` orders whatever is selected, due or not, and writes nothing.

let pebble: PebbleServer;
let proxy: FaultProxy;
let bin: string;
const dirs: string[] = [];
before(async () => {
  [pebble, bin] = await Promise.all([startPebble(), installedCli()]);
  proxy = await startFaultProxy({ target: pebble });
});
after(async () => {
  await proxy?.stop();
  await pebble?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-changes-'));
  dirs.push(dir);
  return dir;
}

function cli(path: string, args: string[]) {
  return runCli(bin, [
    ...caArgs({ directoryUrl: proxy.directoryUrl, caBundlePath: pebble.caBundlePath }),
    '--path',
    path,
    '--email',
    'changes@example.com',
    '--accept-tos',
    '--http',
    '--http.port',
    `127.0.0.1:${pebble.httpPort}`,
    ...args,
  ]);
}

const sans = async (path: string, name: string) =>
  new X509Certificate(await readFile(join(path, 'certificates', `${name}.crt`))).subjectAltName;
const newOrders = () => countRequests(proxy.log, (e) => e.resource === 'newOrder' && e.method === 'POST');

/** Every file under `dir` with its bytes' hash and mode, locks included. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else {
        const hash = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
        out[`${rel}${e.name}`] = `${hash} ${((await stat(p)).mode & 0o777).toString(8)}`;
      }
    }
  };
  await walk(dir, '');
  return out;
}

test('run with a name added obtains one new certificate for the new set; renew does not', async () => {
  const path = await folder();
  const first = await cli(path, ['-d', 'a.changes.example', 'run']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(await sans(path, 'a.changes.example'), 'DNS:a.changes.example');

  // lego's renew keeps the certificate's own names: nothing is due.
  const before = newOrders();
  const renew = await cli(path, [
    '-d',
    'a.changes.example',
    '-d',
    'b.changes.example',
    'renew',
    '--no-random-sleep',
  ]);
  assert.equal(renew.code, 0, renew.stderr);
  assert.match(renew.stdout, /a\.changes\.example: not due until/);
  assert.equal(newOrders(), before, 'renew orders nothing');

  const added = await cli(path, ['-d', 'a.changes.example', '-d', 'b.changes.example', 'run']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^a\.changes\.example: names changed \(\+b\.changes\.example\); renewing$/m);
  assert.match(added.stdout, /^a\.changes\.example: obtained, valid until /m);
  assert.equal(newOrders(), before + 1, 'exactly one new order');
  assert.equal(await sans(path, 'a.changes.example'), 'DNS:a.changes.example, DNS:b.changes.example');

  const removed = await cli(path, ['-d', 'a.changes.example', 'run']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /names changed \(-b\.changes\.example\)/);
  assert.equal(await sans(path, 'a.changes.example'), 'DNS:a.changes.example');

  const same = await cli(path, ['-d', 'a.changes.example', 'run']);
  assert.match(same.stdout, /a\.changes\.example: not due until/, 'the same names again: nothing to do');
});

test('run with another --key-type obtains a certificate with the new key type', async () => {
  const path = await folder();
  assert.equal((await cli(path, ['-d', 'k.changes.example', 'run'])).code, 0);
  const changed = await cli(path, ['-d', 'k.changes.example', '--key-type', 'rsa2048', 'run']);
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /k\.changes\.example: key type changed \(ec256 → rsa2048\); renewing/);
  const crt = new X509Certificate(await readFile(join(path, 'certificates', 'k.changes.example.crt')));
  assert.equal(crt.publicKey.asymmetricKeyType, 'rsa');
  // Remembered from then on: a run without --key-type keeps it.
  const again = await cli(path, ['-d', 'k.changes.example', 'run']);
  assert.match(again.stdout, /not due until/);
});

test('renew --dry-run orders a certificate that is not due, at the CA, and leaves every file as it was', async () => {
  const path = await folder();
  assert.equal((await cli(path, ['-d', 'dry.changes.example', 'run'])).code, 0);
  const files = await snapshot(path);
  const before = newOrders();
  const dry = await cli(path, ['renew', '--dry-run', '--no-random-sleep']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^dry run: ordering at /m);
  assert.match(dry.stdout, /dry\.changes\.example: not due until .*; dry run: ordering it anyway/);
  assert.match(dry.stdout, /dry\.changes\.example: renewed, valid until .* \(dry run, not saved\)/);
  assert.equal(newOrders(), before + 1, 'a real order reached the CA');
  assert.deepEqual(
    await snapshot(path),
    files,
    'byte-identical folder: no file, key, lock or record changed',
  );
});
