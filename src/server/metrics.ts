import { performance } from 'node:perf_hooks';
import { AuthorizationFailedError } from '../errors/authorization.ts';
import { InvalidInputError } from '../errors/base.ts';
import type { Logger } from '../internal/logger.ts';
import type { ChallengeContext, Solver } from '../solvers/solver.ts';
import type { Lease, LockOptions, Store } from '../storage/store.ts';
import type { AttemptInstrument, AutoHttpsEmitter, CertificateEvent, FailureEvent } from './events.ts';
import type { OnDemandOutcome } from './on-demand.ts';
import type { SniCache } from './sni-cache.ts';

/** The part of a prom-client `Registry` acmekit uses; acmekit's own type, so prom-client stays optional. */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

export interface MetricsOptions {
  /**
   * A prom-client (v15) `Registry` the app already serves. acmekit registers its series there (reusing
   * them when another manager in the process did first) and never touches prom-client's global registry
   * unless that is the one given. prom-client is loaded only when this option is set.
   */
  registry: MetricsRegistry;
}

/** What the manager wires in: the attempt hook, the on-demand outcome hook, and the end. */
export interface ServerMetrics {
  readonly instrument: AttemptInstrument;
  readonly onDemandOutcome: (outcome: OnDemandOutcome) => void;
  /** Stops listening and drops this manager's per-certificate series; counters keep their totals. */
  close(): void;
}

/** Every series acmekit registers; docs/server.md lists the same (a test keeps them in step). */
export const METRICS = {
  expiry: {
    kind: 'Gauge',
    name: 'acmekit_certificate_expiry_timestamp_seconds',
    help: 'When the certificate in service expires (its notAfter), as Unix seconds, by certificate id',
    labelNames: ['id'],
  },
  obtained: {
    kind: 'Counter',
    name: 'acmekit_certificates_obtained_total',
    help: 'First certificates obtained for a certificate id, configured or on demand',
    labelNames: ['on_demand'],
  },
  obtainFailures: {
    kind: 'Counter',
    name: 'acmekit_certificate_obtain_failures_total',
    help: 'Failed attempts to obtain the first certificate for an id, by error code',
    labelNames: ['reason'],
  },
  renewals: {
    kind: 'Counter',
    name: 'acmekit_renewals_total',
    help: 'Renewals of a certificate in service, by result; failures also by error code',
    labelNames: ['result', 'reason'],
  },
  challenges: {
    kind: 'Counter',
    name: 'acmekit_challenges_total',
    help: 'Challenges presented, by type and result (valid, invalid, error, abandoned)',
    labelNames: ['type', 'result'],
  },
  lockWait: {
    kind: 'Histogram',
    name: 'acmekit_lock_wait_seconds',
    help: 'Seconds an attempt waited for the certificate lease in the store, by result',
    labelNames: ['result'],
    // A lease taken at once, one held by another process's short renewal, up to the 15-min wait limit.
    buckets: [0.005, 0.05, 0.25, 1, 5, 15, 60, 300, 900],
  },
  onDemand: {
    kind: 'Counter',
    name: 'acmekit_on_demand_decisions_total',
    help: 'On-demand TLS attempts for unknown server names, by how they ended',
    labelNames: ['outcome'],
  },
} as const;

type PromClient = typeof import('prom-client');
type Labels = Record<string, string>;

interface Series {
  expiry: { set(labels: Labels, value: number): void; remove(labels: Labels): void };
  obtained: { inc(labels: Labels): void };
  obtainFailures: { inc(labels: Labels): void };
  renewals: { inc(labels: Labels): void };
  challenges: { inc(labels: Labels): void };
  lockWait: { observe(labels: Labels, value: number): void };
  onDemand: { inc(labels: Labels): void };
}

/** One challenge presented during an attempt. */
interface Presented {
  identifier: string;
  type: string;
  /** Our side failed (present or wait threw): the CA never judged it. */
  failed: boolean;
}

/**
 * Loads prom-client (only now: a server without metrics never imports it), registers the series and
 * feeds them from the manager's events, its SNI cache (certificate expiry, also for certificates read
 * from the store at start, which raise no event) and the two internal hooks it returns.
 */
export async function createServerMetrics(
  options: MetricsOptions,
  deps: { events: AutoHttpsEmitter; cache: SniCache; logger: Logger },
): Promise<ServerMetrics> {
  const registry = options?.registry;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new InvalidInputError('metrics.registry must be a prom-client Registry');
  }
  let prom: PromClient;
  try {
    prom = await import('prom-client');
  } catch (err) {
    throw new InvalidInputError('metrics need the prom-client package: npm install prom-client', undefined, {
      cause: err,
    });
  }
  return new Metrics(registerSeries(prom, registry), deps);
}

function registerSeries(prom: PromClient, registry: MetricsRegistry): Series {
  const registers = [registry as unknown as InstanceType<PromClient['Registry']>];
  const series: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(METRICS)) {
    const { kind, labelNames, ...rest } = spec;
    // A second manager in the process (or a restarted one) shares the series registered first.
    series[key] =
      registry.getSingleMetric(spec.name) ??
      new (prom[kind] as new (config: object) => unknown)({
        ...rest,
        labelNames: [...labelNames],
        registers,
      });
  }
  return series as unknown as Series;
}

class Metrics implements ServerMetrics {
  readonly #series: Series;
  readonly #deps: { events: AutoHttpsEmitter; cache: SniCache; logger: Logger };
  /** Challenges of the attempt running for each certificate id (a manager runs one at a time per id). */
  readonly #attempts = new Map<string, Presented[]>();
  /** Ids whose expiry series this manager set, dropped at close. */
  readonly #ids = new Set<string>();
  readonly #unobserve: () => void;
  #closed = false;

