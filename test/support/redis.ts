import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeOnExit, type Tracked, track } from './child-process.ts';
import { freePort } from './free-port.ts';

/**
 * A real Redis 7 on 127.0.0.1 in a temp dir, with a password and AOF persistence (as a cluster
 * should run it, so fences survive a restart):
 *
 *   const redis = await startRedis();
 *   after(() => redis.stop());
 *   // redis.url = "redis://:<random password>@127.0.0.1:<port>"
 */
export interface RedisServer {
  readonly url: string;
  readonly password: string;
  readonly port: number;
  /** Shuts Redis down (it writes its AOF first), keeping the data dir. */
  down(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  up(): Promise<void>;
  logs(): string;
  /** Stops the server and removes the temp dir; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-redis-'));
  const forget = removeOnExit(dir);
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  let server: Tracked | undefined;
  const earlier: string[] = [];

  const up = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', 'yes', '--requirepass', password, '--daemonize', 'no', '--logfile', '');
    const tracked = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    server = tracked;
    const deadline = Date.now() + 10_000;
    while (!tracked.logs().includes('Ready to accept connections')) {
      if (tracked.exited() || Date.now() > deadline)
        throw new Error(`redis did not start:\n${tracked.logs()}`);
      await sleep(10);
    }
  };
  const down = async (): Promise<void> => {
    if (!server) return;
    earlier.push(server.logs());
    await server.stop();
    server = undefined;
  };
  await up();
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    password,
    port,
    up,
    down,
    logs: () => `${earlier.join('')}${server?.logs() ?? ''}`,
    stop: async () => {
      await down();
      await rm(dir, { recursive: true, force: true });
      forget();
    },
  };
}
