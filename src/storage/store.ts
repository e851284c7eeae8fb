/**
 * Where acmekit keeps accounts, keys and certificates: bytes by key, plus leases so one process at a
 * time renews a certificate. Implementations: file (lego's layout, the default), memory, and for
 * clusters PostgreSQL and Redis. Every implementation runs the shared suite in test/contract/.
 *
 * Guarantees every Store MUST give:
 * - Keys are relative paths of non-empty segments joined by "/" (e.g. "certificates/example.com.crt");
 *   a key with "..", "." or empty segments, a leading "/", a backslash or NUL is refused with InvalidInputError.
 * - `put` is atomic: a concurrent or later `get` sees the old bytes or the new bytes, never a mix, also
 *   after a crash at any moment. `put` with `{ private: true }` stores the value readable by its owner only.
 * - `get` of a missing key resolves undefined; `delete` of a missing key resolves (no error).
 * - `list(prefix)` returns every stored key starting with prefix, sorted; temp files are never listed.
 * - `lock(name, ttlMs)` waits until it holds the lease (polling, honouring the signal) and resolves with
 *   a Lease whose `fence` is larger than that of every earlier grant of the same name. A lease not
 *   renewed within ttlMs may be granted to someone else; a holder that died (process gone) frees it at once
 *   where the backend can tell.
 * - Every method honours its AbortSignal.
 *
 * Stores shared by several processes MAY also implement WatchableStore (below), so that a write by one
 * process reaches the others within moments; callers find it with `isWatchable(store)`.
 */
export interface Store {
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array | string, opts?: PutOptions): Promise<void>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  list(prefix: string, signal?: AbortSignal): Promise<string[]>;
  lock(name: string, opts: LockOptions): Promise<Lease>;
}

export interface PutOptions {
  /** Secret material (private keys, account credentials): owner-only (file mode 0600). */
  private?: boolean;
  /** Refuse the write (FencedWriteError) unless this lease is still the newest grant. */
  lease?: Lease;
  signal?: AbortSignal;
}

export interface LockOptions {
  /** A lease not renewed within this time may be taken over. */
  ttlMs: number;
  /** Give up waiting after this long (LockTimeoutError); default: wait until the signal fires. */
  waitMs?: number;
  signal?: AbortSignal;
  /** Called once when the lock is held by someone else, with what is known about the holder. */
  onWait?: (holder: LeaseHolder) => void;
}

export interface LeaseHolder {
  owner: string;
  pid?: number;
  expiresAt: Date;
}

export interface Lease {
  readonly name: string;
  /** Grows with every grant of this name; writes under an older fence are refused. */
  readonly fence: number;
  readonly owner: string;
  /** Extends the lease by its ttl; rejects (FencedWriteError) when it was lost meanwhile. */
  renew(): Promise<void>;
  /** Frees the lease; harmless when already lost or released. */
  release(): Promise<void>;
}

/**
 * Optional capability of a shared store: tells this process about writes made by any process on the
 * same backend (PostgreSQL LISTEN/NOTIFY, Redis pub/sub, in-process for MemoryStore). The server uses
 * it to load a certificate another process renewed within seconds instead of at its next check.
 *
 * Guarantees a WatchableStore MUST give:
 * - `watch` resolves once the subscription is active; from then on, every successful `put` and `delete`
 *   of a key starting with `prefix`, by any Store object on the backend (this one included), reaches
 *   `handler.change(key)` while the subscription holds. A refused write (FencedWriteError) is not reported.
 * - A lost subscription is re-established by the store itself, with backoff, until `signal` fires;
 *   `handler.error` hears why it was lost, and `handler.resync()` is called each time it is active again,
 *   because changes made meanwhile were missed: the caller re-reads what it depends on.
 * - It rejects only when `signal` fires before the first subscription (or when the store was built
 *   without a way to subscribe, with InvalidInputError saying what to pass); after that it never throws.
 * - Delivery is a hint, not a log: a change MAY be reported more than once, and a burst of writes to
 *   one key MAY arrive as fewer reports. Callers keep a slower periodic check as the safety net.
 * - Handlers are called outside the store's own work; a handler that throws is ignored.
 */
export interface WatchableStore {
  watch(prefix: string, handler: StoreWatchHandler, signal: AbortSignal): Promise<void>;
}

export interface StoreWatchHandler {
  /** `key` (starting with the watched prefix) was put or deleted. */
  change(key: string): void;
  /** The subscription is active again after a loss: changes may have been missed, re-read. */
  resync(): void;
  /** The subscription was lost or could not be made; the store retries by itself. For logging. */
  error?(err: Error): void;
}

/** One key to write, as Store.put's arguments. */
export interface StoreWrite {
  key: string;
  value: Uint8Array | string;
  private?: boolean;
}

/**
 * Optional capability of a store: write several keys in ordered groups, each key atomically, every key
 * of a group in place before any key of the next group. FileStore writes a group's files at once (a crash
 * may leave some of one group new and some old); PostgresStore and RedisStore write all groups as one
 * statement or script: all keys or none. Under a lease that is no longer current nothing is written
 * (FencedWriteError). A key given twice is refused (InvalidInputError) before anything is written.
 */
export interface GroupedWrites {
  putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts?: { lease?: Lease | undefined; signal?: AbortSignal | undefined },
  ): Promise<void>;
}

export function canPutAll(store: Store): store is Store & GroupedWrites {
  return typeof (store as Partial<GroupedWrites>).putAll === 'function';
}

/** True when `store` can tell about other processes' writes (see WatchableStore). */
export function isWatchable(store: Store): store is Store & WatchableStore {
  return typeof (store as Partial<WatchableStore>).watch === 'function';
}
