import { hostname } from 'node:os';
import { FencedWriteError } from '../errors/storage.ts';
import { abortable, throwIfAborted } from '../internal/abort.ts';
import { systemClock } from '../internal/clock.ts';
import { backendFailure, urlScrubber } from './backend-error.ts';
import { type ChannelSubscriber, watchChannel } from './channel-watch.ts';
import { type LeaseAttempt, pollForLease } from './memory-store.ts';
import { poolSubscriber, type SqlSessionSource } from './postgres-listen.ts';
import { migrate, type PostgresTables, postgresTables, type SqlClient } from './postgres-schema.ts';
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
export {
  type PoolSubscriberOptions,
  poolSubscriber,
  type SqlSession,
  type SqlSessionSource,
} from './postgres-listen.ts';
export { migrate, SCHEMA_VERSION, type SqlClient } from './postgres-schema.ts';

export interface PostgresStoreOptions {
  /** Prefix of the three table names, so installations can share a database; default "acmekit_". */
  prefix?: string;
  /** Create the tables before the first call (default true); false when `migrate()` runs at deploy time. */
  migrate?: boolean;
  /** Written into leases and shown to waiters; default "<hostname>:<pid>". */
  owner?: string;
  /** How often a waiting lock() asks again (ms); default 50. */
  pollMs?: number;
  /** Removes secrets from driver messages; `connect()` sets one for the URL's password. */
  scrub?: (text: string) => string;
  /**
   * Where `watch()` gets its LISTEN session: a `pg.Pool` (one connection is then held for as long as
   * something watches), or any ChannelSubscriber. `connect()` uses its own pool. It must reach the
   * server directly: PgBouncer in transaction mode does not keep LISTEN. Without it, `watch()` refuses
   * and servers fall back to periodic checks.
   */
  listen?: SqlSessionSource | ChannelSubscriber;
}

export interface PostgresConnectOptions extends PostgresStoreOptions {
  /** Connections in the pool `connect()` makes (pg's `max`), plus one while watching; default 5. */
  maxConnections?: number;
  /** Give up connecting after this long (ms); default 5000. */
  connectTimeoutMs?: number;
}

const encoder = new TextEncoder();
const toBuffer = (value: Uint8Array | string): Buffer =>
  Buffer.from(typeof value === 'string' ? encoder.encode(value) : value);
// LIKE treats "%" and "_" as wildcards; keys may contain both, and "\" (our escape) never.
const likePrefix = (prefix: string): string => `${prefix.replace(/[%_]/g, '\\$&')}%`;

/**
 * A Store in PostgreSQL: one row per key (bytea, with its private flag) and one row per lock name.
 * Every lease change and every fenced write is one statement that checks the fence under a row lock,
 * so it is correct through a pool or PgBouncer in transaction mode: no advisory locks, no session
 * state. Lease expiry uses the database's clock, so the clients' clocks may disagree.
 * A holder that died keeps its lease until the ttl runs out (a pooled connection cannot tell).
 *
 * Every write and delete also sends NOTIFY on the channel `<prefix>changes` with the key as payload,
 * in the same statement (so only when it happened, and delivered at commit); `watch()` LISTENs to it
 * on a session of its own (options.listen).
 */
export class PostgresStore implements Store, WatchableStore {
  readonly #db: SqlClient;
  readonly #t: PostgresTables;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #pollMs: number;
  readonly #scrub: (text: string) => string;
  readonly #autoMigrate: boolean;
  readonly #channel: string;
  readonly #subscriber: ChannelSubscriber | undefined;
  #ready: Promise<void> | undefined;
  #close: (() => Promise<void>) | undefined;
  // Ends every watch when the store is closed, so no LISTEN/SUBSCRIBE connection outlives it.
  readonly #closing = new AbortController();

  constructor(client: SqlClient, options: PostgresStoreOptions = {}) {
    this.#db = client;
    this.#prefix = options.prefix ?? 'acmekit_';
    this.#t = postgresTables(this.#prefix);
    this.#owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.#pollMs = options.pollMs ?? 50;
    this.#scrub = options.scrub ?? ((text) => text);
    this.#autoMigrate = options.migrate ?? true;
    this.#channel = `${this.#prefix}changes`;
    const listen = options.listen;
    this.#subscriber = listen && 'subscribe' in listen ? listen : listen ? poolSubscriber(listen) : undefined;
  }

