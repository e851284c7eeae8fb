import { AcmeProblemError, RateLimitedError } from '../errors/problem.ts';
import { backoffDelay } from '../internal/backoff.ts';

export interface RetryPolicy {
  minMs: number;
  maxMs: number;
  random?: () => number;
}

export interface RetryDecision {
  delayMs: number;
  /** Why the wait is longer than the plain backoff, for the log; undefined when it is not. */
  why: string | undefined;
}

/**
 * How long the manager waits after a failed attempt: exponential backoff, but never sooner than the
 * CA's Retry-After, and the longest wait for a name the CA has paused (Let's Encrypt answers 429 with
 * an unpause link in the detail: retrying changes nothing until a person follows it).
 */
export function retryDelay(error: Error, failures: number, now: number, policy: RetryPolicy): RetryDecision {
  const backoff = backoffDelay(failures, {
    baseMs: policy.minMs,
    maxMs: policy.maxMs,
    ...(policy.random ? { random: policy.random } : {}),
  });
  if (error instanceof RateLimitedError && /unpause/i.test(error.detail)) {
    return {
      delayMs: policy.maxMs,
      why: 'the CA paused this name; follow the link in the error to unpause it',
    };
  }
  if (error instanceof AcmeProblemError && error.retryAfter) {
    const wait = Math.min(error.retryAfter.getTime() - now, policy.maxMs);
    if (wait > backoff) return { delayMs: wait, why: 'the CA asked to wait (Retry-After)' };
  }
  return { delayMs: backoff, why: undefined };
}
