import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../../../src/errors/base.ts';
import type { Clock } from '../../../src/internal/clock.ts';
import { silentLogger } from '../../../src/internal/logger.ts';
import { OnDemand, type OnDemandOptions, OnDemandRefusedError } from '../../../src/server/on-demand.ts';

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
  const { od, obtained, advance } = setup({ rateLimit: { orders: 2, intervalMs: 10_000 } });
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
