import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import type { Identifier } from '../crypto/identifier.ts';
import type { CertificateKeyType } from '../crypto/keys.ts';
import type { FencedWriteError } from '../errors/storage.ts';
import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';
import { certificateFiles } from '../lifecycle/certificate-files.ts';
import type { StoredCertificate } from '../lifecycle/decide.ts';
import { type RenewalOutcome, type RenewalTarget, renewCertificate } from '../lifecycle/renew.ts';
import type { Solver } from '../solvers/solver.ts';
import type { Store } from '../storage/store.ts';
import type { AttemptInstrument, AutoHttpsEmitter, AutoHttpsEventName, AutoHttpsEvents } from './events.ts';
import { retryDelay } from './retry-delay.ts';
import { type CachedCertificate, describeStoredPair, type SniCache } from './sni-cache.ts';

const DAY = 86_400_000;

export interface MaintenanceOptions {
  store: Store;
  client: AcmeClient;
  /** The ACME account, loaded or registered on first need; a failure is retried on the next attempt. */
  account: () => Promise<Account>;
  /** In order of preference; after a failure the next one is tried first. */
  solvers: readonly Solver[];
  keyType: CertificateKeyType;
  email: string | undefined;
  renewDays: number | undefined;
  /** Ask the CA for renewal information (RFC 9773) when it offers it. */
  ari: boolean;
  cache: SniCache;
  events: AutoHttpsEmitter;
  logger: Logger;
  clock: Clock;
  /** Backoff between failed attempts of a running process (the persisted backoff applies at start). */
  retry: { minMs: number; maxMs: number };
  /** Longest time between two checks of one certificate; each wait is jittered by ±10 %. */
  checkIntervalMs: number;
  /** Ttl of the renewal lease (obtainAndSave's default when undefined): how soon another process takes over from one that died. */
  lockTtlMs?: number | undefined;
  random: () => number;
  /** Sees each attempt's store and solvers (metrics: challenge outcomes, lock waits). */
  instrument?: AttemptInstrument | undefined;
}

/** One certificate the server keeps fresh. */
export class Managed {
  readonly id: string;
  /** Normalised once, when the certificate was added. */
  readonly identifiers: readonly Identifier[];
  readonly onDemand: boolean;
  timer: NodeJS.Timeout | undefined = undefined;
  nextCheck: Date | undefined = undefined;
  running: Promise<void> | undefined = undefined;
  failures = 0;
  lastError: string | undefined = undefined;
  reason: string | undefined = undefined;
  /** Rotates the solver preference after failures (e.g. port 80 closed: try tls-alpn-01 next). */
  solverOffset = 0;
  /** What the last check did (the renewal job's outcome). */
  outcome: RenewalOutcome['outcome'] | undefined = undefined;

  constructor(identifiers: readonly Identifier[], onDemand: boolean) {
    this.id = identifiers[0]!.value;
    this.identifiers = identifiers;
    this.onDemand = onDemand;
  }

  /** The identifiers' values, made when asked for: a server may keep many thousands of certificates. */
  get names(): string[] {
    return this.identifiers.map((i) => i.value);
  }
}

export interface CheckResult {
  ok: boolean;
  error?: Error;
}

/**
 * Keeps a set of certificates fresh: each has its own timer (unref'd, jittered), a check reads the store
 * (another process may have renewed), asks decideRenewal (ARI, lifetime share, days), and renews through
 * obtainAndSave (lock, resume, verification before the files change). The new certificate goes into the
 * SNI cache only after it is saved; a failure keeps serving the old one and retries with backoff.
 */
export class Maintenance {
  readonly #o: MaintenanceOptions;
  readonly #managed = new Map<string, Managed>();
  readonly #abort = new AbortController();
  #closed = false;

