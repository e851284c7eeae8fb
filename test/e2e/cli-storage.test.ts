import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { type CliResult, caArgs, installedCli, runCli } from '../support/cli.ts';
import { freePort } from '../support/free-port.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * pg and @redis/client are optional peers, so `npm install acmekit` leaves them out; a user of
 * --storage postgres:// installs pg next to acmekit. This installs the tarball the shared install was
 * made from (offline, from npm's cache) into a folder outside this repository, so that nothing can be
 * found in the repository's own node_modules: once as is, once with the drivers of this repository.
 */
async function installOutsideRepo(sharedBin: string, withDrivers: boolean): Promise<string> {
  const shared = resolve(dirname(sharedBin), '../..');
  const tarball = (await readdir(shared)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, `no tarball in ${shared}`);
  const version = async (name: string) =>
    JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-install-'));
  installs.push(dir);
  await run('npm', ['init', '-y'], { cwd: dir });
  const drivers = withDrivers
    ? [`pg@${await version('pg')}`, `@redis/client@${await version('@redis/client')}`]
    : [];
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(shared, tarball), ...drivers],
    { cwd: dir, maxBuffer: 1 << 24 },
  );
  return join(dir, 'node_modules', '.bin', 'acmekit');
}

const installs: string[] = [];
let pebble: PebbleServer;
let postgres: PostgresServer;
let redis: RedisServer;
let plainBin: string;
let bin: string;
before(async () => {
  const installs = installedCli().then((shared) =>
    Promise.all([installOutsideRepo(shared, true), installOutsideRepo(shared, false)]),
  );
  [pebble, postgres, redis, [bin, plainBin]] = await Promise.all([
    startPebble(),
    startPostgres(),
    startRedis(),
    installs,
  ]);
});
after(() =>
  Promise.all([
    pebble?.stop(),
    postgres?.stop(),
    redis?.stop(),
    ...installs.map((dir) => rm(dir, { recursive: true, force: true })),
  ]),
);

const tmp = () => mkdtemp(join(tmpdir(), 'acmekit-storage-e2e-'));
const web = () => ['--http', '--http.address', `127.0.0.1:${pebble.httpPort}`];

/** A fresh database on the test server, so each test sees only its own entries. */
async function database(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.href;
}

function assertNoSecret(r: CliResult, ...secrets: string[]): void {
  for (const secret of [postgres.password, redis.password, ...secrets]) {
    assert.ok(!r.stdout.includes(secret), 'a password on stdout');
    assert.ok(!r.stderr.includes(secret), 'a password on stderr');
  }
}

async function filesUnder(dir: string): Promise<Record<string, { mode: number; bytes: string }>> {
  const out: Record<string, { mode: number; bytes: string }> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name === '.locks') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else
        out[`${rel}${e.name}`] = {
          mode: (await stat(p)).mode & 0o777,
          bytes: (await readFile(p)).toString('base64'),
        };
    }
  };
  await walk(dir, '');
  return out;
}

test('run --storage postgres:// issues against Pebble; list and accounts list read it back; nothing lands on disk', async () => {
  const url = await database('run_pg');
  const cwd = await tmp();
  const storage = ['--storage', url];
  const ok = await runCli(
    bin,
    [
      'run',
      ...caArgs(pebble),
      ...storage,
      '-a',
      '-m',
      'pg@example.com',
      '-d',
      'pg.example.com',
      ...web(),
      '--json',
    ],
    { cwd },
  );
  assert.equal(ok.code, 0, ok.stderr);
  const doc = JSON.parse(ok.stdout);
  assert.equal(doc.certificates[0].status, 'obtained');
  assert.equal(doc.certificates[0].files.certificate, 'certificates/pg.example.com.crt');
  assertNoSecret(ok);
  const started = Date.now();
  const list = await runCli(bin, ['list', ...storage], { cwd });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^pg\.example\.com: pg\.example\.com; valid until /m);
  assert.ok(Date.now() - started < 10_000, 'the process ends once the command is done');
  const accounts = await runCli(bin, ['accounts', 'list', ...storage, '--json'], { cwd });
  assert.equal(JSON.parse(accounts.stdout).accounts[0].email, 'pg@example.com');
  const again = await runCli(
    bin,
    ['run', ...caArgs(pebble), ...storage, '-m', 'pg@example.com', '-d', 'pg.example.com', ...web()],
    { cwd },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /pg\.example\.com: not due until/);
  assert.deepEqual(await readdir(cwd), [], 'no ./.lego or any other file');
});

