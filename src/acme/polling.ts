import { TimeoutError } from '../errors/base.ts';
import { backoffDelay } from '../internal/backoff.ts';
import type { Clock } from '../internal/clock.ts';
import { clampDelay } from '../protocol/retry-after.ts';

/** How to poll an order or authorization: quick first look, then exponential backoff with jitter. */
export interface PollPolicy {
  /** Delay before the first poll. Default 10 ms: a CA may finish within milliseconds, and one early request is cheap. */
  firstDelayMs: number;
  /** Base of the exponential backoff after the first poll. Default 250 ms. */
  backoffBaseMs: number;
  /** Longest delay between polls when the server gives no Retry-After. Default 10 s. */
  maxDelayMs: number;
  /** Retry-After values are clamped to [minRetryAfterMs, maxRetryAfterMs]. */
  minRetryAfterMs: number;
  maxRetryAfterMs: number;
  /** Give up after this long in one wait. Default 5 min. */
  timeoutMs: number;
}

export const defaultPollPolicy: PollPolicy = {
  firstDelayMs: 10,
  backoffBaseMs: 250,
  maxDelayMs: 10_000,
  minRetryAfterMs: 100,
  maxRetryAfterMs: 60_000,
  timeoutMs: 300_000,
};

export interface PollStep<T> {
  value: T;
  /** From the response's Retry-After header, when present (ms). */
  retryAfterMs: number | undefined;
}

/**
 * Polls until `done` says so. Never a fixed sleep: the first poll is quick, later ones back off,
 * and the server's Retry-After wins (clamped, RFC 8555 §7.5.1 / §7.4).
 */
export async function pollUntil<T>(
  what: string,
  fetch: () => Promise<PollStep<T>>,
  done: (value: T) => boolean,
  opts: { policy: PollPolicy; clock: Clock; signal?: AbortSignal | undefined; random?: () => number },
): Promise<T> {
  const { policy, clock } = opts;
  const deadline = clock.now() + policy.timeoutMs;
  let delay = policy.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    await clock.sleep(Math.min(delay, Math.max(0, deadline - clock.now())), opts.signal);
    const step = await fetch();
    if (done(step.value)) return step.value;
    if (clock.now() >= deadline) {
      throw new TimeoutError(`${what} did not finish within ${Math.round(policy.timeoutMs / 1000)} s`);
    }
    delay =
      step.retryAfterMs !== undefined
        ? clampDelay(step.retryAfterMs, { minMs: policy.minRetryAfterMs, maxMs: policy.maxRetryAfterMs })
        : backoffDelay(attempt, {
            baseMs: policy.backoffBaseMs,
            maxMs: policy.maxDelayMs,
            random: opts.random ?? Math.random,
          });
  }
}
