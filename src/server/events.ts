import { EventEmitter } from 'node:events';

export interface CertificateEvent {
  /** The main name: the first of `names`, which also names its files in the store. */
  id: string;
  names: string[];
  serial: string;
  notAfter: Date;
  onDemand: boolean;
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
