import type { Store } from '../storage/store.ts';

/**
 * Challenge answers shared through the store, so that in a cluster any process answers the CA, not
 * only the one that placed the order (certmagic calls this a distributed solver). The answering side
 * looks up only what could be a real challenge, remembers misses for a moment, and bounds how many
 * lookups run at once, so a stream of junk requests costs little and never waits on the store for long.
 */

/** Where an http-01 key authorization lives: `challenges/http-01/<token>` (the value is the key authorization). */
export function httpChallengeKey(token: string): string {
  return `challenges/http-01/${token}`;
}

/** Where a tls-alpn-01 challenge certificate lives: `challenges/tls-alpn-01/<server name>` (JSON, private). */
export function tlsAlpnChallengeKey(serverName: string): string {
  return `challenges/tls-alpn-01/${serverName}`;
}

// RFC 8555 §8.1: at least 128 bits of entropy in base64url without padding (22+ characters). 128 is
// more than any CA sends and keeps junk short.
const TOKEN = /^[A-Za-z0-9_-]{22,128}$/;
// A DNS name as a CA puts it in SNI (names and the in-addr.arpa / ip6.arpa forms of IP addresses):
// LDH labels, lower case, no trailing dot; at most 200 bytes so it fits one store key segment.
const SERVER_NAME =
  /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A string that can be an ACME challenge token; nothing else is ever looked up. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN.test(token);
}

/** A normalised server name that can carry a tls-alpn-01 challenge and be a store key. */
export function isWellFormedServerName(name: string): boolean {
  return SERVER_NAME.test(name);
}

export interface SharedLookupOptions {
  /** How long a miss is remembered (ms); default 2000. A hit is kept as long. */
  cacheMs?: number;
  /** Lookups in flight at once; more are refused without asking the store. Default 16. */
  maxInflight?: number;
  /** Remembered answers at most (oldest forgotten first). Default 10,000. */
  maxCached?: number;
  /** Give up on one lookup after this long (ms), counted as a miss; default 3000. */
  timeoutMs?: number;
  now?: () => number;
}

/** What a lookup found: the value, nothing, or no room to ask now. */
export type LookupResult<T> = { found: T } | { missing: true } | { busy: true };

/**
 * Reads `key` from the store and turns its bytes into T (or undefined when they do not fit), with a
 * short cache of hits and misses, one store read per key at a time, and a bound on reads in flight.
 */
export class SharedLookup<T> {
  readonly #store: Store;
  readonly #decode: (bytes: Uint8Array, name: string) => T | undefined;
  readonly #cache = new Map<string, { value: T | undefined; until: number }>();
  readonly #inflight = new Map<string, Promise<T | undefined>>();
  readonly #cacheMs: number;
  readonly #maxInflight: number;
  readonly #maxCached: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** Store reads made so far (status and tests). */
  reads = 0;

  constructor(
    store: Store,
    decode: (bytes: Uint8Array, name: string) => T | undefined,
    options: SharedLookupOptions = {},
  ) {
    this.#store = store;
    this.#decode = decode;
    this.#cacheMs = options.cacheMs ?? 2000;
    this.#maxInflight = options.maxInflight ?? 16;
    this.#maxCached = options.maxCached ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a lookup of `name` would run (or is answered from the cache) rather than be refused as busy. */
  hasRoom(name: string): boolean {
    return (
      this.#cached(name) !== undefined || this.#inflight.has(name) || this.#inflight.size < this.#maxInflight
    );
  }

  /** The cached answer, if still fresh: `{ value }` (value undefined for a remembered miss). */
  peek(name: string): { value: T | undefined } | undefined {
    return this.#cached(name);
  }

  async lookup(name: string, key: string): Promise<LookupResult<T>> {
    const cached = this.#cached(name);
    if (cached) return cached.value === undefined ? { missing: true } : { found: cached.value };
    let running = this.#inflight.get(name);
    if (!running) {
      if (this.#inflight.size >= this.#maxInflight) return { busy: true };
      running = this.#read(name, key).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, running);
    }
    const value = await running;
    return value === undefined ? { missing: true } : { found: value };
  }

  /** Forgets what is remembered about `name` (this process presented or cleaned it up itself). */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  async #read(name: string, key: string): Promise<T | undefined> {
    this.reads++;
    let value: T | undefined;
    try {
      const bytes = await this.#store.get(key, AbortSignal.timeout(this.#timeoutMs));
      value = bytes === undefined ? undefined : this.#decode(bytes, name);
    } catch {
      // The store is down or slow: a miss for now (not remembered), the server keeps serving.
      return undefined;
    }
    this.#cache.delete(name);
    this.#cache.set(name, { value, until: this.#now() + this.#cacheMs });
    if (this.#cache.size > this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return value;
  }

  #cached(name: string): { value: T | undefined } | undefined {
    const entry = this.#cache.get(name);
    if (!entry) return undefined;
    if (entry.until > this.#now()) return { value: entry.value };
    this.#cache.delete(name);
    return undefined;
  }
}
