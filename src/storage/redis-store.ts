import { hostname } from 'node:os';
import { InvalidInputError } from '../errors/base.ts';
import { FencedWriteError, StorageError } from '../errors/storage.ts';
import { abortable, throwIfAborted } from '../internal/abort.ts';
import { systemClock } from '../internal/clock.ts';
import { backendFailure, urlScrubber } from './backend-error.ts';
import { type ChannelSubscriber, watchChannel } from './channel-watch.ts';
import { type LeaseAttempt, pollForLease } from './memory-store.ts';
import { DELETE, LOCK, PUT, PUT_ALL, RELEASE, RENEW, type RedisScript } from './redis-scripts.ts';
import { nodeRedisSubscriber, type RedisPubSubClient } from './redis-subscriber.ts';
import { assertSafeKey, assertSafeLockName, assertSafePrefix, distinctEntries } from './safe-key.ts';
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

export type { ChannelEvents, ChannelSubscriber } from './channel-watch.ts';
export { nodeRedisSubscriber, type RedisPubSubClient } from './redis-subscriber.ts';

/**
 * The one thing acmekit needs from a Redis client: send a command, get the reply. Bulk-string replies
 * MUST come back as bytes (Buffer or Uint8Array), since values are binary; integers as numbers, nil as
 * null, errors as a rejected promise whose message starts with Redis's error code ("NOSCRIPT …").
 *
 * An @redis/client (node-redis 5+) you already run:
 *   const store = new RedisStore({
 *     sendCommand: (args) => client.sendCommand(args, { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }),
 *   });
 * ioredis:
 *   const store = new RedisStore({ sendCommand: ([name, ...rest]) => redis.callBuffer(name, ...rest) });
 * Give the client a way to fail fast while disconnected (node-redis `disableOfflineQueue: true`,
 * ioredis `enableOfflineQueue: false`), or calls wait for the reconnect instead of failing.
 */
