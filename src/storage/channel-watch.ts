import { InvalidInputError } from '../errors/base.ts';
import { abortError } from '../internal/abort.ts';
import { assertSafePrefix } from './safe-key.ts';
import type { StoreWatchHandler } from './store.ts';

/** What a subscription reports: each message, each time it took effect, each loss. */
export interface ChannelEvents {
  message(payload: string): void;
  /** The subscription is active: the first time, and again after every reconnect. */
  subscribed(): void;
  error(err: Error): void;
}

/**
 * A publish/subscribe channel kept alive across reconnects: PostgreSQL LISTEN on a dedicated session,
 * or Redis SUBSCRIBE on a dedicated connection. `subscribe` returns at once and keeps trying (with
 * backoff) until `signal` fires, then lets its connection go.
 */
export interface ChannelSubscriber {
  subscribe(channel: string, events: ChannelEvents, signal: AbortSignal): void;
}

/**
 * Store.watch on top of a channel whose messages are store keys: filters by prefix, resolves on the
 * first subscription, and turns every later one into `resync()` (messages sent while it was down are gone).
 * `describeError` turns a connection error into the store's own (credentials scrubbed) before the handler sees it.
 */
export function watchChannel(
  subscriber: ChannelSubscriber | undefined,
  backend: string,
  channel: string,
  prefix: string,
  handler: StoreWatchHandler,
  signal: AbortSignal,
  describeError: (err: Error) => Error,
): Promise<void> {
  assertSafePrefix(prefix);
  if (!subscriber) {
    return Promise.reject(
      new InvalidInputError(
        `this ${backend} store cannot watch: give it a way to subscribe (see the store's options), or rely on periodic checks`,
      ),
    );
  }
  if (signal.aborted) return Promise.reject(abortError(signal.reason));
  return new Promise<void>((resolve, reject) => {
    let active = false;
    const onAbort = (): void => {
      if (!active) reject(abortError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    subscriber.subscribe(
      channel,
      {
        message: (payload) => {
          if (!signal.aborted && payload.startsWith(prefix)) quietly(() => handler.change(payload));
        },
        subscribed: () => {
          if (signal.aborted) return;
          if (active) {
            quietly(() => handler.resync());
            return;
          }
          active = true;
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        error: (err) => {
          if (!signal.aborted) quietly(() => handler.error?.(describeError(err)));
        },
      },
      signal,
    );
  });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // A handler's failure is its own (WatchableStore contract); the subscription carries on.
  }
}
