import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import type { CertificateKeyType } from '../crypto/keys.ts';
import { FencedWriteError } from '../errors/storage.ts';
import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';
import { certificateFileKeys, readRecord } from '../lifecycle/certificate-files.ts';
import type { CertificateRecord } from '../lifecycle/certificate-record.ts';
import { decideRenewal, decideRenewalOf } from '../lifecycle/decide.ts';
import { obtainAndSave, recordFailure } from '../lifecycle/obtain-and-save.ts';
import type { Solver } from '../solvers/solver.ts';
import type { Store } from '../storage/store.ts';
import type { AttemptInstrument, AutoHttpsEmitter, AutoHttpsEventName, AutoHttpsEvents } from './events.ts';
import { retryDelay } from './retry-delay.ts';
import { type CachedCertificate, describeChain, describeStoredPair, type SniCache } from './sni-cache.ts';

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
export interface Managed {
  readonly id: string;
  readonly names: string[];
  readonly onDemand: boolean;
  timer: NodeJS.Timeout | undefined;
  nextCheck: Date | undefined;
  running: Promise<void> | undefined;
  failures: number;
  lastError: string | undefined;
  reason: string | undefined;
  /** Rotates the solver preference after failures (e.g. port 80 closed: try tls-alpn-01 next). */
  solverOffset: number;
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

  /** Starts managing `names` (the first is the id); does not check yet. */
  add(names: string[], onDemand = false): Managed {
    const id = names[0]!;
    const existing = this.#managed.get(id);
    if (existing) return existing;
    const m: Managed = {
      id,
      names,
      onDemand,
      timer: undefined,
      nextCheck: undefined,
      running: undefined,
      failures: 0,
      lastError: undefined,
      reason: undefined,
      solverOffset: 0,
    };
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
    const files = certificateFileKeys(m.id);
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
      const stored = await this.loadFromStore(m);
      const current = o.cache.get(m.id);
      let replaces: string | undefined;
      if (current && !force && coversAll(current, m.names)) {
        const record = (await readRecord(o.store, m.id)) ?? {
          domain: m.id,
          certUrl: '',
          certStableUrl: '',
        };
        const decide = {
          // While this process backs off on its own, the persisted backoff (meant for restarts) is left out.
          record: m.failures > 0 ? withoutBackoff(record) : record,
          client: o.ari ? o.client : undefined,
          renewDays: o.renewDays,
          clock: o.clock,
          signal,
        };
        // The cache holds what loadFromStore just read: decide from it rather than read and parse it again.
        const state = stored
          ? await decideRenewalOf({
              ...decide,
              certificate: {
                pem: current.chainPem,
                notBefore: current.notBefore,
                notAfter: current.notAfter,
                serial: current.serial,
              },
            })
          : await decideRenewal({ ...decide, store: o.store });
        if (state && !state.decision.due) {
          m.reason = state.decision.reason;
          this.#warnIfExpiring(m, current);
          const now = o.clock.now();
          const recheck = Math.max(
            this.#jittered(o.checkIntervalMs),
            (state.ari?.retryAfter.getTime() ?? 0) - now,
          );
          this.schedule(m, Math.min(state.decision.renewAt.getTime() - now, recheck));
          return { ok: true };
        }
        m.reason = force ? 'renewal forced' : state?.decision.reason;
        replaces = state?.ari?.certId;
      } else {
        m.reason = current ? 'the stored certificate does not cover every name' : 'no certificate yet';
      }
      o.logger.info(
        { names: m.names, reason: m.reason },
        current ? 'renewing certificate' : 'obtaining certificate',
      );
      const account = await o.account();
      const rotated = rotate(o.solvers, m.solverOffset);
      const { store, solvers } = o.instrument?.(m.id, o.store, rotated) ?? {
        store: o.store,
        solvers: rotated,
      };
      const expectedSerial = await this.#expectedSerial(m, current);
      const saved =
        expectedSerial === undefined
          ? ({ alreadyRenewed: true } as const)
          : await obtainAndSave(store, account, {
              names: m.names,
              solvers,
              challenge: { type: solvers[0]!.type },
              keyType: o.keyType,
              server: o.client.directoryUrl,
              ...(o.email ? { email: o.email } : {}),
              ...(replaces ? { replaces } : {}),
              // Also when forced: "renew the certificate I serve", so a cluster renews it once.
              expectedSerial,
              ...(o.lockTtlMs ? { lockTtlMs: o.lockTtlMs } : {}),
              signal,
            });
      if (saved.alreadyRenewed) {
        if (!(await this.loadFromStore(m))) {
          throw new Error('another process renewed this certificate, but its files are not in the store');
        }
      } else {
        o.cache.set(describeChain(m.id, saved.result.chain, saved.result.privateKey!));
      }
      const fresh = o.cache.get(m.id)!;
      m.failures = 0;
      m.lastError = undefined;
      const kind = current ? 'renewed' : 'obtained';
      o.logger.info(
        { names: m.names, serial: fresh.serial, notAfter: fresh.notAfter.toISOString() },
        `certificate ${kind}`,
      );
      this.#emit(kind, {
        id: m.id,
        names: [...m.names],
        serial: fresh.serial,
        notAfter: fresh.notAfter,
        onDemand: m.onDemand,
      });
      // Look again when half of the fresh certificate's remaining life has passed, if that comes before
      // the usual interval: a short-lived one (minutes) is then checked, and renewed, before it expires.
      const halfLeft = (fresh.notAfter.getTime() - o.clock.now()) / 2;
      this.schedule(m, Math.min(this.#jittered(o.checkIntervalMs), Math.max(1000, halfLeft)));
      return { ok: true };
    } catch (err) {
      if (this.#closed) return { ok: false };
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof FencedWriteError) return this.#leaseLost(m, error);
      m.failures++;
      m.lastError = error.message;
      m.solverOffset++;
      await recordFailure(o.store, m.id, error).catch(() => {});
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
      this.#emit('failed', { id: m.id, names: [...m.names], error, failures: m.failures, retryAt });
      const current = o.cache.get(m.id);
      if (current) this.#warnIfExpiring(m, current);
      if (retry) this.schedule(m, delay);
      return { ok: false, error };
    }
  }

  /**
   * The serial obtainAndSave should find once it holds the lock; when it finds another, a process renewed
   * meanwhile and nothing is ordered. Undefined: a certificate was stored since this check began.
   */
  async #expectedSerial(m: Managed, current: CachedCertificate | undefined): Promise<string | undefined> {
    if (current) return current.serial; // obtainAndSave compares it with the record's spelling by sameSerial()
    // Read before the certificate (again): a certificate stored in between is never mistaken for the
    // expected one.
    const recorded = (await readRecord(this.#o.store, m.id))?.acmekit?.serial;
    if (await this.loadFromStore(m)) return undefined;
    return recorded ?? ''; // nothing served yet: what the record names, if anything
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
    this.#emit('expiring', { id: m.id, names: [...m.names], notAfter: cert.notAfter, expired: left <= 0 });
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

function coversAll(cert: CachedCertificate, names: readonly string[]): boolean {
  return names.every((n) => cert.names.includes(n));
}

function rotate<T>(list: readonly T[], offset: number): T[] {
  const k = offset % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function withoutBackoff(record: CertificateRecord): CertificateRecord {
  if (!record.acmekit?.lastRenewalAttempt) return record;
  const { lastRenewalAttempt: _dropped, ...rest } = record.acmekit;
  return { ...record, acmekit: rest };
}
