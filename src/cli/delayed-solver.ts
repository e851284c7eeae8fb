import { setTimeout as sleep } from 'node:timers/promises';
import type { Identifier } from '../crypto/identifier.ts';
import { type Logger, loggedWait, silentLogger } from '../internal/logger.ts';
import type { ChallengeContext, Solver } from '../solvers/solver.ts';

/**
 * lego's --http.delay / --tls.delay: the CA is asked to check only this long after the answer is in
 * place (a web server or load balancer that needs time to pick up the file or listener).
 */
class DelayedSolver implements Solver {
  readonly type: Solver['type'];
  readonly #inner: Solver;
  readonly #delayMs: number;
  readonly #logger: Logger;
  constructor(inner: Solver, delayMs: number, logger: Logger) {
    this.type = inner.type;
    this.#inner = inner;
    this.#delayMs = delayMs;
    this.#logger = logger;
  }
  present(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    return this.#inner.present(ctx, signal);
  }
  async wait(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    await this.#inner.wait?.(ctx, signal);
    await loggedWait(
      this.#logger,
      { kind: 'challenge-delay', waitFor: ctx.identifier.value, delayMs: this.#delayMs },
      { start: 'waiting before asking the CA to check', done: 'done waiting before the check' },
      () => sleep(this.#delayMs, undefined, { signal }),
    );
  }
  cleanup(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    return this.#inner.cleanup(ctx, signal);
  }
  handles(identifier: Identifier): boolean {
    return this.#inner.handles ? this.#inner.handles(identifier) : true;
  }
}

/** Each solver wrapped in a DelayedSolver when there is a delay; the solvers as they are otherwise. */
export function delayed(
  solvers: Solver[],
  delayMs: number | undefined,
  logger: Logger = silentLogger,
): Solver[] {
  return delayMs ? solvers.map((s) => new DelayedSolver(s, delayMs, logger)) : solvers;
}
