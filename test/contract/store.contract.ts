import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, InvalidInputError } from '../../src/errors/base.ts';
import { FencedWriteError, LockTimeoutError } from '../../src/errors/storage.ts';
import { canPutAll, isWatchable, type LeaseHolder, type Store } from '../../src/storage/store.ts';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');

const BAD_KEYS = [
  '',
  '/etc/passwd',
  'a/',
  'a//b',
  '.',
  '..',
  'a/../b',
  './a',
  'a/./b',
  'a\\b',
  'a\0b',
  'a\nb',
  'a\u007fb',
  'x'.repeat(2000),
  `a/${'y'.repeat(300)}`,
  '.locks/x',
  'certificates/.example.com.crt.0123456789ab.tmp',
];

/** The suite every Store runs (STYLE.md habit 12): the guarantees of src/storage/store.ts, as tests. */
export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await make();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`Store contract: ${name}`, () => {
    test(
      'put then get returns the same bytes, for bytes and for strings',
      withStore(async (store) => {
        const bytes = new Uint8Array([0, 1, 2, 254, 255]);
        await store.put('accounts/a/keys/a.key', bytes, { private: true });
        await store.put('certificates/example.com.crt', 'héllo\n');
        assert.deepEqual(await store.get('accounts/a/keys/a.key'), bytes);
        assert.equal(text(await store.get('certificates/example.com.crt')), 'héllo\n');
        bytes[0] = 9;
        assert.equal((await store.get('accounts/a/keys/a.key'))?.[0], 0, 'the store keeps its own copy');
      }),
    );

    test(
      'put overwrites; a missing key reads undefined; delete is idempotent',
      withStore(async (store) => {
        assert.equal(await store.get('certificates/none.crt'), undefined);
        await store.put('certificates/a.crt', 'one');
        await store.put('certificates/a.crt', 'two, longer than one');
        await store.put('certificates/a.crt', 'three');
        assert.equal(text(await store.get('certificates/a.crt')), 'three');
        await store.delete('certificates/a.crt');
        assert.equal(await store.get('certificates/a.crt'), undefined);
        await store.delete('certificates/a.crt');
        await store.delete('never/was.here');
      }),
    );

    test(
      'list returns the keys under a prefix, sorted',
      withStore(async (store) => {
        for (const key of [
          'certificates/b.crt',
          'certificates/a.key',
          'certificates/a.crt',
          'accounts/x.json',
        ]) {
          await store.put(key, key);
        }
        await store.put('certificates/sub/c.crt', 'c');
        assert.deepEqual(await store.list('certificates/'), [
          'certificates/a.crt',
          'certificates/a.key',
          'certificates/b.crt',
          'certificates/sub/c.crt',
        ]);
        assert.deepEqual(await store.list('certificates/a'), ['certificates/a.crt', 'certificates/a.key']);
        assert.deepEqual(await store.list('acc'), ['accounts/x.json']);
        assert.equal((await store.list('')).length, 5);
        assert.deepEqual(await store.list('nothing/'), []);
      }),
    );

    test(
      'bad keys, prefixes and lock names are refused with InvalidInputError naming them',
      withStore(async (store) => {
        for (const key of BAD_KEYS) {
          for (const call of [() => store.get(key), () => store.put(key, 'x'), () => store.delete(key)]) {
            await assert.rejects(call(), (err: unknown) => {
              assert.ok(err instanceof InvalidInputError, `${JSON.stringify(key)}: ${err}`);
              assert.equal(err.value, key);
              return true;
            });
          }
        }
        await assert.rejects(store.list('../'), InvalidInputError);
        await assert.rejects(store.list('/abs'), InvalidInputError);
        for (const lockName of ['a/b', '..', '', 'a\\b']) {
          await assert.rejects(store.lock(lockName, { ttlMs: 1000 }), InvalidInputError);
        }
        await assert.rejects(store.lock('ok', { ttlMs: 0 }), InvalidInputError);
        assert.deepEqual(await store.list(''), []);
      }),
    );

    test(
      'concurrent puts never leave a mix, and list never shows writes in flight',
      withStore(async (store) => {
        const values = Array.from({ length: 8 }, (_, i) => new Uint8Array(256 * 1024).fill(i + 1));
        await store.put('certificates/big.crt', values[0]!);
        const seen: (Uint8Array | undefined)[] = [];
        const lists: string[][] = [];
        await Promise.all([
          ...values.map((v) => store.put('certificates/big.crt', v)),
          ...values.map(async () => seen.push(await store.get('certificates/big.crt'))),
          ...values.map(async () => lists.push(await store.list('certificates/'))),
        ]);
        seen.push(await store.get('certificates/big.crt'));
        for (const got of seen) {
          assert.ok(got && got.length === 256 * 1024, 'whole value');
          assert.ok(
            got.every((b) => b === got[0]),
            'one writer’s bytes only',
          );
        }
        for (const keys of lists) assert.deepEqual(keys, ['certificates/big.crt']);
      }),
    );

    test(
      'every method honours an aborted signal',
      withStore(async (store) => {
        const signal = AbortSignal.abort();
        await assert.rejects(store.get('a', signal), AbortedError);
        await assert.rejects(store.put('a', 'x', { signal }), AbortedError);
        await assert.rejects(store.delete('a', signal), AbortedError);
        await assert.rejects(store.list('', signal), AbortedError);
        await assert.rejects(store.lock('l', { ttlMs: 1000, signal }), AbortedError);
        assert.equal(await store.get('a'), undefined);
      }),
    );

    test(
      'a lock is exclusive: the second waits until release and gets a larger fence',
      withStore(async (store) => {
        const a = await store.lock('renew', { ttlMs: 10_000 });
        const holders: LeaseHolder[] = [];
        let bDone = false;
        const b = store.lock('renew', { ttlMs: 10_000, onWait: (h) => holders.push(h) }).then((lease) => {
          bDone = true;
          return lease;
        });
        await sleep(150);
        assert.equal(bDone, false, 'B must wait while A holds the lock');
        assert.equal(holders.length, 1, 'onWait is called once');
        assert.equal(holders[0]?.owner, a.owner);
        assert.ok(holders[0]!.expiresAt.getTime() > Date.now());
        await a.release();
        const lease = await b;
        assert.ok(lease.fence > a.fence);
        await a.release(); // harmless when already released
        await assert.rejects(store.lock('renew', { ttlMs: 1000, waitMs: 50 }), LockTimeoutError);
        await lease.release();
        const c = await store.lock('renew', { ttlMs: 1000, waitMs: 0 });
        assert.ok(c.fence > lease.fence);
        await c.release();
      }),
    );

    test(
      'C9: a lease not renewed within ttl goes to the next taker, with a larger fence',
      withStore(async (store) => {
        const a = await store.lock('expiry', { ttlMs: 150 });
        const started = Date.now();
        const b = await store.lock('expiry', { ttlMs: 10_000, waitMs: 3000 });
        assert.ok(Date.now() - started >= 100, 'B got it only after A’s ttl');
        assert.ok(b.fence > a.fence);
        await b.release();
      }),
    );

    test(
      'renew keeps the lease past its ttl',
      withStore(async (store) => {
        const a = await store.lock('kept', { ttlMs: 400 });
        const renewing = (async () => {
          for (let i = 0; i < 8; i++) {
            await sleep(100);
            await a.renew();
          }
        })();
        await assert.rejects(store.lock('kept', { ttlMs: 1000, waitMs: 700 }), LockTimeoutError);
        await renewing;
        await a.release();
        const b = await store.lock('kept', { ttlMs: 1000, waitMs: 0 });
        assert.ok(b.fence > a.fence);
        await b.release();
      }),
    );

    test(
      'C10: fencing: a holder whose lease was taken over cannot write, renew or release the new lease',
      withStore(async (store) => {
        const a = await store.lock('fenced', { ttlMs: 100 });
        await store.put('certificates/f.crt', 'A1', { lease: a });
        await sleep(200);
        const b = await store.lock('fenced', { ttlMs: 10_000, waitMs: 0 });
        assert.ok(b.fence > a.fence);
        await store.put('certificates/f.crt', 'B', { lease: b });
        await assert.rejects(store.put('certificates/f.crt', 'A2', { lease: a }), FencedWriteError);
        await assert.rejects(a.renew(), FencedWriteError);
        await a.release();
        assert.equal(text(await store.get('certificates/f.crt')), 'B');
        await assert.rejects(store.lock('fenced', { ttlMs: 1000, waitMs: 50 }), LockTimeoutError);
        await b.release();
        await assert.rejects(store.put('certificates/f.crt', 'B2', { lease: b }), FencedWriteError);
        assert.equal(text(await store.get('certificates/f.crt')), 'B');
      }),
    );

    test(
      'an expired lease nobody took over still writes and renews',
      withStore(async (store) => {
        const a = await store.lock('late', { ttlMs: 100 });
        await sleep(200);
        await store.put('certificates/late.crt', 'A', { lease: a });
        await a.renew();
        await assert.rejects(store.lock('late', { ttlMs: 1000, waitMs: 20 }), LockTimeoutError);
        await a.release();
      }),
    );

    test(
      'C8: concurrent lock() callers: exactly one holds at a time, each grant with a larger fence',
      withStore(async (store) => {
        let inside = 0;
        let most = 0;
        const fences: number[] = [];
        await Promise.all(
          Array.from({ length: 5 }, async () => {
            const lease = await store.lock('many', { ttlMs: 10_000, waitMs: 5000 });
            inside++;
            most = Math.max(most, inside);
            fences.push(lease.fence);
            await store.put('certificates/many.crt', String(lease.fence), { lease });
            await sleep(10);
            inside--;
            await lease.release();
          }),
        );
        assert.equal(most, 1);
        assert.deepEqual(
          fences,
          [...fences].sort((a, b) => a - b),
        );
        assert.equal(new Set(fences).size, 5);
        assert.equal(text(await store.get('certificates/many.crt')), String(fences.at(-1)));
      }),
    );

    test(
      'waiting honours the signal (AbortedError) and waitMs (LockTimeoutError naming the holder)',
      withStore(async (store) => {
        const a = await store.lock('busy', { ttlMs: 10_000 });
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100);
        const started = Date.now();
        await assert.rejects(store.lock('busy', { ttlMs: 1000, signal: ac.signal }), AbortedError);
        assert.ok(Date.now() - started < 2000);
        await assert.rejects(store.lock('busy', { ttlMs: 1000, waitMs: 100 }), (err: unknown) => {
          assert.ok(err instanceof LockTimeoutError);
          assert.equal(err.lockName, 'busy');
          assert.ok(err.message.includes(a.owner), err.message);
          return true;
        });
        await a.release();
      }),
    );

    test(
      'watch (when the store has it): reports puts and deletes under the prefix, not refused writes, until aborted',
      withStore(async (store) => {
        if (!isWatchable(store)) return;
        const seen: string[] = [];
        const ac = new AbortController();
        await store.watch('certificates/', { change: (key) => seen.push(key), resync: () => {} }, ac.signal);
        const until = async (what: string, done: () => boolean) => {
          const deadline = Date.now() + 5000;
          while (!done()) {
            assert.ok(Date.now() < deadline, `timed out waiting for ${what}; saw ${JSON.stringify(seen)}`);
            await sleep(10);
          }
        };
        await store.put('accounts/a.json', 'not watched');
        await store.put('certificates/w.crt', 'one');
        await until('the put', () => seen.includes('certificates/w.crt'));
        const a = await store.lock('watched', { ttlMs: 100 });
        await sleep(200);
        const b = await store.lock('watched', { ttlMs: 10_000, waitMs: 0 });
        await assert.rejects(store.put('certificates/refused.crt', 'A', { lease: a }), FencedWriteError);
        await store.put('certificates/fenced.crt', 'B', { lease: b });
        await store.delete('certificates/w.crt');
        await store.delete('certificates/never-was.crt');
        await until('the delete', () => seen.filter((k) => k === 'certificates/w.crt').length >= 2);
        assert.ok(seen.includes('certificates/fenced.crt'));
        assert.ok(!seen.includes('certificates/refused.crt'), 'a refused write is not reported');
        assert.ok(!seen.includes('certificates/never-was.crt'), 'deleting nothing is not a change');
        assert.ok(!seen.includes('accounts/a.json'), 'keys outside the prefix are not reported');
        await b.release();
        ac.abort();
        await sleep(50);
        const before = seen.length;
        await store.put('certificates/after.crt', 'x');
        await sleep(300);
        assert.equal(seen.length, before, 'nothing is reported after the signal fired');
        await assert.rejects(
          store.watch('certificates/', { change: () => {}, resync: () => {} }, AbortSignal.abort()),
          AbortedError,
        );
      }),
    );

    test(
      'putAll (where the store has it) writes every group; under a lost lease, or with a key twice, it writes nothing',
      withStore(async (store) => {
        if (!canPutAll(store)) return;
        await store.put('certificates/g.crt', 'old crt');
        await store.put('certificates/g.key', 'old key', { private: true });
        const a = await store.lock('grouped', { ttlMs: 100 });
        await store.putAll(
          [
            [
              { key: 'certificates/g.crt', value: 'A crt' },
              { key: 'certificates/g.key', value: new TextEncoder().encode('A key'), private: true },
            ],
            [{ key: 'certificates/g.json', value: '{"a":1}' }],
          ],
          { lease: a },
        );
        assert.deepEqual(
          await Promise.all(
            ['crt', 'key', 'json'].map(async (x) => text(await store.get(`certificates/g.${x}`))),
          ),
          ['A crt', 'A key', '{"a":1}'],
        );
        assert.deepEqual(await store.list('certificates/g.'), [
          'certificates/g.crt',
          'certificates/g.json',
          'certificates/g.key',
        ]);
        await sleep(200);
        const b = await store.lock('grouped', { ttlMs: 10_000, waitMs: 0 });
        const stale = [
          [
            { key: 'certificates/g.crt', value: 'stale crt' },
            { key: 'certificates/g.key', value: 'stale key', private: true },
          ],
          [{ key: 'certificates/g2.json', value: '{}' }],
        ];
        await assert.rejects(store.putAll(stale, { lease: a }), FencedWriteError);
        await assert.rejects(
          store.putAll(
            [[{ key: 'certificates/g.crt', value: 'x' }], [{ key: 'certificates/g.crt', value: 'y' }]],
            {
              lease: b,
            },
          ),
          InvalidInputError,
        );
        await assert.rejects(
          store.putAll(
            [
              [
                { key: 'certificates/g.crt', value: 'x' },
                { key: '../escape', value: 'y' },
              ],
            ],
            { lease: b },
          ),
          InvalidInputError,
        );
        assert.equal(
          text(await store.get('certificates/g.crt')),
          'A crt',
          'nothing of a refused putAll is written',
        );
        assert.equal(text(await store.get('certificates/g.key')), 'A key');
        assert.equal(await store.get('certificates/g2.json'), undefined);
        await store.putAll([[{ key: 'certificates/g.crt', value: 'B crt' }]], { lease: b });
        assert.equal(text(await store.get('certificates/g.crt')), 'B crt');
        await b.release();
      }),
    );
  });
}
