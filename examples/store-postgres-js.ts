/**
 * acmekit's PostgresStore on postgres.js (`npm install postgres`) instead of pg, for an application
 * that already uses postgres.js: the SqlClient adapter is ten lines; change notifications (LISTEN) are
 * optional. Every server of the cluster builds its store the same way and passes it to autoHttps:
 *
 *   const tls = await autoHttps({ domains, email, acceptTos: true, store: postgresJsStore(sql) });
 *
 * Run against a database (creates acmekit's tables if missing, writes and reads one entry):
 *   DATABASE_URL=postgres://user:password@127.0.0.1:5432/db npx tsx examples/store-postgres-js.ts
 */

import postgres from 'postgres';
import { type ChannelSubscriber, PostgresStore, type SqlClient } from '../src/storage/postgres-store.ts';

function postgresJsStore(sql: postgres.Sql): PostgresStore {
  const client: SqlClient = {
    async query(text, params) {
      // unsafe() takes $1… placeholders as they are; Buffers go to bytea, bytea comes back as Buffer.
      const result = await sql.unsafe(text, params as never[]);
      return { rows: [...result], rowCount: result.count };
    },
  };
  // Optional: LISTEN for other servers' renewals (without it they are found by periodic checks).
  // postgres.js keeps one connection for LISTEN and listens again after a reconnect, calling onlisten.
  const listen: ChannelSubscriber = {
    subscribe(channel, events, signal) {
      const attempt = (): void => {
        if (signal.aborted) return;
        sql.listen(channel, events.message, events.subscribed).then(
          (request) => {
            const stop = (): void => void request.unlisten().catch(() => {});
            if (signal.aborted) stop();
            else signal.addEventListener('abort', stop, { once: true });
          },
          (err: Error) => {
            events.error(err);
            setTimeout(attempt, 1000).unref(); // the first LISTEN failed: try again
          },
        );
      };
      attempt();
    },
  };
  return new PostgresStore(client, { listen });
}

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL=postgres://user:password@host:5432/db');
const sql = postgres(url, { max: 5, onnotice: () => {} });
const store = postgresJsStore(sql);
try {
  await store.put('examples/hello.txt', 'hello from postgres.js', { private: true });
  const value = await store.get('examples/hello.txt');
  const lease = await store.lock('examples-lock', { ttlMs: 10_000 });
  console.log(`read back "${Buffer.from(value!).toString()}"; lease fence ${lease.fence}`);
  await lease.release();
  await store.delete('examples/hello.txt');
} finally {
  await sql.end();
}
