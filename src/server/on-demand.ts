import { normalizeIdentifiers } from '../acme/identifiers.ts';
import { InvalidInputError } from '../errors/base.ts';
import { OnDemandRefusedError } from '../errors/server.ts';
import { backoffDelay } from '../internal/backoff.ts';
import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';

export interface OnDemandOptions {
  /**
   * Required: whether a name not configured up front may get a certificate during its first handshake.
   * Anyone can send any SNI, so without this check a stranger could make the server order certificates
   * for names of their choosing (rate limits, CA abuse reports). Throwing or running past
   * `decisionTimeoutMs` counts as "no".
   */
  allow: (name: string) => boolean | Promise<boolean>;
  /** Default 5 s. */
  decisionTimeoutMs?: number;
  /** How long a "no" is remembered, so a flood of one name calls `allow` once. Default 60 s. */
  denyCacheMs?: number;
  /**
   * At most `orders` orders per `intervalMs` across all names. Default 10 per 10 s. An order holds its
   * slot from its start until `intervalMs` after it ended, so the CA never sees more than `orders` new
   * orders within any `intervalMs` (nor more than `orders` running at once). A handshake that finds every
   * slot taken waits for one, in turn, up to `maxWaitMs` (default 30 s; 0: fail at once); it fails at
   * once when its turn cannot come within `maxWaitMs` (too many waiting, or the slots free up too late).
   */
  rateLimit?: { orders: number; intervalMs: number; maxWaitMs?: number };
  /** Backoff of a name whose order failed: the next handshakes fail fast until it ends. Default 1 min to 1 h. */
  failureBackoff?: { minMs: number; maxMs: number };
  /** Bound on remembered decisions and failures (oldest forgotten first). Default 10,000. */
  maxTracked?: number;
}

export interface OnDemandDeps {
  /** Puts a stored, unexpired certificate for the name into service; true when there was one. */
  loadStored(name: string): Promise<boolean>;
  /** Orders the certificate and puts it into service; rejects on failure. */
  obtain(name: string): Promise<void>;
  /** Told how each attempt for a name ended (one per attempt, however many handshakes share it). */
  onOutcome?: (outcome: OnDemandOutcome) => void;
  logger: Logger;
  clock: Clock;
}

/**
 * How an on-demand attempt ended: refused before `allow` (`invalid_name`, `backoff`, `denied_cached`),
 * refused by `allow` (`denied`), or allowed and then served from the store (`stored`), refused by the
 * order rate limit (`rate_limited`), or ordered (`ordered`; whether the order worked shows in the
 * obtain events).
 */
export type OnDemandOutcome =
  | 'invalid_name'
  | 'backoff'
  | 'denied_cached'
  | 'denied'
  | 'stored'
  | 'rate_limited'
  | 'ordered';

interface Failure {
  failures: number;
  until: number;
}

/** An order slot of the rate limit: taken until `until` (Infinity while its order runs). */
interface Slot {
  until: number;
}

interface Waiter {
  name: string;
  grant: (slot: Slot) => void;
  fail: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The on-demand policy: which unknown names may get a certificate at their first handshake, and how
 * fast. Concurrent handshakes for one name share one attempt (one order); refused and backing-off names
 * fail at once, so a flood of random SNI costs no order and no waiting. An allowed name that finds the
 * order rate limit used up waits its turn (bounded by `rateLimit.maxWaitMs`), as certmagic does.
 */
export class OnDemand {
  readonly #o: Required<Omit<OnDemandOptions, 'allow' | 'rateLimit'>> &
    Pick<OnDemandOptions, 'allow'> & { rateLimit: Required<NonNullable<OnDemandOptions['rateLimit']>> };
  readonly #deps: OnDemandDeps;
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #denied = new Map<string, number>();
  readonly #failed = new Map<string, Failure>();
  #slots: Slot[] = [];
  readonly #waiting: Waiter[] = [];
  #slotTimer: NodeJS.Timeout | undefined;
  #closed = false;
  ordersStarted = 0;
  decisions = 0;