export interface RedisLike {
  sendCommand(args: (string | Buffer)[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  /**
   * Start of every Redis key of this installation; default "acmekit:". The scripts touch several keys
   * at once, so on Redis Cluster put the prefix in a hash tag ("{acmekit}:") to keep them in one slot.
   */
  prefix?: string;
  /** Written into leases and shown to waiters; default "<hostname>:<pid>". */
  owner?: string;
  /** How often a waiting lock() asks again (ms); default 50. */
  pollMs?: number;
  /** Removes secrets from client messages; `connect()` sets one for the URL's password. */
  scrub?: (text: string) => string;
  /**
   * How `watch()` subscribes to `<prefix>changes`, on a connection of its own: with node-redis,
   * `nodeRedisSubscriber(() => client.duplicate())`. `connect()` sets it up. Without it, `watch()`
   * refuses and servers fall back to periodic checks.
   */
  subscriber?: ChannelSubscriber;
}

export interface RedisConnectOptions extends RedisStoreOptions {
  /** Give up connecting after this long (ms); default 5000. */
  connectTimeoutMs?: number;
}

const encoder = new TextEncoder();
const asBuffer = (value: Uint8Array | string): Buffer =>
  Buffer.from(typeof value === 'string' ? encoder.encode(value) : value);
const asText = (reply: unknown): string =>
  reply instanceof Uint8Array ? Buffer.from(reply).toString('utf8') : String(reply);
// 0xff never occurs in UTF-8, so "[prefix" … "(prefix\xff" is exactly the keys starting with prefix.
const LEX_END = Buffer.from([0xff]);

/**
 * A Store in Redis: values and their private flag in one hash per key, a sorted set as the index for
 * `list`, and leases as `SET NX PX` with a per-name INCR counter as the fence. Every change that must
 * be atomic (a grant, renew, release, a put under a lease, a put with its index entry) is one Lua
 * script. Expiry uses Redis's clock. For fences to survive a Redis restart, run it with persistence
 * (appendonly yes); a holder that died keeps its lease until the ttl runs out. Every write and delete
 * publishes its key on `<prefix>changes` from inside its script; `watch()` subscribes to that.
 */
export class RedisStore implements Store, WatchableStore {
  readonly #redis: RedisLike;
  readonly #p: string;
  readonly #owner: string;
  readonly #holder: string;
  readonly #pollMs: number;
  readonly #scrub: (text: string) => string;
  readonly #channel: string;
  readonly #subscriber: ChannelSubscriber | undefined;
  #close: (() => Promise<void>) | undefined;
  // Ends every watch when the store is closed, so no LISTEN/SUBSCRIBE connection outlives it.
  readonly #closing = new AbortController();

  constructor(client: RedisLike, options: RedisStoreOptions = {}) {
    this.#redis = client;
    this.#p = options.prefix ?? 'acmekit:';
    if (typeof this.#p !== 'string' || this.#p.length > 100 || /[\s\0]/.test(this.#p)) {
      throw new InvalidInputError('redis key prefix must be at most 100 characters without spaces', this.#p);
    }
    this.#owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.#holder = JSON.stringify({ owner: this.#owner, pid: process.pid });
    this.#pollMs = options.pollMs ?? 50;
    this.#scrub = options.scrub ?? ((text) => text);
    this.#channel = `${this.#p}changes`;
    this.#subscriber = options.subscriber;
  }

  /**
   * A store on its own @redis/client for `url` ("redis://:password@host:6379/0"), loaded only here.
   * It reconnects by itself; while it is disconnected calls fail at once with StorageError. Call
   * `close()` when done.
   */
  static async connect(url: string, options: RedisConnectOptions = {}): Promise<RedisStore> {
    const scrub = options.scrub ?? urlScrubber(url);
    let redis: typeof import('@redis/client');
    try {
      redis = await import('@redis/client');
    } catch (err) {
      throw backendFailure('redis', 'driver', err, scrub, undefined, 'install it: npm install @redis/client');
    }
    let connected = false;
    const client = redis.createClient({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5000,
        // Until the first connection works, fail (a wrong URL should not hang); after it, retry forever.
        reconnectStrategy: (retries, cause) =>
          connected ? Math.min(50 * 2 ** retries, 1000) : retries < 2 ? 100 : cause,
      },
    });
    // Errors are reported to the callers of the failing commands; the event itself must be handled
    // or it would end the process.
    client.on('error', () => {});
    client.on('ready', () => {
      connected = true;
    });
    try {
      await client.connect();
    } catch (err) {
      client.destroy();
      throw backendFailure('redis', 'connect', err, scrub);
    }
    const typeMapping = { [redis.RESP_TYPES.BLOB_STRING]: Buffer };
    // The subscriber's connection pings, so a link that died silently is noticed and remade.
    const subscriber = nodeRedisSubscriber(
      () => client.duplicate({ pingInterval: 15_000 }) as unknown as RedisPubSubClient,
    );
    const store = new RedisStore(
      { sendCommand: (args) => client.sendCommand(args, { typeMapping }) },
      { subscriber, ...options, scrub },
    );
    store.#close = async () => {
      if (client.isOpen) await client.close();
      else client.destroy();
    };
    return store;
  }

  /** Ends every watch of this store, and closes the client that `connect()` made (a client you passed in stays open). */
  async close(): Promise<void> {
    this.#closing.abort(new Error('store closed'));
    await this.#close?.();
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    const reply = await this.#send(`read ${key}`, signal, ['HGET', this.#entry(key), 'v']);
    if (reply === null || reply === undefined) return undefined;
    if (!(reply instanceof Uint8Array)) {
      throw new StorageError(
        `redis read ${key}`,
        'the Redis client returned text, not bytes: configure it to return Buffers (see RedisLike)',
      );
    }
    return new Uint8Array(reply);
  }

  /** True when `key` was stored with `{ private: true }`; undefined when it is missing. */
  async isPrivate(key: string, signal?: AbortSignal): Promise<boolean | undefined> {
    assertSafeKey(key);
    const reply = await this.#send(`read ${key}`, signal, ['HGET', this.#entry(key), 'p']);
    return reply === null || reply === undefined ? undefined : asText(reply) === '1';
  }

  async put(key: string, value: Uint8Array | string, opts: PutOptions = {}): Promise<void> {
    assertSafeKey(key);
    const keys = [this.#entry(key), `${this.#p}index`];
    const args: (string | Buffer)[] = [asBuffer(value), opts.private ? '1' : '0', key, this.#channel];
    const lease = opts.lease;
    if (lease) {
      assertSafeLockName(lease.name);
      keys.push(`${this.#p}fence:${lease.name}`);
      args.push(String(lease.fence));
    }
    const written = await this.#eval(`write ${key}`, opts.signal, PUT, keys, args);
    if (lease && Number(written) !== 1) throw new FencedWriteError(lease.name, lease.fence);
  }

  /**
   * Writes every entry of every group in one script (GroupedWrites): all or none, so a crash or a lost
   * lease never leaves a new certificate beside an old key.
   */
  async putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts: { lease?: Lease | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const entries = distinctEntries(groups);
    if (entries.length === 0) return;
    const lease = opts.lease;
    if (lease) assertSafeLockName(lease.name);
    const index = `${this.#p}index`;
    const keys = [index, lease ? `${this.#p}fence:${lease.name}` : index];
    const args: (string | Buffer)[] = [this.#channel, lease ? String(lease.fence) : ''];
    for (const e of entries) {
      keys.push(this.#entry(e.key));
      args.push(asBuffer(e.value), e.private ? '1' : '0', e.key);
    }
    const what = `write ${entries.map((e) => e.key).join(', ')}`;
    const written = await this.#eval(what, opts.signal, PUT_ALL, keys, args);
    if (lease && Number(written) !== 1) throw new FencedWriteError(lease.name, lease.fence);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    assertSafeKey(key);
    const keys = [this.#entry(key), `${this.#p}index`];
    await this.#eval(`delete ${key}`, signal, DELETE, keys, [key, this.#channel]);
  }

  /**
   * Reports writes of every process on this prefix (WatchableStore), through SUBSCRIBE on a connection
   * of its own (options.subscriber), subscribed again after Redis restarts.
   */
  watch(prefix: string, handler: StoreWatchHandler, signal: AbortSignal): Promise<void> {
    const until = AbortSignal.any([signal, this.#closing.signal]);
    return watchChannel(this.#subscriber, 'redis', this.#channel, prefix, handler, until, (err) =>
      backendFailure('redis', 'subscribe', err, this.#scrub),
    );
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    assertSafePrefix(prefix);
    const range =
      prefix === '' ? ['-', '+'] : [`[${prefix}`, Buffer.concat([Buffer.from(`(${prefix}`), LEX_END])];
    const reply = await this.#send(`list ${prefix || '(all)'}`, signal, [
      'ZRANGEBYLEX',
      `${this.#p}index`,
      ...range,
    ]);
    // Sorted here: the index orders bytes, the contract orders JavaScript strings (UTF-16 units).
    return (Array.isArray(reply) ? reply : []).map(asText).sort();
  }

  async lock(name: string, opts: LockOptions): Promise<Lease> {
    assertSafeLockName(name);
    return pollForLease(name, opts, systemClock, this.#pollMs, () => this.#tryLock(name, opts));
  }

  async #tryLock(name: string, opts: LockOptions): Promise<LeaseAttempt> {
    const keys = this.#leaseKeys(name);
    const ttl = String(Math.ceil(opts.ttlMs));
    const reply = await this.#eval(`lock ${name}`, opts.signal, LOCK, keys, [ttl, this.#holder]);
    const [fence, held, pttl] = Array.isArray(reply) ? reply : [];
    if (Number(fence) > 0) return { lease: this.#lease(name, Number(fence), ttl) };
    return { holder: parseHolder(held === undefined ? '' : asText(held), Number(pttl)) };
  }

  #lease(name: string, fence: number, ttl: string): Lease {
    const keys = this.#leaseKeys(name);
    return {
      name,
      fence,
      owner: this.#owner,
      renew: async () => {
        const args = [String(fence), ttl, this.#holder];
        const renewed = await this.#eval(`renew ${name}`, undefined, RENEW, keys, args);
        if (Number(renewed) !== 1) throw new FencedWriteError(name, fence);
      },
      release: async () => {
        await this.#eval(`release ${name}`, undefined, RELEASE, keys, [String(fence)]);
      },
    };
  }

  #entry(key: string): string {
    return `${this.#p}e:${key}`;
  }

  #leaseKeys(name: string): string[] {
    return [`${this.#p}lease:${name}`, `${this.#p}fence:${name}`];
  }

  /** EVALSHA, and EVAL once when Redis does not know the script yet (first use, or after a restart). */
  async #eval(
    what: string,
    signal: AbortSignal | undefined,
    s: RedisScript,
    keys: string[],
    args: (string | Buffer)[],
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return this.#run(what, signal, () =>
      this.#redis.sendCommand(['EVALSHA', s.sha, ...tail]).catch((err: unknown) => {
        if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
        return this.#redis.sendCommand(['EVAL', s.source, ...tail]);
      }),
    );
  }

  #send(what: string, signal: AbortSignal | undefined, args: (string | Buffer)[]): Promise<unknown> {
    return this.#run(what, signal, () => this.#redis.sendCommand(args));
  }

  /** Runs `fn`, settling early on abort and naming failures (the command itself may still run). */
  async #run<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const work = Promise.resolve()
      .then(fn)
      .catch((err) => {
        throw backendFailure('redis', what, err, this.#scrub, signal);
      });
    if (!signal) return work;
    return abortable(signal, (resolve, reject) => {
      work.then(resolve, reject);
      return () => work.catch(() => {});
    });
  }
}

/** The holder of a lease value "<fence> <holder JSON>", as LockOptions.onWait wants it. */
function parseHolder(value: string, pttl: number): LeaseHolder {
  const expiresAt = new Date(Date.now() + (Number.isFinite(pttl) ? Math.max(pttl, 0) : 0));
  try {
    const parsed: unknown = JSON.parse(value.slice(value.indexOf(' ') + 1));
    const { owner, pid } = (parsed ?? {}) as { owner?: unknown; pid?: unknown };
    if (typeof owner === 'string') {
      return typeof pid === 'number' ? { owner, pid, expiresAt } : { owner, expiresAt };
    }
  } catch {
    // Written by something else: the holder stays unknown.
  }
  return { owner: 'unknown', expiresAt };
}
