import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caArgs, installedCli, runCli } from '../support/cli.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// A private zone: no nameserver this machine can ask answers for it (the only resolver given listens
// nowhere), yet `--dns exec` with `--dns.propagation.wait` issues, as lego's exec provider does: the
// program writes the record (here into the DNS server Pebble validates against) and no zone is looked up.

let pebble: PebbleServer;
let bin: string;
let dir: string;
before(async () => {
  [pebble, bin] = await Promise.all([startPebble({ authzReuse: 0 }), installedCli()]);
  dir = await mkdtemp(join(tmpdir(), 'acmekit-private-zone-'));
});
after(async () => {
  await pebble?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('--dns exec with --dns.propagation.wait issues for a zone no nameserver answers SOA for', async () => {
  const log = join(dir, 'exec.log');
  const program = join(dir, 'publish.mjs');
  // lego's exec protocol: `present FQDN VALUE` / `cleanup FQDN VALUE`.
  await writeFile(
    program,
    [
      '#!/usr/bin/env node',
      "import { appendFileSync } from 'node:fs';",
      'const [op, fqdn, value] = process.argv.slice(2);',
      `appendFileSync(${JSON.stringify(log)}, \`\${op} \${fqdn}\\n\`);`,
      "const path = op === 'present' ? '/set-txt' : '/clear-txt';",
      'const res = await fetch(process.env.CHALLTESTSRV + path, { method: "POST", body: JSON.stringify({ host: fqdn, value }) });',
      'process.exit(res.ok ? 0 : 1);',
    ].join('\n'),
  );
  await chmod(program, 0o755);
  const r = await runCli(
    bin,
    [
      ...caArgs(pebble),
      '-a',
      '--email',
      'private@example.com',
      '--path',
      join(dir, 'lego'),
      '--dns',
      'exec',
      '--dns.propagation.wait',
      '1s',
      // Nothing listens there: any zone or CNAME lookup would fail.
      '--dns.resolvers',
      '127.0.0.1:9',
      '-d',
      'app.corp.internal',
      'run',
    ],
    { env: { EXEC_PATH: program, CHALLTESTSRV: pebble.challtestsrv!.managementUrl } },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /app\.corp\.internal: obtained/);
  assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
    'present _acme-challenge.app.corp.internal.',
    'cleanup _acme-challenge.app.corp.internal.',
  ]);
});

test('--dns.zone names the zone of the records; a name outside it is refused before anything is written', async () => {
  const r = await runCli(
    bin,
    [
      ...caArgs(pebble),
      '-a',
      '--email',
      'private@example.com',
      '--path',
      join(dir, 'lego2'),
      '--dns',
      'rfc2136',
      '--dns.zone',
      'other.internal',
      '--dns.propagation.wait',
      '1s',
      '--dns.resolvers',
      pebble.challtestsrv!.dnsAddress,
      '-d',
      'app.corp.internal',
      'run',
    ],
    // The nameserver is never reached: the record is refused first.
    { env: { RFC2136_NAMESERVER: '127.0.0.1:9' } },
  );
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /_acme-challenge\.app\.corp\.internal\. is not inside the zone other\.internal\. given with --dns\.zone/,
  );
});
