import { EventEmitter } from 'node:events';
import type { Solver } from '../solvers/solver.ts';
import type { Store } from '../storage/store.ts';

export interface CertificateEvent {
  /** The main name: the first of `names`, which also names its files in the store. */
  id: string;
  names: string[];
  serial: string;
  notAfter: Date;
  onDemand: boolean;
  /** Why it was ordered, in the words the CLI and status() use ("no certificate yet", "renewal forced"…). */
  reason: string;
}

export interface FailureEvent {
  id: string;
  names: string[];
  /** The error, safe to log: it never holds key material. */
  error: Error;
  /** Failures in a row. */
  failures: number;
  /** When the next attempt is scheduled (undefined for an on-demand name that waits for its next handshake). */
  retryAt: Date | undefined;
  /** Why the attempt was made, when it got that far. */
  reason?: string;
}

export interface ExpiringEvent {
  id: string;
  names: string[];
  notAfter: Date;
  expired: boolean;
}

export interface AutoHttpsEvents {
  obtained: CertificateEvent;
  renewed: CertificateEvent;
  failed: FailureEvent;
  expiring: ExpiringEvent;
}

export type AutoHttpsEventName = keyof AutoHttpsEvents;

/**
 * Internal hook for what the public events do not show (challenge outcomes, lock waits): called once
 * at the start of each attempt to obtain or renew certificate `id`, it returns the store and solvers
 * that attempt uses instead. The attempt ends with the `obtained`, `renewed` or `failed` event for `id`
 * (or with `close()`). It MUST keep the solvers' types and order and the store's guarantees.
 */
export type AttemptInstrument = (
  id: string,
  store: Store,
  solvers: readonly Solver[],
) => { store: Store; solvers: Solver[] };

/** A typed EventEmitter: a listener that throws is logged by the caller, never crashes the server. */
export class AutoHttpsEmitter {
  readonly #emitter = new EventEmitter();

  on<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  once<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): this {
    this.#emitter.once(event, listener);
    return this;
  }

  off<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): this {
    this.#emitter.off(event, listener);
    return this;
  }

  /** Returns the listener errors instead of throwing them. */
  emit<K extends AutoHttpsEventName>(event: K, payload: AutoHttpsEvents[K]): unknown[] {
    const errors: unknown[] = [];
    // rawListeners: a `once` wrapper removes itself when called; listeners() would keep it forever.
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (e: AutoHttpsEvents[K]) => void)(payload);
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }
}
