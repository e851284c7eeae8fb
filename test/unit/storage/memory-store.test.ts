import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LockTimeoutError } from '../../../src/errors/storage.ts';
import type { Clock } from '../../../src/internal/clock.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { storeContract } from '../../contract/store.contract.ts';

storeContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));

/** A clock whose sleep moves time forward at once: lease expiry without waiting. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = Date.UTC(2030, 0, 1);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

test('memory store: expiry and waitMs follow the injected clock, not the wall clock', async () => {
  const clock = fakeClock();
  const store = new MemoryStore({ clock, owner: 'a' });
  const a = await store.lock('x', { ttlMs: 60_000 });
  await assert.rejects(store.lock('x', { ttlMs: 1000, waitMs: 30_000 }), LockTimeoutError);
  clock.advance(30_000);
  const b = await store.lock('x', { ttlMs: 1000, waitMs: 60_000 });
  assert.equal(b.fence, a.fence + 1);
  const holders: string[] = [];
  const c = await store.lock('x', { ttlMs: 1000, onWait: (h) => holders.push(h.owner) });
  assert.deepEqual(holders, ['a']);
  assert.equal(c.fence, b.fence + 1);
});