test('run with ACMEKIT_STORAGE=redis:// issues and list shows it; the config file key works too', async () => {
  const cwd = await tmp();
  const env = { ACMEKIT_STORAGE: redis.url };
  const ok = await runCli(
    bin,
    ['run', ...caArgs(pebble), '-a', '-m', 'r@example.com', '-d', 'redis.example.com', ...web()],
    { cwd, env },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout,
    /redis\.example\.com: obtained, valid until .* → certificates\/redis\.example\.com\.crt in redis:\/\/:\*\*\*@127\.0\.0\.1:/,
  );
  assertNoSecret(ok);
  const list = await runCli(bin, ['certificates', 'list', '--json'], { cwd, env });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).certificates.map((c: { domain: string }) => c.domain),
    ['redis.example.com'],
  );
  const config = join(await tmp(), 'acmekit.yaml');
  await writeFile(config, `storage: ${redis.url}\n`, { mode: 0o600 });
  const fromConfig = await runCli(bin, ['list', '--config', config], { cwd });
  assert.equal(fromConfig.code, 0, fromConfig.stderr);
  assert.match(fromConfig.stdout, /^redis\.example\.com: /m);
  assert.deepEqual(await readdir(cwd), []);
});

test('storage copy file → postgres → file is byte-identical, keeps keys 0600, and refuses to overwrite without --overwrite', async () => {
  const dir = await tmp();
  const source = join(dir, 'source');
  const back = join(dir, 'back');
  const issued = await runCli(bin, [
    'run',
    ...caArgs(pebble),
    '--path',
    source,
    '-a',
    '-m',
    'copy@example.com',
    '-d',
    'copy.example.com',
    ...web(),
    '--pem',
  ]);
  assert.equal(issued.code, 0, issued.stderr);
  const url = await database('copy_round_trip');

  const up = await runCli(bin, ['storage', 'copy', '--from', `file:${source}`, '--to', url, '--json']);
  assert.equal(up.code, 0, up.stderr);
  const before = await filesUnder(source);
  const count = Object.keys(before).length;
  assert.deepEqual(
    { ...JSON.parse(up.stdout), from: undefined, to: undefined },
    {
      ok: true,
      entries: count,
      copied: count,
      private: Object.values(before).filter((f) => f.mode === 0o600).length,
      unchanged: 0,
      replaced: 0,
      from: undefined,
      to: undefined,
    },
  );
  assert.match(JSON.parse(up.stdout).to, /^postgres:\/\/acmekit:\*\*\*@127\.0\.0\.1:\d+\/copy_round_trip$/);
  assertNoSecret(up);

  const down = await runCli(bin, ['storage', 'copy', '--from', url, '--to', `file:${back}`]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(
    down.stdout,
    new RegExp(`^copied ${count} of ${count} entries from postgres://acmekit:\\*\\*\\*@`),
  );
  assert.deepEqual(await filesUnder(back), before, 'same keys, bytes and modes');
  assert.equal(before['certificates/copy.example.com.key']?.mode, 0o600);
  assert.equal(before['certificates/copy.example.com.crt']?.mode, 0o644);
  assert.equal((await stat(back)).mode & 0o777, 0o700);

  const same = await runCli(bin, ['storage', 'copy', '--from', `file:${source}`, '--to', url]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(
    same.stdout,
    new RegExp(`copied 0 of ${count} entries .*; ${count} already the same, 0 replaced`),
  );

  const record = join(source, 'certificates/copy.example.com.json');
  await writeFile(record, `${await readFile(record, 'utf8')}\n`);
  const refused = await runCli(bin, ['storage', 'copy', '--from', `file:${source}`, '--to', url]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /already holds 1 entry with other content \(certificates\/copy\.example\.com\.json\); nothing was copied\. Pass --overwrite/,
  );
  assertNoSecret(refused);
  const stillOld = await runCli(bin, [
    'storage',
    'copy',
    '--from',
    url,
    '--to',
    `file:${join(dir, 'check')}`,
  ]);
  assert.equal(stillOld.code, 0, stillOld.stderr);
  assert.deepEqual(await filesUnder(join(dir, 'check')), before, 'the refused copy wrote nothing');

  const forced = await runCli(bin, [
    'storage',
    'copy',
    '--from',
    `file:${source}`,
    '--to',
    url,
    '--overwrite',
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /copied 1 of .*; \d+ already the same, 1 replaced/);
});

test('storage migrate creates the schema once; running it again changes nothing', async () => {
  const url = await database('migrate_twice');
  const first = await runCli(bin, ['storage', 'migrate', '--storage', url]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /^postgres:\/\/acmekit:\*\*\*@127\.0\.0\.1:\d+\/migrate_twice: schema version 1 \(created\)$/m,
  );
  const dir = await tmp();
  await writeFile(join(dir, 'note.txt'), 'kept');
  const copied = await runCli(bin, ['storage', 'copy', '--from', `file:${dir}`, '--to', url]);
  assert.equal(copied.code, 0, copied.stderr);
  const second = await runCli(bin, ['storage', 'migrate', '--json'], { env: { ACMEKIT_STORAGE: url } });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(
    { ...JSON.parse(second.stdout), storage: undefined },
    { ok: true, storage: undefined, kind: 'postgres', schemaVersion: 1, previousVersion: 1 },
  );
  const back = join(await tmp(), 'back');
  assert.equal((await runCli(bin, ['storage', 'copy', '--from', url, '--to', `file:${back}`])).code, 0);
  assert.equal(await readFile(join(back, 'note.txt'), 'utf8'), 'kept');
  const redisMigrate = await runCli(bin, ['storage', 'migrate', '--storage', redis.url]);
  assert.equal(redisMigrate.code, 0, redisMigrate.stderr);
  assert.match(redisMigrate.stdout, /redis storage has no schema; nothing to do/);
  for (const r of [first, second, redisMigrate]) assertNoSecret(r);
});

test('bad URL, unreachable server, wrong password: exit code, the URL without its password, no files', async () => {
  const cwd = await tmp();
  const canary = 'canary-Pw-8e1f';
  const closed = await freePort();
  const wrongPg = new URL(postgres.url);
  wrongPg.password = canary;
  const wrongRedis = new URL(redis.url);
  wrongRedis.password = canary;
  const cases: { storage: string; code: number; message: RegExp }[] = [
    { storage: `mysql://u:${canary}@127.0.0.1/db`, code: 2, message: /storage mysql: is not supported/ },
    {
      storage: `postgres://u:${canary}@[::1`,
      code: 2,
      message: /postgres:\/\/\(unparsable URL\)|is not a valid postgres URL/,
    },
    {
      storage: `postgres://u:${canary}@127.0.0.1:${closed}/db`,
      code: 1,
      message: new RegExp(
        `postgres://u:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/db: cannot use this storage: connect ECONNREFUSED`,
      ),
    },
    {
      storage: `redis://:${canary}@127.0.0.1:${closed}`,
      code: 1,
      message: new RegExp(
        `redis://:\\*\\*\\*@127\\.0\\.0\\.1:${closed}: cannot use this storage: connect ECONNREFUSED`,
      ),
    },
    { storage: wrongPg.href, code: 1, message: /cannot use this storage: password authentication failed/ },
    { storage: wrongRedis.href, code: 1, message: /cannot use this storage: WRONGPASS/ },
  ];
  for (const c of cases) {
    const args = ['run', ...caArgs(pebble), '-a', '-m', 'x@example.com', '-d', 'bad.example.com', ...web()];
    const r = await runCli(bin, [...args, '--storage', c.storage], { cwd, timeoutMs: 20_000 });
    assert.equal(r.code, c.code, `${c.message}: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assertNoSecret(r, canary);
  }
  const both = await runCli(bin, ['list', '--path', join(cwd, 'x'), '--storage', redis.url], { cwd });
  assert.equal(both.code, 2);
  assert.match(
    both.stderr,
    /--path .* and --storage redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ name different storage; keep one/,
  );
  assertNoSecret(both);
  const agree = await runCli(bin, ['list', '--path', join(cwd, 'x'), '--storage', `file:${join(cwd, 'x')}`], {
    cwd,
  });
  assert.equal(agree.code, 0, agree.stderr);
  const copies: [string[], RegExp][] = [
    [['--from', `file:${join(cwd, 'missing')}`, '--to', redis.url], /--from .*missing: no such folder/],
    [['--from', redis.url], /storage copy needs --to URL/],
    [['--from', redis.url, '--to', redis.url], /--from and --to name the same storage/],
  ];
  for (const [args, message] of copies) {
    const r = await runCli(bin, ['storage', 'copy', ...args], { cwd });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assertNoSecret(r);
  }
  assert.deepEqual(await readdir(cwd), [], 'nothing created');
});

test('without pg or @redis/client installed, the binary says which package to install (exit 2)', async () => {
  const pgRun = await runCli(plainBin, ['list', '--storage', postgres.url]);
  assert.equal(pgRun.code, 2, pgRun.stderr);
  assert.match(
    pgRun.stderr,
    /postgres storage needs the pg package, which is not installed: run `npm install pg`/,
  );
  const redisRun = await runCli(plainBin, ['list', '--storage', redis.url]);
  assert.equal(redisRun.code, 2, redisRun.stderr);
  assert.match(
    redisRun.stderr,
    /redis storage needs the @redis\/client package.*`npm install @redis\/client`/,
  );
  assertNoSecret(pgRun);
  assertNoSecret(redisRun);
});
