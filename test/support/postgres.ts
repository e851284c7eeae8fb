import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeOnExit, type Tracked, track } from './child-process.ts';
import { freePort } from './free-port.ts';

/**
 * A real PostgreSQL 15 on 127.0.0.1 in a temp dir, with password authentication over TCP:
 *
 *   const pg = await startPostgres();
 *   after(() => pg.stop());
 *   // pg.url = "postgres://acmekit:<random password>@127.0.0.1:<port>/acmekit"
 *
 * PostgreSQL refuses to run as root: when the tests run as root, initdb and postgres run as the
 * "postgres" user (setpriv execs, so the child we track is postgres itself, not a wrapper).
 */
export interface PostgresServer {
  readonly url: string;
  readonly password: string;
  readonly port: number;
  readonly dir: string;
  /** Fast shutdown (clients are disconnected), keeping the data: the database "goes away". */
  down(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  up(): Promise<void>;
  logs(): string;
  /** Stops the server and removes the temp dir; safe to call more than once. */
  stop(): Promise<void>;
}

const BIN = process.env.ACMEKIT_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const USER = 'acmekit';

function runAs(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'], uid, gid };
}

function launch(prefix: string[], file: string, args: string[]): ChildProcess {
  const [cmd, ...rest] = [...prefix, file, ...args];
  return spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-pg-'));
  const forget = removeOnExit(dir);
  const who = runAs();
  if (who.uid !== undefined && who.gid !== undefined) await chown(dir, who.uid, who.gid);
  await chmod(dir, 0o700);
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (who.uid !== undefined && who.gid !== undefined) await chown(pwfile, who.uid, who.gid);
  const data = join(dir, 'data');
  const initChild = launch(who.prefix, join(BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    USER,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const init = track(initChild);
  // Polled: track() unrefs the child, so awaiting its 'close' alone would let the event loop end.
  while (!init.exited()) await sleep(20);
  const code = initChild.exitCode;
  if (code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${code}):\n${init.logs()}`);
  }
  const port = await freePort();
  let server: Tracked | undefined;
  let child: ChildProcess | undefined;

  const up = async (): Promise<void> => {
    child = launch(who.prefix, join(BIN, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=60',
    ]);
    const tracked = track(child);
    server = tracked;
    const deadline = Date.now() + 20_000;
    while (!tracked.logs().includes('ready to accept connections')) {
      if (tracked.exited() || Date.now() > deadline) {
        throw new Error(`postgres did not start:\n${init.logs()}\n${tracked.logs()}`);
      }
      await sleep(20);
    }
  };
  const down = async (): Promise<void> => {
    if (!server || !child) return;
    child.kill('SIGINT'); // fast shutdown; SIGTERM ("smart") would wait for every client to leave
    await server.stop();
    server = undefined;
    child = undefined;
  };
  await up();
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    password,
    port,
    dir,
    up,
    down,
    logs: () => `${init.logs()}${server?.logs() ?? ''}`,
    stop: async () => {
      await down();
      await rm(dir, { recursive: true, force: true });
      forget();
    },
  };
}
