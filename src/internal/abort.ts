import { AbortedError, type AcmekitError, TimeoutError } from '../errors/base.ts';

/** The error for a fired signal: TimeoutError when it was a deadline (AbortSignal.timeout), else AbortedError. */
export function abortError(reason: unknown): AcmekitError {
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError('the operation ran past its deadline', { cause: reason });
  }
  return new AbortedError(reason);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal.reason);
}

/**
 * Runs `start` (which returns its own cancel function) and settles early with AbortedError
 * when the signal fires, after cancelling the work.
 */
export function abortable<T>(
  signal: AbortSignal | undefined,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal.reason));
      return;
    }
    let cancel: () => void = () => {};
    const onAbort = (): void => {
      cancel();
      reject(abortError(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel = start(
      (v) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A signal that fires when any of the given ones does (undefined entries ignored). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return AbortSignal.any(present);
}