  /**
   * A store on its own `pg.Pool` for `url` ("postgres://user:password@host/db"); `pg` is loaded only
   * here. Call `close()` when done. The pool reconnects by itself after the server comes back.
   */
  static async connect(url: string, options: PostgresConnectOptions = {}): Promise<PostgresStore> {
    const scrub = options.scrub ?? urlScrubber(url);
    let pg: typeof import('pg')['default'];
    try {
      pg = (await import('pg')).default;
    } catch (err) {
      throw backendFailure('postgres', 'driver', err, scrub, undefined, 'install it: npm install pg');
    }
    const pool = new pg.Pool({
      connectionString: url,
      // One more than asked for: watch() holds one for LISTEN.
      max: (options.maxConnections ?? 5) + 1,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    });
    // An idle connection the server dropped is reported here; the next query gets a fresh one, so
    // there is nothing to do but keep the process alive (an unhandled 'error' event would end it).
    pool.on('error', () => {});
    const store = new PostgresStore(pool, { listen: pool, ...options, scrub });
    store.#close = () => pool.end();
    return store;
  }

  /** Ends every watch of this store, and the pool that `connect()` made (a client you passed in stays open). */
  async close(): Promise<void> {
    this.#closing.abort(new Error('store closed'));
    await this.#close?.();
  }

