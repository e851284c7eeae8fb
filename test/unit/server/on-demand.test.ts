import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { OnDemandRefusedError } from '../../../src/errors/server.ts';
import type { Clock } from '../../../src/internal/clock.ts';
import { systemClock } from '../../../src/internal/clock.ts';
import { silentLogger } from '../../../src/internal/logger.ts';
import { OnDemand, type OnDemandOptions } from '../../../src/server/on-demand.ts';

function setup(opts: Partial<OnDemandOptions>, obtain: (name: string) => Promise<void> = async () => {}) {
  let now = 1_000_000;
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const obtained: string[] = [];
  const od = new OnDemand(
    { allow: () => true, ...opts },
    {
      logger: silentLogger,
      clock,
      loadStored: async () => false,
      obtain: async (name) => {
        obtained.push(name);
        await obtain(name);
      },
    },
  );
  return { od, obtained, advance: (ms: number) => (now += ms) };
}

test('E2: without allow() on-demand refuses to exist', () => {
  assert.throws(() => setup({ allow: undefined as never }), InvalidInputError);
});

test('E4: concurrent requests for one name share one attempt', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { od, obtained } = setup({}, () => gate);
  const all = Promise.all(Array.from({ length: 50 }, () => od.certificateFor('a.example.com')));
  await new Promise((r) => setImmediate(r));
  release();
  await all;
  assert.deepEqual(obtained, ['a.example.com']);
  assert.equal(od.ordersStarted, 1);
});

test('E5: a "no" is cached; throwing or slow decisions count as "no"', async () => {
  let asked = 0;
  const { od, advance } = setup({
    allow: () => {
      asked++;
      return false;
    },
    denyCacheMs: 1_000,
  });
  for (let i = 0; i < 5; i++) await assert.rejects(od.certificateFor('x.example.com'), OnDemandRefusedError);
  assert.equal(asked, 1);
  advance(1_001);
  await assert.rejects(od.certificateFor('x.example.com'));
  assert.equal(asked, 2);

  const throwing = setup({
    allow: () => {
      throw new Error('db down');
    },
  });
  await assert.rejects(throwing.od.certificateFor('y.example.com'), /not allowed/);
  const slow = setup({ allow: () => new Promise<boolean>(() => {}), decisionTimeoutMs: 20 });
  await assert.rejects(slow.od.certificateFor('z.example.com'), /not allowed/);
  assert.equal(slow.obtained.length, 0);
});

test('names that cannot be ordered are refused before allow(): IPs, wildcards, single labels, junk', async () => {
  let asked = 0;
  const { od } = setup({
    allow: () => {
      asked++;
      return true;
    },
  });
  for (const name of ['127.0.0.1', '*.example.com', 'localhost', 'a..b.example', 'xn--zz.-bad', '']) {
    await assert.rejects(od.certificateFor(name), OnDemandRefusedError, name);
  }
  assert.equal(asked, 0);
});

test('E6: global rate limit and per-name failure backoff fail fast', async () => {
  // maxWaitMs 0: no waiting for a slot (the default waits; see the next test).
  const { od, obtained, advance } = setup({ rateLimit: { orders: 2, intervalMs: 10_000, maxWaitMs: 0 } });
  await od.certificateFor('a.example.com');
  await od.certificateFor('b.example.com');
  await assert.rejects(od.certificateFor('c.example.com'), /rate limited/);
  advance(10_001);
  await od.certificateFor('c.example.com');
  assert.deepEqual(obtained, ['a.example.com', 'b.example.com', 'c.example.com']);

  const failing = setup({ failureBackoff: { minMs: 1_000, maxMs: 1_000 } }, async () => {
    throw new Error('CA said no');
  });
  await assert.rejects(failing.od.certificateFor('f.example.com'), /ordering failed: CA said no/);
  await assert.rejects(failing.od.certificateFor('f.example.com'), /earlier attempt failed/);
  assert.equal(failing.obtained.length, 1);
  failing.advance(1_001);
  await assert.rejects(failing.od.certificateFor('f.example.com'), /ordering failed/);
  assert.equal(failing.obtained.length, 2);
});

test('E6: beyond the rate limit an order waits for a slot, freed intervalMs after an earlier order ended; hopeless waits fail fast', async (t) => {
  // The limiter's timers are unref'd (in a server, the waiting handshakes' sockets keep the process up).
  const keepAlive = setInterval(() => {}, 1_000);
  t.after(() => clearInterval(keepAlive));
  const runs: { name: string; start: number; end: number }[] = [];
  let hold: Promise<void> = Promise.resolve();
  const od = new OnDemand(
    { allow: () => true, rateLimit: { orders: 1, intervalMs: 100, maxWaitMs: 250 } },
    {
      logger: silentLogger,
      clock: systemClock,
      loadStored: async () => false,
      obtain: async (name) => {
        const start = Date.now();
        await hold;
        await new Promise((r) => setTimeout(r, 20));
        runs.push({ name, start, end: Date.now() });
      },
    },
  );
  await Promise.all([od.certificateFor('a.example.com'), od.certificateFor('b.example.com')]);
  assert.deepEqual(
    runs.map((r) => r.name),
    ['a.example.com', 'b.example.com'],
  );
  assert.ok(runs[1]!.start - runs[0]!.end >= 100, 'b started 100 ms after a ended');

  // One order running for good: its slot frees 100 ms after it ends at the soonest, and 100 ms per
  // order after that, so 2 may wait (turns at ≥ 100 and ≥ 200 ms of 250); the 3rd is refused at once,
  // and the waiting ones give up after maxWaitMs.
  let release!: () => void;
  hold = new Promise((r) => (release = r));
  await new Promise((r) => setTimeout(r, 110)); // b's slot is free again
  const running = od.certificateFor('c.example.com');
  const waiting = ['d', 'e'].map((n) => od.certificateFor(`${n}.example.com`));
  const started = Date.now();
  await assert.rejects(
    od.certificateFor('f.example.com'),
    /rate limited: .*2 names waiting already, no slot within 250 ms/,
  );
  assert.ok(Date.now() - started < 50);
  for (const w of waiting) await assert.rejects(w, /no order slot within 250 ms/);
  release();
  await running;

  // close() refuses whoever waits, at once.
  hold = new Promise(() => {});
  void od.certificateFor('h.example.com').catch(() => {});
  await new Promise((r) => setTimeout(r, 10));
  const queued = od.certificateFor('i.example.com');
  od.close();
  await assert.rejects(queued, /closed/);
});
