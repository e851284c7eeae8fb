// Prints the latency of each Store operation (median and p99) for memory, file, PostgreSQL and Redis on
// loopback, and how long a lease takes to pass to another process after its holder was killed with
// SIGKILL. Starts its own PostgreSQL and Redis (test/support), as the tests do. Not a test: it asserts
// nothing.
//   node --import tsx bench/store.ts [--ops 2000] [--size 4096] [--handovers 5] [--ttl 2000]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FileStore } from '../src/storage/file-store.ts';
import { MemoryStore } from '../src/storage/memory-store.ts';
import { PostgresStore } from '../src/storage/postgres-store.ts';
import { RedisStore } from '../src/storage/redis-store.ts';
import type { Store } from '../src/storage/store.ts';

type Kind = 'memory' | 'file' | 'postgres' | 'redis';

/** A store of `kind` at `where` (folder or URL); `close` ends its connections. */
async function open(kind: Kind, where: string): Promise<{ store: Store; close: () => Promise<void> }> {
  if (kind === 'memory') return { store: new MemoryStore(), close: async () => {} };
  if (kind === 'file') return { store: new FileStore(where), close: async () => {} };
  const store = kind === 'postgres' ? await PostgresStore.connect(where) : await RedisStore.connect(where);
  return { store, close: () => store.close() };
}