  /** Creates the tables now (the store also does it before its first call). */
  async migrate(signal?: AbortSignal): Promise<void> {
    await this.#run('migrate', signal, () => migrate(this.#db, this.#prefix));
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    const { rows } = await this.#query(
      `read ${key}`,
      signal,
      `SELECT value FROM ${this.#t.entries} WHERE key = $1`,
      [key],
    );
    const value: Uint8Array | undefined = rows[0]?.value;
    return value === undefined ? undefined : new Uint8Array(value);
  }

  /** True when `key` was stored with `{ private: true }`; undefined when it is missing. */
  async isPrivate(key: string, signal?: AbortSignal): Promise<boolean | undefined> {
    assertSafeKey(key);
    const sql = `SELECT private FROM ${this.#t.entries} WHERE key = $1`;
    const { rows } = await this.#query(`read ${key}`, signal, sql, [key]);
    return rows[0] === undefined ? undefined : rows[0].private === true;
  }

  async put(key: string, value: Uint8Array | string, opts: PutOptions = {}): Promise<void> {
    assertSafeKey(key);
    const upsert = `ON CONFLICT (key) DO UPDATE
      SET value = excluded.value, private = excluded.private, updated_at = now()`;
    // The NOTIFY runs in the same statement, for the row actually written: $4 is the channel.
    const params: unknown[] = [key, toBuffer(value), opts.private === true, this.#channel];
    const notify = `RETURNING key) SELECT pg_notify($4, key) FROM written`;
    const lease = opts.lease;
    if (!lease) {
      const sql = `WITH written AS (
        INSERT INTO ${this.#t.entries} (key, value, private) VALUES ($1, $2, $3) ${upsert} ${notify}`;
      await this.#query(`write ${key}`, opts.signal, sql, params);
      return;
    }
    // FOR SHARE holds the lease row until the write commits: a takeover (an UPDATE of that row) waits
    // for us, and one that committed first changed the fence, so the row no longer matches (C10).
    const sql = `WITH current AS (
        SELECT 1 FROM ${this.#t.leases}
        WHERE name = $5 AND fence = $6 AND expires_at IS NOT NULL FOR SHARE),
      written AS (
        INSERT INTO ${this.#t.entries} (key, value, private) SELECT $1, $2, $3 FROM current ${upsert} ${notify}`;
    const result = await this.#query(`write ${key}`, opts.signal, sql, [...params, lease.name, lease.fence]);
    if (result.rowCount !== 1) throw new FencedWriteError(lease.name, lease.fence);
  }

  /**
   * Writes every entry of every group in one statement (GroupedWrites): all or none, so a crash or a
   * lost lease never leaves a new certificate beside an old key, and other processes are notified of
   * the whole set at commit.
   */
  async putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts: { lease?: Lease | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const entries = distinctEntries(groups);
    if (entries.length === 0) return;
    const lease = opts.lease;
    // $1 channel, [$2 name, $3 fence,] then key, value, private for each entry.
    const params: unknown[] = [this.#channel];
    if (lease) params.push(lease.name, lease.fence);
    const rows = entries.map((e) => {
      params.push(e.key, toBuffer(e.value), e.private === true);
      const n = params.length;
      return `($${n - 2}, $${n - 1}::bytea, $${n}::boolean)`;
    });
    const current = lease
      ? `current AS (SELECT 1 FROM ${this.#t.leases}
          WHERE name = $2 AND fence = $3 AND expires_at IS NOT NULL FOR SHARE),`
      : '';
    const sql = `WITH ${current}
      given (key, value, private) AS (VALUES ${rows.join(', ')}),
      written AS (
        INSERT INTO ${this.#t.entries} (key, value, private)
        SELECT given.key, given.value, given.private FROM given${lease ? ', current' : ''}
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, private = excluded.private, updated_at = now()
        RETURNING key)
      SELECT pg_notify($1, key) FROM written`;
    const what = `write ${entries.map((e) => e.key).join(', ')}`;
    const result = await this.#query(what, opts.signal, sql, params);
    if (lease && result.rowCount !== entries.length) throw new FencedWriteError(lease.name, lease.fence);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    assertSafeKey(key);
    const sql = `WITH deleted AS (DELETE FROM ${this.#t.entries} WHERE key = $1 RETURNING key)
      SELECT pg_notify($2, key) FROM deleted`;
    await this.#query(`delete ${key}`, signal, sql, [key, this.#channel]);
  }

  /**
   * Reports writes of every process on these tables (WatchableStore), through LISTEN on a session from
   * options.listen, re-established after the database restarts. Rejects without options.listen.
   */
  watch(prefix: string, handler: StoreWatchHandler, signal: AbortSignal): Promise<void> {
    const until = AbortSignal.any([signal, this.#closing.signal]);
    return watchChannel(this.#subscriber, 'postgres', this.#channel, prefix, handler, until, (err) =>
      backendFailure('postgres', 'listen', err, this.#scrub),
    );
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    assertSafePrefix(prefix);
    const sql = `SELECT key FROM ${this.#t.entries} WHERE key LIKE $1 ESCAPE '\\'`;
    const { rows } = await this.#query(`list ${prefix || '(all)'}`, signal, sql, [likePrefix(prefix)]);
    // Sorted here: JavaScript's order (UTF-16 units) is the contract, and collations differ from it.
    return rows.map((row) => String(row.key)).sort();
  }

  async lock(name: string, opts: LockOptions): Promise<Lease> {
    assertSafeLockName(name);
    return pollForLease(name, opts, systemClock, this.#pollMs, () => this.#tryLock(name, opts));
  }

  async #tryLock(name: string, opts: LockOptions): Promise<LeaseAttempt> {
    // One statement: take the row if it is free or expired, bumping the fence; the row lock that
    // ON CONFLICT DO UPDATE takes makes two takers see each other's result.
    const grant = `INSERT INTO ${this.#t.leases} AS l (name, fence, owner, pid, expires_at)
      VALUES ($1, 1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))
      ON CONFLICT (name) DO UPDATE
        SET fence = l.fence + 1, owner = excluded.owner, pid = excluded.pid, expires_at = excluded.expires_at
        WHERE l.expires_at IS NULL OR l.expires_at <= now()
      RETURNING fence`;
    const what = `lock ${name}`;
    const { rows } = await this.#query(what, opts.signal, grant, [
      name,
      this.#owner,
      process.pid,
      opts.ttlMs,
    ]);
    if (rows[0] !== undefined) return { lease: this.#lease(name, Number(rows[0].fence), opts.ttlMs) };
    const seen = await this.#query(
      what,
      opts.signal,
      `SELECT owner, pid, expires_at FROM ${this.#t.leases} WHERE name = $1`,
      [name],
    );
    const row = seen.rows[0];
    // Released between the two statements: report an unknown holder, the next attempt takes it.
    if (row === undefined) return { holder: { owner: 'unknown', expiresAt: new Date() } };
    const holder: LeaseHolder = {
      owner: String(row.owner),
      expiresAt: new Date(row.expires_at ?? Date.now()),
    };
    if (typeof row.pid === 'number') holder.pid = row.pid;
    return { holder };
  }

  #lease(name: string, fence: number, ttlMs: number): Lease {
    const where = `WHERE name = $1 AND fence = $2 AND expires_at IS NOT NULL`;
    return {
      name,
      fence,
      owner: this.#owner,
      renew: async () => {
        const sql = `UPDATE ${this.#t.leases}
          SET expires_at = now() + make_interval(secs => $3::double precision / 1000) ${where}`;
        const result = await this.#query(`renew ${name}`, undefined, sql, [name, fence, ttlMs]);
        if (result.rowCount !== 1) throw new FencedWriteError(name, fence);
      },
      release: async () => {
        const sql = `UPDATE ${this.#t.leases} SET expires_at = NULL ${where}`;
        await this.#query(`release ${name}`, undefined, sql, [name, fence]);
      },
    };
  }

  async #query(what: string, signal: AbortSignal | undefined, text: string, params: unknown[]) {
    return this.#run(what, signal, async () => {
      await this.#ensureSchema();
      return this.#db.query(text, params);
    });
  }

  /** Runs `fn`, settling early on abort (the statement itself finishes on the server) and naming failures. */
  async #run<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const work = fn().catch((err) => {
      throw backendFailure('postgres', what, err, this.#scrub, signal);
    });
    if (!signal) return work;
    return abortable(signal, (resolve, reject) => {
      work.then(resolve, reject);
      return () => work.catch(() => {});
    });
  }

  #ensureSchema(): Promise<void> {
    if (!this.#autoMigrate) return Promise.resolve();
    // Remembered once it worked; a failure (server down) is retried by the next call.
    this.#ready ??= migrate(this.#db, this.#prefix).catch((err) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }
}