  constructor(opts: OnDemandOptions, deps: OnDemandDeps) {
    if (typeof opts?.allow !== 'function') {
      throw new InvalidInputError(
        'on-demand TLS needs an allow(name) function: any client can send any server name, so without one a stranger could make this server order certificates for names of their choosing',
      );
    }
    this.#o = {
      allow: opts.allow,
      decisionTimeoutMs: opts.decisionTimeoutMs ?? 5_000,
      denyCacheMs: opts.denyCacheMs ?? 60_000,
      rateLimit: {
        orders: opts.rateLimit?.orders ?? 10,
        intervalMs: opts.rateLimit?.intervalMs ?? 10_000,
        maxWaitMs: opts.rateLimit?.maxWaitMs ?? 30_000,
      },
      failureBackoff: opts.failureBackoff ?? { minMs: 60_000, maxMs: 3_600_000 },
      maxTracked: opts.maxTracked ?? 10_000,
    };
    this.#deps = deps;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Resolves once the name has a certificate in service; rejects (fast when refused) otherwise. */
  certificateFor(serverName: string): Promise<void> {
    const name = serverName.toLowerCase().replace(/\.$/, '');
    const running = this.#inflight.get(name);
    if (running) return running;
    const attempt = this.#attempt(name).finally(() => this.#inflight.delete(name));
    this.#inflight.set(name, attempt);
    return attempt;
  }

  async #attempt(name: string): Promise<void> {
    const now = this.#deps.clock.now();
    if (!isPlainDnsName(name)) {
      this.#report('invalid_name');
      throw new OnDemandRefusedError(name, 'not a name a certificate can be ordered for');
    }
    const failed = this.#failed.get(name);
    if (failed && now < failed.until) {
      this.#report('backoff');
      throw new OnDemandRefusedError(
        name,
        `an earlier attempt failed; retrying after ${new Date(failed.until).toISOString()}`,
      );
    }
    const deniedUntil = this.#denied.get(name);
    if (deniedUntil !== undefined && now < deniedUntil) {
      this.#report('denied_cached');
      throw new OnDemandRefusedError(name, 'not allowed');
    }
    if (!(await this.#decide(name))) {
      remember(this.#denied, name, now + this.#o.denyCacheMs, this.#o.maxTracked);
      this.#report('denied');
      throw new OnDemandRefusedError(name, 'not allowed');
    }
    if (await this.#deps.loadStored(name)) {
      this.#report('stored');
      return;
    }
    let slot: Slot;
    try {
      slot = await this.#takeOrderSlot(name);
    } catch (err) {
      this.#report('rate_limited');
      throw err;
    }
    this.#report('ordered');
    this.ordersStarted++;
    try {
      await this.#deps.obtain(name);
      this.#failed.delete(name);
    } catch (err) {
      const failures = (this.#failed.get(name)?.failures ?? 0) + 1;
      const { minMs, maxMs } = this.#o.failureBackoff;
      const until = this.#deps.clock.now() + backoffDelay(failures, { baseMs: minMs, maxMs });
      remember(this.#failed, name, { failures, until }, this.#o.maxTracked);
      throw new OnDemandRefusedError(name, `ordering failed: ${(err as Error).message}`, { cause: err });
    } finally {
      // Counted until intervalMs after the order ended: every request of an order falls in its slot.
      slot.until = this.#deps.clock.now() + this.#o.rateLimit.intervalMs;
      this.#grantSlots();
    }
  }

  /** Refuses the handshakes waiting for an order slot, and any later one; frees the timers. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#slotTimer);
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.fail(new OnDemandRefusedError(w.name, 'auto-https closed'));
    }
  }

  #report(outcome: OnDemandOutcome): void {
    try {
      this.#deps.onOutcome?.(outcome);
    } catch (err) {
      this.#deps.logger.error({ err: (err as Error)?.message }, 'on-demand outcome listener threw');
    }
  }

  async #decide(name: string): Promise<boolean> {
    this.decisions++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#o.decisionTimeoutMs);
      });
      return (await Promise.race([Promise.resolve().then(() => this.#o.allow(name)), timeout])) === true;
    } catch (err) {
      this.#deps.logger.warn({ name, err: (err as Error)?.message }, 'on-demand allow() threw; refusing');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A free order slot now, else one when it frees up (first come, first served), within maxWaitMs. */
  #takeOrderSlot(name: string): Promise<Slot> {
    const { orders, intervalMs, maxWaitMs } = this.#o.rateLimit;
    if (this.#closed) return Promise.reject(new OnDemandRefusedError(name, 'auto-https closed'));
    this.#pruneSlots();
    if (this.#waiting.length === 0 && this.#slots.length < orders) return Promise.resolve(this.#newSlot());
    if (this.#earliestSlot(this.#waiting.length) > this.#deps.clock.now() + maxWaitMs) {
      return Promise.reject(
        new OnDemandRefusedError(
          name,
          `rate limited: ${orders} orders per ${intervalMs} ms; with ${this.#waiting.length} names waiting already, no slot within ${maxWaitMs} ms`,
        ),
      );
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        name,
        grant: resolve,
        fail: reject,
        timer: setTimeout(() => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(
            new OnDemandRefusedError(
              name,
              `rate limited: no order slot within ${maxWaitMs} ms (${orders} orders per ${intervalMs} ms)`,
            ),
          );
        }, maxWaitMs),
      };
      waiter.timer.unref(); // a waiting handshake's socket keeps the process alive, not this timer
      this.#waiting.push(waiter);
      this.#grantSlots();
    });
  }

  /**
   * The soonest the waiter at `position` (0: next) could get a slot: a slot frees at its `until` (a running
   * order's at the soonest intervalMs from now, were it to end now), and each grant holds it intervalMs
   * more at least. Every first freeing lies within intervalMs from now, so the rounds do not interleave.
   */
  #earliestSlot(position: number): number {
    const { orders, intervalMs } = this.#o.rateLimit;
    if (!(orders >= 1)) return Number.POSITIVE_INFINITY;
    const now = this.#deps.clock.now();
    const frees = this.#slots.map((s) => Math.min(s.until, now + intervalMs));
    while (frees.length < orders) frees.push(now);
    frees.sort((a, b) => a - b);
    return frees[position % orders]! + Math.floor(position / orders) * intervalMs;
  }