// Child mode: take the lease, say so with the time of each renewal, renew every ttl/3 until killed.
// The URL comes in the environment, never on the command line (where `ps` would show its password).
if (process.argv[2] === '--hold') {
  const [, , , kind, name, ttl] = process.argv;
  const ttlMs = Number(ttl);
  const { store } = await open(kind as Kind, process.env.BENCH_STORE_WHERE ?? '');
  const lease = await store.lock(name!, { ttlMs });
  console.log(`held ${lease.fence} ${Date.now()}`);
  setInterval(() => {
    void lease.renew().then(() => console.log(`renewed ${Date.now()}`));
  }, ttlMs / 3);
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: '2000' },
      size: { type: 'string', default: '4096' },
      handovers: { type: 'string', default: '5' },
      ttl: { type: 'string', default: '2000' },
    },
  });
  const ops = Number(values.ops);
  const size = Number(values.size);
  const handovers = Number(values.handovers);
  const ttlMs = Number(values.ttl);
  // Imported here so the child (above) does not load them.
  const { startPostgres } = await import('../test/support/postgres.ts');
  const { startRedis } = await import('../test/support/redis.ts');
  const [pg, redis, dir] = await Promise.all([
    startPostgres(),
    startRedis(),
    mkdtemp(join(tmpdir(), 'acmekit-bench-store-')),
  ]);
  const where: Record<Kind, string> = {
    memory: '',
    file: join(dir, 'store'),
    postgres: pg.url,
    redis: redis.url,
  };
  try {
    console.log(
      `Node ${process.version}; ${ops} operations each, values of ${size} bytes over 100 keys; one client, one at a time; ms`,
    );
    console.log(
      `${'backend'.padEnd(9)} ${'operation'.padEnd(22)} ${'median'.padStart(7)} ${'p99'.padStart(7)}`,
    );
    for (const kind of ['memory', 'file', 'postgres', 'redis'] as const) {
      const { store, close } = await open(kind, where[kind]);
      try {
        for (const [op, times] of await latencies(store, ops, size)) {
          console.log(
            `${kind.padEnd(9)} ${op.padEnd(22)} ${fmt(quantile(times, 0.5))} ${fmt(quantile(times, 0.99))}`,
          );
        }
      } finally {
        await close();
      }
    }
    console.log(
      `\nLease handover after kill -9 of the holder (ttl ${ttlMs} ms, renewed every ${Math.round(ttlMs / 3)} ms, waiter polls every 50 ms), ${handovers} runs; ms`,
    );
    console.log(
      `${'backend'.padEnd(9)} ${'kill → granted'.padStart(22)} ${'last renewal → granted'.padStart(26)}`,
    );
    for (const kind of ['file', 'postgres', 'redis'] as const) {
      const afterKill: number[] = [];
      const afterRenewal: number[] = [];
      for (let run = 0; run < handovers; run++) {
        const r = await handover(kind, where[kind], `bench-${kind}-${run}`, ttlMs);
        afterKill.push(r.afterKill);
        afterRenewal.push(r.afterRenewal);
      }
      const show = (xs: number[]) =>
        `median ${quantile(xs, 0.5).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
      console.log(`${kind.padEnd(9)} ${show(afterKill).padStart(22)} ${show(afterRenewal).padStart(26)}`);
    }
  } finally {
    await Promise.all([pg.stop(), redis.stop(), rm(dir, { recursive: true, force: true })]);
  }
}

/** put, get, lock+release and a put under a lease, each timed one call at a time after a warm-up. */
async function latencies(store: Store, ops: number, size: number): Promise<[string, number[]][]> {
  const value = randomBytes(size);
  const key = (i: number) => `bench/k${i % 100}.crt`;
  const time = async (n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < Math.min(50, n); i++) await fn(i); // warm-up: connections, JIT, statement plans
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn(i);
      out.push(performance.now() - t0);
    }
    return out;
  };
  const put = await time(ops, (i) => store.put(key(i), value));
  const putPrivate = await time(ops, (i) => store.put(key(i), value, { private: true }));
  const get = await time(ops, (i) => store.get(key(i)));
  const list = await time(Math.ceil(ops / 10), () => store.list('bench/'));
  const lock: number[] = [];
  const release: number[] = [];
  await time(ops, async (i) => {
    const t0 = performance.now();
    const lease = await store.lock(`bench-${i % 10}`, { ttlMs: 30_000 });
    lock.push(performance.now() - t0);
    const t1 = performance.now();
    await lease.release();
    release.push(performance.now() - t1);
  });
  const lease = await store.lock('bench-fenced', { ttlMs: 60_000 });
  const renew = await time(ops, () => lease.renew());
  const fenced = await time(ops, (i) => store.put(key(i), value, { lease }));
  await lease.release();
  // Only the timed calls: the warm-up's lock/release pairs are dropped.
  const timedLock = lock.slice(-ops);
  const timedRelease = release.slice(-ops);
  return [
    ['put', put],
    ['put private', putPrivate],
    ['get', get],
    ['list (100 keys)', list],
    ['lock (free)', timedLock],
    ['release', timedRelease],
    ['renew', renew],
    ['put under a lease', fenced],
  ];
}

/**
 * A child process takes the lease and renews it; it is killed with SIGKILL right after a renewal
 * (the worst moment for a backend that must wait for the ttl), and this process asks for the lease.
 */
async function handover(
  kind: Kind,
  where: string,
  name: string,
  ttlMs: number,
): Promise<{ afterKill: number; afterRenewal: number }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--hold', kind, name, String(ttlMs)], {
    env: { ...process.env, BENCH_STORE_WHERE: where },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let lastRenewal = 0;
  let renewals = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    lines.on('line', (line) => {
      const [what, , at] = line.split(' ');
      if (what === 'held') lastRenewal = Number(at);
      if (what === 'renewed') {
        lastRenewal = Number(line.split(' ')[1]);
        // Kill right after the second renewal: the lease is as fresh as it gets.
        if (++renewals === 2) resolve();
      }
    });
  });
  const { store, close } = await open(kind, where);
  try {
    child.removeAllListeners('exit');
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited(child);
    const lease = await store.lock(name, { ttlMs, waitMs: ttlMs * 5 });
    const grantedAt = Date.now();
    await lease.release();
    return { afterKill: grantedAt - killedAt, afterRenewal: grantedAt - lastRenewal };
  } finally {
    lines.close();
    await close();
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function fmt(ms: number): string {
  return ms.toFixed(3).padStart(7);
}
