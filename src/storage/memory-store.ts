import { hostname } from 'node:os';
import { FencedWriteError, LockTimeoutError } from '../errors/storage.ts';
import { abortError, throwIfAborted } from '../internal/abort.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import {
  assertSafeKey,
  assertSafeLockName,
  assertSafePrefix,
  assertTtl,
  distinctEntries,
} from './safe-key.ts';
import type {
  Lease,
  LeaseHolder,
  LockOptions,
  PutOptions,
  Store,
  StoreWatchHandler,
  StoreWrite,
  WatchableStore,
} from './store.ts';

export interface MemoryStoreOptions {
  /** Time for lease expiry and waiting; inject a fake one to test expiry without sleeping. */
  clock?: Clock;
  /** Written into leases and shown to waiters; default "<hostname>:<pid>". */
  owner?: string;
  /** How often a waiting lock() looks again (ms); default 10. */
  pollMs?: number;
}

interface Grant {
  readonly owner: string;
  readonly fence: number;
  expiresAt: number;
}

/** "host:123 (PID 123), lease until …": what LockTimeoutError shows about the holder (C7). */
export function describeHolder(holder: LeaseHolder): string {
  const pid = holder.pid === undefined ? '' : ` (PID ${holder.pid})`;
  return `${holder.owner}${pid}, lease until ${holder.expiresAt.toISOString()}`;
}

/** What one attempt found: the lease, or who holds it. */
export type LeaseAttempt = { lease: Lease } | { holder: LeaseHolder };

/**
 * The waiting part of Store.lock, shared by the stores that poll: try, tell onWait once, give up at
 * waitMs (LockTimeoutError naming the holder), sleep pollMs on the clock (honours the signal), retry.
 */
export async function pollForLease(
  name: string,
  opts: LockOptions,
  clock: Clock,
  pollMs: number,
  attempt: () => Promise<LeaseAttempt>,
): Promise<Lease> {
  assertTtl(opts.ttlMs);
  const deadline = opts.waitMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + opts.waitMs;
  let notified = false;
  for (;;) {
    throwIfAborted(opts.signal);
    const found = await attempt();
    if ('lease' in found) return found.lease;
    if (!notified) {
      notified = true;
      opts.onWait?.(found.holder);
    }
    const left = deadline - clock.now();
    if (left <= 0) throw new LockTimeoutError(name, describeHolder(found.holder));
    await clock.sleep(Math.min(pollMs, left), opts.signal);
  }
}

const encoder = new TextEncoder();

/**
 * A Store in one process's memory: for tests and for a single server that keeps nothing across
 * restarts. Values are copied in and out so callers cannot change what is stored. `watch` reports the
 * writes of everyone holding this object (several servers in one process share it like a cluster).
 */
export class MemoryStore implements Store, WatchableStore {
  readonly #data = new Map<string, Uint8Array>();
  readonly #watchers = new Set<{ prefix: string; handler: StoreWatchHandler }>();
  readonly #grants = new Map<string, Grant>();
  // The highest fence ever granted per name survives release, so fences only grow.
  readonly #fences = new Map<string, number>();
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #pollMs: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.#pollMs = options.pollMs ?? 10;
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    throwIfAborted(signal);
    const value = this.#data.get(key);
    return value ? value.slice() : undefined;
  }

  async put(key: string, value: Uint8Array | string, opts: PutOptions = {}): Promise<void> {
    assertSafeKey(key);
    throwIfAborted(opts.signal);
    if (opts.lease && !this.#isCurrent(opts.lease))
      throw new FencedWriteError(opts.lease.name, opts.lease.fence);
    this.#data.set(key, typeof value === 'string' ? encoder.encode(value) : value.slice());
    this.#announce(key);
  }

  /** GroupedWrites: every key of every group, at once. */
  async putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts: { lease?: Lease | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const entries = distinctEntries(groups);
    throwIfAborted(opts.signal);
    if (opts.lease && !this.#isCurrent(opts.lease))
      throw new FencedWriteError(opts.lease.name, opts.lease.fence);
    for (const e of entries)
      this.#data.set(e.key, typeof e.value === 'string' ? encoder.encode(e.value) : e.value.slice());
    for (const e of entries) this.#announce(e.key);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    assertSafeKey(key);
    throwIfAborted(signal);
    if (this.#data.delete(key)) this.#announce(key);
  }

  async watch(prefix: string, handler: StoreWatchHandler, signal: AbortSignal): Promise<void> {
    assertSafePrefix(prefix);
    if (signal.aborted) throw abortError(signal.reason);
    const watcher = { prefix, handler };
    this.#watchers.add(watcher);
    signal.addEventListener('abort', () => this.#watchers.delete(watcher), { once: true });
  }

  // Told after the write, from a microtask, like a backend's notification arriving a moment later.
  #announce(key: string): void {
    for (const watcher of this.#watchers) {
      if (!key.startsWith(watcher.prefix)) continue;
      queueMicrotask(() => {
        if (!this.#watchers.has(watcher)) return;
        try {
          watcher.handler.change(key);
        } catch {
          // a handler's failure is its own
        }
      });
    }
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    assertSafePrefix(prefix);
    throwIfAborted(signal);
    return [...this.#data.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async lock(name: string, opts: LockOptions): Promise<Lease> {
    assertSafeLockName(name);
    return pollForLease(name, opts, this.#clock, this.#pollMs, async () => {
      const now = this.#clock.now();
      const held = this.#grants.get(name);
      if (!held || held.expiresAt <= now) return { lease: this.#grant(name, opts.ttlMs, now) };
      return { holder: { owner: held.owner, expiresAt: new Date(held.expiresAt) } };
    });
  }

  #grant(name: string, ttlMs: number, now: number): Lease {
    const fence = (this.#fences.get(name) ?? 0) + 1;
    const grant: Grant = { owner: this.#owner, fence, expiresAt: now + ttlMs };
    this.#fences.set(name, fence);
    this.#grants.set(name, grant);
    const ours = (): boolean => this.#grants.get(name) === grant;
    return {
      name,
      fence,
      owner: grant.owner,
      renew: async () => {
        if (!ours()) throw new FencedWriteError(name, fence);
        grant.expiresAt = this.#clock.now() + ttlMs;
      },
      release: async () => {
        if (ours()) this.#grants.delete(name);
      },
    };
  }

  // Still the newest grant and not released; an expired lease nobody took over still counts.
  #isCurrent(lease: Lease): boolean {
    const grant = this.#grants.get(lease.name);
    return grant !== undefined && grant.fence === lease.fence && grant.owner === lease.owner;
  }
}
