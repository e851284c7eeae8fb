/** The subset of a pino logger acmekit calls; any pino (or console-like adapter) fits. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** The library stays silent unless given a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * Something the library waits for: the CA validating or issuing, a TXT record showing on the
 * nameservers, a retry delay. Two events tell a front end about it (the CLI draws a status line from
 * them): the first carries `wait` (the kind), `waitFor` (the names or the URL concerned) and, when the
 * length is known beforehand, `delayMs`; the second, logged however the wait ends, carries `waitDone`
 * (the same kind), the same `waitFor` and `elapsedMs`.
 */
export interface Wait {
  kind: 'validation' | 'issuance' | 'dns-propagation' | 'dns-delay' | 'challenge-delay' | 'retry';
  /** The names (comma separated) or the URL waited for. */
  waitFor: string;
  /** How long it lasts, when that is known before it starts (a fixed delay, a Retry-After). */
  delayMs?: number;
  /** More fields for both events (e.g. the order URL, an HTTP status). */
  fields?: Record<string, unknown>;
  /** Default info for the start, and info for the end. */
  level?: 'info' | 'debug';
  doneLevel?: 'info' | 'debug';
}

/** Runs `run` between the two events of a `Wait`; `now` measures it (the caller's clock). */
export async function loggedWait<T>(
  logger: Logger,
  wait: Wait,
  messages: { start: string; done: string },
  run: () => Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  const began = now();
  const base = { ...wait.fields, waitFor: wait.waitFor };
  logger[wait.level ?? 'info'](
    { ...base, wait: wait.kind, ...(wait.delayMs !== undefined ? { delayMs: wait.delayMs } : {}) },
    messages.start,
  );
  let failed = false;
  try {
    return await run();
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    logger[wait.doneLevel ?? 'info'](
      { ...base, waitDone: wait.kind, elapsedMs: Math.max(0, now() - began), ...(failed ? { failed } : {}) },
      messages.done,
    );
  }
}
