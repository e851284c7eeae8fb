import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
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

test('C7: two first runs on a fresh --path register one account between them; its key and URL belong together', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-e2e-'));
  const www = join(dir, 'www');
  await mkdir(www);
  const server = createServer(async (req, res) => {
    const body = await readFile(join(www, req.url ?? '/')).catch(() => undefined);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(pebble.httpPort, '127.0.0.1', resolve));
  const run = (name: string) =>
    runCli(bin, [
      ...caArgs(pebble),
      '--email',
      'race@example.com',
      '--path',
      join(dir, '.lego'),
      '-a',
      '-d',
      name,
      '--http.webroot',
      www,
      'run',
    ]);
  try {
    const [a, b] = await Promise.all([run('one.race.example.com'), run('two.race.example.com')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const accountDir = join(dir, '.lego/accounts', new URL(pebble.directoryUrl).host.replace(':', '_'));
    assert.deepEqual(await readdir(join(accountDir, 'race@example.com/keys')), ['race@example.com.key']);
    // A third run uses the stored account: it only works when the stored key is the one registered at the URL.
    const c = await run('three.race.example.com');
    assert.equal(c.code, 0, c.stderr);
    assert.doesNotMatch(`${a.stderr}${b.stderr}${c.stderr}`, /unauthorized|malformed/i);
  } finally {
    server.close();
  }
});