  constructor(series: Series, deps: { events: AutoHttpsEmitter; cache: SniCache; logger: Logger }) {
    this.#series = series;
    this.#deps = deps;
    const unobserveCache = deps.cache.observe((id, cert) =>
      this.#guard(() => {
        if (cert) {
          this.#series.expiry.set({ id }, cert.notAfter.getTime() / 1000);
          this.#ids.add(id);
        } else {
          this.#series.expiry.remove({ id });
          this.#ids.delete(id);
        }
      }),
    );
    const onObtained = (e: CertificateEvent): void =>
      this.#guard(() => {
        this.#series.obtained.inc({ on_demand: String(e.onDemand) });
        this.#settle(e.id, undefined);
      });
    const onRenewed = (e: CertificateEvent): void =>
      this.#guard(() => {
        this.#series.renewals.inc({ result: 'success' });
        this.#settle(e.id, undefined);
      });
    const onFailed = (e: FailureEvent): void => this.#guard(() => this.#failed(e));
    deps.events.on('obtained', onObtained).on('renewed', onRenewed).on('failed', onFailed);
    this.#unobserve = () => {
      unobserveCache();
      deps.events.off('obtained', onObtained).off('renewed', onRenewed).off('failed', onFailed);
    };
  }

  readonly instrument: AttemptInstrument = (id, store, solvers) => {
    if (this.#closed) return { store, solvers: [...solvers] };
    const presented: Presented[] = [];
    this.#attempts.set(id, presented);
    return {
      store: this.#timedLocks(store),
      solvers: solvers.map((s) => watchSolver(s, presented)),
    };
  };

  readonly onDemandOutcome = (outcome: OnDemandOutcome): void => {
    if (!this.#closed) this.#guard(() => this.#series.onDemand.inc({ outcome }));
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unobserve();
    this.#attempts.clear();
    for (const id of this.#ids) this.#guard(() => this.#series.expiry.remove({ id }));
    this.#ids.clear();
  }

  #failed(e: FailureEvent): void {
    const reason = errorReason(e.error);
    // The manager renews what it serves; with nothing in service yet the attempt was a first obtain.
    if (this.#deps.cache.get(e.id)) this.#series.renewals.inc({ result: 'failure', reason });
    else this.#series.obtainFailures.inc({ reason });
    this.#settle(e.id, e.error);
  }

  /** Counts each challenge of the attempt that just ended, judged by how the attempt ended. */
  #settle(id: string, error: Error | undefined): void {
    const presented = this.#attempts.get(id);
    if (!presented) return;
    this.#attempts.delete(id);
    for (const p of presented) {
      this.#series.challenges.inc({ type: p.type, result: challengeResult(p, error) });
    }
  }

  /** The store with `lock` timed: how long the attempt waited for the certificate's lease. */
  #timedLocks(store: Store): Store {
    const observe = (result: string, since: number): void =>
      this.#guard(() => this.#series.lockWait.observe({ result }, (performance.now() - since) / 1000));
    const lock = async (name: string, opts: LockOptions): Promise<Lease> => {
      const since = performance.now();
      try {
        const lease = await store.lock(name, opts);
        observe('acquired', since);
        return lease;
      } catch (err) {
        observe('failed', since);
        throw err;
      }
    };
    // A proxy rather than a copy keeps every optional capability of the store visible to type guards.
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'lock') return lock;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#deps.logger.error({ err: (err as Error)?.message }, 'metrics update failed');
    }
  }
}

/**
 * valid: the attempt went through, so the CA accepted it; invalid: the CA refused this one; error: our
 * side could not present it; abandoned: the attempt ended otherwise (another challenge, the CA, close),
 * so its verdict is not known.
 */
function challengeResult(p: Presented, error: Error | undefined): string {
  if (p.failed) return 'error';
  if (!error) return 'valid';
  if (
    error instanceof AuthorizationFailedError &&
    error.identifier === p.identifier &&
    (error.challengeType === undefined || error.challengeType === p.type)
  ) {
    return 'invalid';
  }
  return 'abandoned';
}

/** The error's stable code (ERR_…), which bounds the label's values; anything else is ERR_UNKNOWN. */
export function errorReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^ERR_[A-Z0-9_]{1,60}$/.test(code) ? code : 'ERR_UNKNOWN';
}

/** The same solver, noting each challenge it presents and whether our side of it failed. */
function watchSolver(solver: Solver, presented: Presented[]): Solver {
  const note = (ctx: ChallengeContext): Presented => {
    const p = { identifier: ctx.identifier.value, type: solver.type, failed: false };
    presented.push(p);
    return p;
  };
  const notes = new WeakMap<ChallengeContext, Presented>();
  const failing = async (ctx: ChallengeContext, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      const p = notes.get(ctx);
      if (p) p.failed = true;
      throw err;
    }
  };
  const watched: Solver = {
    type: solver.type,
    present: (ctx, signal) => {
      notes.set(ctx, note(ctx));
      return failing(ctx, () => solver.present(ctx, signal));
    },
    cleanup: (ctx, signal) => solver.cleanup(ctx, signal),
  };
  // Optional capabilities stay optional: the order flow checks for their presence.
  if (solver.wait) watched.wait = (ctx, signal) => failing(ctx, () => solver.wait!(ctx, signal));
  if (solver.handles) watched.handles = (identifier) => solver.handles!(identifier);
  return watched;
}