  constructor(opts: MaintenanceOptions) {
    this.#o = opts;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get all(): Managed[] {
    return [...this.#managed.values()];
  }

  get(id: string): Managed | undefined {
    return this.#managed.get(id);
  }

  /** Starts managing a certificate for `identifiers` (the first is the id); does not check yet. */
  add(identifiers: readonly Identifier[], onDemand = false): Managed {
    const id = identifiers[0]!.value;
    const existing = this.#managed.get(id);
    if (existing) return existing;
    const m = new Managed(identifiers, onDemand);
    this.#managed.set(id, m);
    return m;
  }

  remove(id: string): void {
    const m = this.#managed.get(id);
    if (!m) return;
    if (m.timer) clearTimeout(m.timer);
    this.#managed.delete(id);
  }

  /** Puts the stored certificate (if any) into the SNI cache; true when one was found. */
  async loadFromStore(m: Managed): Promise<boolean> {
    // Built when needed, not kept: a server may manage many thousands of certificates (bench/tls.ts).
    const files = certificateFiles(m.id);
    const [crt, key] = await Promise.all([this.#o.store.get(files.crt), this.#o.store.get(files.key)]);
    if (!crt || !key) return false;
    const chain = Buffer.from(crt).toString('utf8');
    const cached = this.#o.cache.get(m.id);
    if (cached?.chainPem === chain) return true; // unchanged: skip parsing it again on every check
    const keyPem = Buffer.from(key).toString('utf8');
    // A renewal elsewhere writes .crt, then .key: read in between, the pair does not match. Keep what
    // we serve; the next read (the change notification of the last file, or the next check) gets both.
    const described = describeStoredPair(m.id, chain, keyPem); // one parse for both (start-up cost)
    if (!described) return cached !== undefined;
    if (cached?.serial !== described.serial) this.#o.cache.set(described);
    return true;
  }

  /** Runs a check now, or joins the one running. `force` renews whatever the decision says. */
  check(m: Managed, force = false): Promise<CheckResult> {
    const previous = m.running ?? Promise.resolve();
    let result: CheckResult = { ok: false };
    const run = previous.then(async () => {
      result = await this.#run(m, force);
    });
    m.running = run.finally(() => {
      if (m.running === tail) m.running = undefined;
    });
    const tail = m.running;
    return tail.then(() => result);
  }

  schedule(m: Managed, delayMs: number): void {
    if (this.#closed || !this.#managed.has(m.id)) return;
    if (m.timer) clearTimeout(m.timer);
    const ms = Math.max(0, Math.min(delayMs, 2 ** 31 - 1));
    m.nextCheck = new Date(this.#o.clock.now() + ms);
    m.timer = setTimeout(() => {
      m.timer = undefined;
      void this.check(m);
    }, ms);
    // Certificate upkeep alone never keeps the process alive; the servers do.
    m.timer.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new Error('auto-https closed'));
    for (const m of this.#managed.values()) if (m.timer) clearTimeout(m.timer);
    await Promise.allSettled([...this.#managed.values()].map((m) => m.running));
  }

  async #run(m: Managed, force: boolean): Promise<CheckResult> {
    if (this.#closed) return { ok: false };
    const o = this.#o;
    const signal = this.#abort.signal;
    try {
      await this.loadFromStore(m);
      const current = o.cache.get(m.id);
      const outcome = await renewCertificate(this.#target(m), {
        store: o.store,
        // The cache holds what loadFromStore just read: decide from it rather than read and parse it again.
        ...(current ? { current: storedFacts(current) } : {}),
        client: o.ari ? o.client : undefined,
        renewDays: o.renewDays,
        force,
        // While this process backs off on its own, the persisted backoff (meant for restarts) is left out.
        ignorePersistedBackoff: m.failures > 0,
        clock: o.clock,
        signal,
        begin: async (plan) => {
          m.reason = plan.reason;
          o.logger.info(
            { names: m.names, reason: plan.reason },
            plan.certificate ? 'renewing certificate' : 'obtaining certificate',
          );
          const account = await o.account();
          const rotated = rotate(o.solvers, m.solverOffset);
          const attempt = o.instrument?.(m.id, o.store, rotated) ?? { store: o.store, solvers: rotated };
          return { ...attempt, account };
        },
      });
      return await this.apply(m, outcome);
    } catch (err) {
      // Reading the store or the CA's renewal information failed before any attempt.
      if (this.#closed) return { ok: false };
      return this.#failed(m, err instanceof Error ? err : new Error(String(err)));
    }
  }

  #target(m: Managed): RenewalTarget {
    const o = this.#o;
    return {
      files: certificateFiles(m.id),
      identifiers: m.identifiers,
      // A certificate with more names than managed still serves every one of them.
      namesRule: 'covered',
      order: {
        challenge: { type: o.solvers[m.solverOffset % o.solvers.length]!.type },
        keyType: o.keyType,
        server: o.client.directoryUrl,
        ...(o.email ? { email: o.email } : {}),
        ...(o.lockTtlMs ? { lockTtlMs: o.lockTtlMs } : {}),
      },
    };
  }

  /** Turns the renewal job's outcome into the cache, status(), events and the next check. */
  async apply(m: Managed, outcome: RenewalOutcome): Promise<CheckResult> {
    const o = this.#o;
    if (this.#closed) return { ok: false };
    m.reason = outcome.reason;
    m.outcome = outcome.outcome;
    switch (outcome.outcome) {
      case 'not-due':
      case 'backoff': {
        // Fine as it is (another process may have renewed it): earlier failures are over.
        if (outcome.outcome === 'not-due') {
          m.failures = 0;
          m.lastError = undefined;
        }
        if (!o.cache.get(m.id)) await this.loadFromStore(m);
        const current = o.cache.get(m.id);
        if (current) this.#warnIfExpiring(m, current);
        const now = o.clock.now();
        const retryAfter = outcome.ari?.retryAfter.getTime() ?? 0;
        const recheck = Math.max(this.#jittered(o.checkIntervalMs), retryAfter - now);
        this.schedule(m, Math.min(outcome.decision.renewAt.getTime() - now, recheck));
        return { ok: true };
      }
      case 'renewed-elsewhere': {
        if (!(await this.loadFromStore(m))) {
          const error = new Error(
            'another process renewed this certificate, but its files are not in the store',
          );
          return this.#failed(m, error, outcome.reason);
        }
        const fresh = o.cache.get(m.id)!;
        m.failures = 0;
        m.lastError = undefined;
        o.logger.info(
          { names: m.names, serial: fresh.serial, notAfter: fresh.notAfter.toISOString() },
          'certificate renewed by another process; serving it',
        );
        this.#scheduleAfterIssue(m, fresh);
        return { ok: true };
      }
      case 'obtained':
      case 'renewed': {
        const { result } = outcome.saved;
        // The facts obtain() parsed from the chain, not a second parse of it.
        const fresh: CachedCertificate = {
          id: m.id,
          names: result.identifiers.map((i) => i.value),
          serial: nodeSerial(result.serial),
          notBefore: result.notBefore,
          notAfter: result.notAfter,
          chainPem: result.chain,
          keyPem: result.privateKey!.pem(),
        };
        o.cache.set(fresh);
        m.failures = 0;
        m.lastError = undefined;
        const kind = outcome.outcome;
        o.logger.info(
          { names: m.names, serial: fresh.serial, notAfter: fresh.notAfter.toISOString(), reason: m.reason },
          `certificate ${kind}`,
        );
        this.#emit(kind, {
          id: m.id,
          names: m.names,
          serial: fresh.serial,
          notAfter: fresh.notAfter,
          onDemand: m.onDemand,
          reason: outcome.reason,
        });
        this.#scheduleAfterIssue(m, fresh);
        return { ok: true };
      }
      case 'lease-lost':
        return this.#leaseLost(m, outcome.error);
      case 'failed':
        return this.#failed(m, outcome.error, outcome.reason);
    }
  }

  /**
   * Look again when half of the fresh certificate's remaining life has passed, if that comes before
   * the usual interval: a short-lived one (minutes) is then checked, and renewed, before it expires.
   */
  #scheduleAfterIssue(m: Managed, fresh: CachedCertificate): void {
    const o = this.#o;
    const halfLeft = (fresh.notAfter.getTime() - o.clock.now()) / 2;
    this.schedule(m, Math.min(this.#jittered(o.checkIntervalMs), Math.max(1000, halfLeft)));
  }

  /** A failed attempt (the job has recorded it in the store): keep serving, back off, retry. */
  #failed(m: Managed, error: Error, reason?: string): CheckResult {
    const o = this.#o;
    m.failures++;
    m.lastError = error.message;
    m.outcome = 'failed';
    if (reason !== undefined) m.reason = reason;
    m.solverOffset++;
    const { delayMs: delay, why } = retryDelay(error, m.failures, o.clock.now(), {
      ...o.retry,
      random: o.random,
    });
    // An on-demand name that never got a certificate waits for its next handshake instead.
    const retry = !(m.onDemand && !o.cache.get(m.id));
    const retryAt = retry ? new Date(o.clock.now() + delay) : undefined;
    o.logger.warn(
      { names: m.names, failures: m.failures, retryAt: retryAt?.toISOString(), err: error.message, why },
      'certificate attempt failed; still serving what we have',
    );
    this.#emit('failed', {
      id: m.id,
      names: m.names,
      error,
      failures: m.failures,
      retryAt,
      ...(reason !== undefined ? { reason } : {}),
    });
    const current = o.cache.get(m.id);
    if (current) this.#warnIfExpiring(m, current);
    if (retry) this.schedule(m, delay);
    return { ok: false, error };
  }

  /**
   * Our lease was taken over while we were stalled (RELIABILITY C10): fencing refused our write and the
   * taker's certificate stands. Not a failure of the certificate: load what is stored, check again soon.
   */
  async #leaseLost(m: Managed, error: FencedWriteError): Promise<CheckResult> {
    const o = this.#o;
    o.logger.warn(
      { names: m.names, err: error.message },
      'another process took over this renewal; its certificate is kept',
    );
    await this.loadFromStore(m).catch(() => false);
    this.schedule(m, o.retry.minMs);
    return { ok: false, error };
  }

  #warnIfExpiring(m: Managed, cert: CachedCertificate): void {
    const now = this.#o.clock.now();
    const left = cert.notAfter.getTime() - now;
    const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
    if (left > Math.min(7 * DAY, lifetime / 10)) return;
    this.#o.logger.warn({ names: m.names, notAfter: cert.notAfter.toISOString() }, 'certificate expiring');
    this.#emit('expiring', { id: m.id, names: m.names, notAfter: cert.notAfter, expired: left <= 0 });
  }

  #emit<K extends AutoHttpsEventName>(event: K, payload: AutoHttpsEvents[K]): void {
    for (const err of this.#o.events.emit(event, payload)) {
      this.#o.logger.error(
        { event, err: err instanceof Error ? err.message : String(err) },
        'event listener threw',
      );
    }
  }

  #jittered(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * this.#o.random()));
  }
}

function rotate<T>(list: readonly T[], offset: number): T[] {
  const k = offset % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Node's spelling of a serial (X509Certificate.serialNumber, lower case) from the DER content's hex. */
function nodeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^00(?=[89a-f])/, '');
}

function storedFacts(c: CachedCertificate): StoredCertificate {
  return {
    pem: c.chainPem,
    names: [...c.names],
    serial: c.serial,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    issuer: undefined,
  };
}