  #newSlot(): Slot {
    const slot: Slot = { until: Number.POSITIVE_INFINITY };
    this.#slots.push(slot);
    return slot;
  }

  #pruneSlots(): void {
    const now = this.#deps.clock.now();
    this.#slots = this.#slots.filter((s) => s.until > now);
  }

  /** Hands free slots to the waiting, in order; then sleeps until the next slot a finished order frees. */
  #grantSlots(): void {
    clearTimeout(this.#slotTimer);
    this.#slotTimer = undefined;
    this.#pruneSlots();
    while (this.#waiting.length > 0 && this.#slots.length < this.#o.rateLimit.orders) {
      const waiter = this.#waiting.shift()!;
      clearTimeout(waiter.timer);
      waiter.grant(this.#newSlot());
    }
    if (this.#waiting.length === 0 || this.#closed) return;
    // Slots of running orders (Infinity) free up later; their end calls this again.
    const next = Math.min(...this.#slots.map((s) => s.until));
    if (Number.isFinite(next)) {
      this.#slotTimer = setTimeout(() => this.#grantSlots(), Math.max(1, next - this.#deps.clock.now()));
      this.#slotTimer.unref();
    }
  }
}

/** A DNS name with at least two labels, no wildcard, no IP: what a client's SNI may ask to be ordered. */
function isPlainDnsName(name: string): boolean {
  if (!name.includes('.') || name.startsWith('*')) return false;
  try {
    const [id] = normalizeIdentifiers([name]);
    return id?.type === 'dns' && id.value === name;
  } catch {
    return false;
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
