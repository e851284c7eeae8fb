import { backoffDelay } from '../internal/backoff.ts';
import { systemClock } from '../internal/clock.ts';
import type { ChannelEvents, ChannelSubscriber } from './channel-watch.ts';

/**
 * One connection of its own, as a `pg.PoolClient` is: LISTEN is session state, so it needs a
 * connection nobody else uses (and never one behind PgBouncer in transaction mode).
 */
export interface SqlSession {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  /** Gives the connection back; `true` closes it instead (pg: `release(true)`). */
  release(destroy?: boolean | Error): void;
}

/** Where the LISTEN session comes from: a `pg.Pool` fits as is. */
export interface SqlSessionSource {
  connect(): Promise<SqlSession>;
}

export interface PoolSubscriberOptions {
  /** How often the LISTEN session is checked with `SELECT 1` (ms), so a silently dead link is noticed; default 15 s. */
  heartbeatMs?: number;
  /** Backoff between reconnects (ms); default 250 ms doubling to 5 s. */
  retry?: { minMs: number; maxMs: number };
}

/**
 * LISTEN on a session taken from `source` and held until the signal fires. When the session fails (the
 * database restarted, the link died, a heartbeat went unanswered) it is closed and a new one is taken,
 * with backoff, and LISTEN runs again.
 */
export function poolSubscriber(
  source: SqlSessionSource,
  options: PoolSubscriberOptions = {},
): ChannelSubscriber {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const retry = options.retry ?? { minMs: 250, maxMs: 5_000 };
  return {
    subscribe(channel, events, signal) {
      void keepListening(source, channel, events, signal, heartbeatMs, retry);
    },
  };
}

async function keepListening(
  source: SqlSessionSource,
  channel: string,
  events: ChannelEvents,
  signal: AbortSignal,
  heartbeatMs: number,
  retry: { minMs: number; maxMs: number },
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let session: SqlSession | undefined;
    let lost: Error | undefined;
    try {
      session = await source.connect();
      // Attached first: an 'error' event nobody listens to would end the process.
      const watcher = watchSession(session);
      session.on('notification', (message) => {
        if (message.channel === channel && typeof message.payload === 'string')
          events.message(message.payload);
      });
      await session.query(`LISTEN ${quoteIdentifier(channel)}`);
      failures = 0;
      events.subscribed();
      lost = await watcher.hold(signal, heartbeatMs);
    } catch (err) {
      lost = asError(err);
    }
    // Closed, never returned to the pool: it still LISTENs, or it is broken.
    try {
      session?.release(true);
    } catch {
      // already gone
    }
    if (signal.aborted) return;
    events.error(lost ?? new Error('the LISTEN connection was lost'));
    failures++;
    await systemClock
      .sleep(backoffDelay(failures, { baseMs: retry.minMs, maxMs: retry.maxMs }), signal)
      .catch(() => {});
  }
}

/**
 * Follows one session: `hold` resolves with why it was lost (error, end, a heartbeat unanswered within
 * heartbeatMs), or undefined once the signal fired. Plain listeners and timers, no long-lived races.
 */
function watchSession(session: SqlSession): {
  hold(signal: AbortSignal, heartbeatMs: number): Promise<Error | undefined>;
} {
  let lostEarly: Error | undefined;
  let onLost: (err: Error) => void = (err) => {
    lostEarly ??= err;
  };
  session.on('error', (err) => onLost(asError(err)));
  session.on('end', () => onLost(new Error('the LISTEN connection ended')));
  return {
    hold: (signal, heartbeatMs) =>
      new Promise((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        let done = false;
        const finish = (result: Error | undefined): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const onAbort = (): void => finish(undefined);
        onLost = finish;
        if (lostEarly) return finish(lostEarly);
        if (signal.aborted) return finish(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
        const beat = (): void => {
          timer = setTimeout(() => {
            timer = setTimeout(
              () => finish(new Error(`the LISTEN connection did not answer within ${heartbeatMs} ms`)),
              heartbeatMs,
            );
            timer.unref();
            session.query('SELECT 1').then(
              () => {
                clearTimeout(timer);
                if (!done) beat();
              },
              (err: unknown) => finish(asError(err)),
            );
          }, heartbeatMs);
          timer.unref();
        };
        beat();
      }),
  };
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
