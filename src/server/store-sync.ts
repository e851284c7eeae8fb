import type { Logger } from '../internal/logger.ts';
import { certificateFiles } from '../lifecycle/certificate-files.ts';
import { isWatchable, type Store } from '../storage/store.ts';
import { forEachLimited } from './limit.ts';
import type { Maintenance, Managed } from './maintenance.ts';
import type { CachedCertificate, SniCache } from './sni-cache.ts';

/** How this server learns about certificates other processes stored. */
export type StoreSyncMode = 'starting' | 'notifications' | 'reconnecting' | 'polling';

export interface StoreSyncStatus {
  mode: StoreSyncMode;
  /** Change notifications received for managed certificates. */
  notifications: number;
  /** Times the notifications came back after a loss (every certificate was read again then). */
  resyncs: number;
  /** Certificates put into service because another process stored them. */
  loaded: number;
}

export interface StoreSyncOptions {
  store: Store;
  maintenance: Maintenance;
  cache: SniCache;
  logger: Logger;
  /**
   * Every certificate is read again this often, notifications or not (the safety net). Default 30 min
   * while the store's notifications work, 5 min otherwise.
   */
  intervalMs: number | undefined;
  /** A certificate another process stored is now served here. */
  onLoaded(m: Managed, cert: CachedCertificate): void;
}

/** Reads at once during a full pass: a background job, it leaves the store to the handshakes. */
const PASS_CONCURRENCY = 4;
/** A renewal writes several files in a row: one read after the burst settles. */
const DEBOUNCE_MS = 100;
/** How long start() waits for the first subscription before serving anyway. */
const WATCH_START_MS = 1000;
const NOTIFIED_INTERVAL_MS = 30 * 60_000;
const POLLING_INTERVAL_MS = 5 * 60_000;

/**
 * Keeps the certificates this server serves in step with the store when other processes renew them:
 * through the store's change notifications when it has them (PostgreSQL, Redis, memory), re-reading
 * everything after a reconnect, and in any case by reading every certificate again every `intervalMs`
 * (the only way for a file store). A certificate whose check is running here is left to that check.
 */
export class StoreSync {
  readonly #o: StoreSyncOptions;
  readonly #abort = new AbortController();
  readonly #debounce = new Map<string, NodeJS.Timeout>();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #passAgain = false;
  readonly #status: StoreSyncStatus = { mode: 'starting', notifications: 0, resyncs: 0, loaded: 0 };

  constructor(options: StoreSyncOptions) {
    this.#o = options;
  }

  get status(): StoreSyncStatus {
    return { ...this.#status };
  }

  /** Subscribes (when the store can) and starts the periodic pass; waits at most ~1 s for the subscription. */
  async start(): Promise<void> {
    const { store, logger } = this.#o;
    if (!isWatchable(store)) {
      this.#status.mode = 'polling';
      this.#schedulePass();
      return;
    }
    const signal = this.#abort.signal;
    const subscribed = store
      .watch(
        'certificates/',
        {
          change: (key) => this.#changed(key),
          resync: () => {
            this.#status.resyncs++;
            if (this.#status.mode === 'reconnecting') logger.info({}, 'store notifications are back');
            this.#setMode('notifications');
            this.readAll();
          },
          error: (err) => {
            if (this.#status.mode === 'notifications') {
              logger.warn(
                { err: err.message },
                'store notifications lost; serving from memory, reconnecting',
              );
            }
            if (this.#status.mode !== 'polling') this.#setMode('reconnecting');
          },
        },
        signal,
      )
      .then(
        () => {
          this.#setMode('notifications');
          return true;
        },
        (err: Error) => {
          if (!signal.aborted) {
            logger.info(
              { err: err.message },
              'store change notifications unavailable; checking periodically',
            );
            this.#setMode('polling');
          }
          return false;
        },
      );
    this.#schedulePass();
    let waited: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      subscribed,
      new Promise<'late'>((resolve) => {
        waited = setTimeout(() => resolve('late'), WATCH_START_MS);
      }),
    ]);
    clearTimeout(waited);
    // Subscribed after the caller read the store: what changed in between was missed.
    if (inTime === 'late') void subscribed.then((ok) => ok && this.readAll());
  }

  /** Reads every managed certificate again (coalesced: one pass at a time, one more if asked meanwhile). */
  readAll(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#pass) {
      this.#passAgain = true;
      return;
    }
    this.#pass = (async () => {
      do {
        this.#passAgain = false;
        await forEachLimited(this.#o.maintenance.all, PASS_CONCURRENCY, (m) => this.#read(m));
      } while (this.#passAgain && !this.#abort.signal.aborted);
    })().finally(() => {
      this.#pass = undefined;
    });
  }

  close(): void {
    this.#abort.abort(new Error('auto-https closed'));
    clearTimeout(this.#timer);
    for (const timer of this.#debounce.values()) clearTimeout(timer);
    this.#debounce.clear();
  }

  // The default pass interval depends on whether notifications work: restart the wait on a change.
  #setMode(mode: StoreSyncMode): void {
    const before = this.#status.mode;
    this.#status.mode = mode;
    if (this.#o.intervalMs === undefined && (before === 'notifications') !== (mode === 'notifications')) {
      this.#schedulePass();
    }
  }

  #schedulePass(): void {
    if (this.#abort.signal.aborted) return;
    clearTimeout(this.#timer);
    const every =
      this.#o.intervalMs ??
      (this.#status.mode === 'notifications' ? NOTIFIED_INTERVAL_MS : POLLING_INTERVAL_MS);
    this.#timer = setTimeout(() => {
      this.readAll();
      this.#schedulePass();
    }, every);
    this.#timer.unref();
  }

  #changed(key: string): void {
    const m = this.#managedFor(key);
    if (!m) return;
    this.#status.notifications++;
    clearTimeout(this.#debounce.get(m.id));
    const timer = setTimeout(() => {
      this.#debounce.delete(m.id);
      void this.#read(m);
    }, DEBOUNCE_MS);
    timer.unref();
    this.#debounce.set(m.id, timer);
  }

  /** The managed certificate whose .crt, .key or .json this key is (not .issuer.crt, not .key.pending). */
  #managedFor(key: string): Managed | undefined {
    const match = /^certificates\/([^/]+)\.(crt|key|json)$/.exec(key);
    if (!match || match[1]!.endsWith('.issuer')) return undefined;
    const file = match[1]!;
    // The file name is the id for plain names; wildcards ("_." for "*.") and IPv6 need the full search.
    const direct = this.#o.maintenance.get(file.startsWith('_.') ? `*.${file.slice(2)}` : file);
    if (direct && certificateFiles(direct.id).name === file) return direct;
    return this.#o.maintenance.all.find((m) => certificateFiles(m.id).name === file);
  }

  async #read(m: Managed): Promise<void> {
    const { maintenance, cache, logger } = this.#o;
    if (maintenance.closed || this.#abort.signal.aborted || m.running) return;
    const before = cache.get(m.id)?.serial;
    try {
      await maintenance.loadFromStore(m);
    } catch (err) {
      logger.debug({ names: m.names, err: (err as Error).message }, 'could not read the stored certificate');
      return;
    }
    const now = cache.get(m.id);
    if (!now || now.serial === before) return;
    this.#status.loaded++;
    logger.info(
      { names: m.names, serial: now.serial, notAfter: now.notAfter.toISOString() },
      'serving the certificate another process stored',
    );
    this.#o.onLoaded(m, now);
  }
}
