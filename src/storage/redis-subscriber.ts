import { backoffDelay } from '../internal/backoff.ts';
import { systemClock } from '../internal/clock.ts';
import type { ChannelSubscriber } from './channel-watch.ts';

/** The part of a node-redis (5+) client that SUBSCRIBE needs; `client.duplicate()` makes one. */
export interface RedisPubSubClient {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  destroy(): void;
}

/**
 * SUBSCRIBE on a connection of its own (a subscribed connection can do nothing else), made by `create`:
 * with node-redis, `nodeRedisSubscriber(() => client.duplicate())`. node-redis reconnects and subscribes
 * again by itself and says 'ready' once it has, so every 'ready' after the first subscription is a new one.
 * A first connection that fails is retried on a fresh client, with backoff, until the signal fires.
 *
 * ioredis users write their own ChannelSubscriber in a few lines: `redis.duplicate()`, `subscribe`,
 * `on('message')`, and call `subscribed()` from the 'ready' event after the first.
 */
export function nodeRedisSubscriber(create: () => RedisPubSubClient): ChannelSubscriber {
  return {
    subscribe(channel, events, signal) {
      void (async () => {
        for (let failures = 0; !signal.aborted; ) {
          const client = create();
          let subscribed = false;
          const stop = (): void => {
            try {
              client.destroy();
            } catch {
              // already closed
            }
          };
          client.on('error', (err) => {
            if (!signal.aborted) events.error(err);
          });
          client.on('ready', () => {
            if (subscribed && !signal.aborted) events.subscribed();
          });
          signal.addEventListener('abort', stop, { once: true });
          try {
            await client.connect();
            await client.subscribe(channel, (message) => {
              if (!signal.aborted) events.message(message);
            });
            if (signal.aborted) return;
            subscribed = true;
            events.subscribed();
            return; // from here on the client keeps itself subscribed
          } catch (err) {
            signal.removeEventListener('abort', stop);
            stop();
            if (signal.aborted) return;
            events.error(err instanceof Error ? err : new Error(String(err)));
            failures++;
            await systemClock
              .sleep(backoffDelay(failures, { baseMs: 250, maxMs: 5_000 }), signal)
              .catch(() => {});
          }
        }
      })();
    },
  };
}
