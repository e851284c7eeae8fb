/**
 * acmekit's RedisStore on ioredis (`npm install ioredis`) instead of @redis/client, for an application
 * that already uses ioredis: the RedisLike adapter is one line; change notifications (SUBSCRIBE) are
 * optional. Every server of the cluster builds its store the same way and passes it to autoHttps:
 *
 *   const tls = await autoHttps({ domains, email, acceptTos: true, store: ioredisStore(redis) });
 *
 * Run against a Redis (writes and reads one entry under the key prefix "acmekit:"):
 *   REDIS_URL=redis://:password@127.0.0.1:6379 npx tsx examples/store-ioredis.ts
 */

import { Redis } from 'ioredis';
import { type ChannelSubscriber, type RedisLike, RedisStore } from '../src/storage/redis-store.ts';

function ioredisStore(redis: Redis): RedisStore {
  // callBuffer: bulk strings come back as Buffers (values are bytes), integers as numbers, nil as null.
  const client: RedisLike = { sendCommand: ([name, ...args]) => redis.callBuffer(String(name), ...args) };
  // Optional: SUBSCRIBE for other servers' renewals, on a connection of its own (SUBSCRIBE takes it
  // over); subscribed again on every (re)connect so that acmekit re-reads what it may have missed.
  const subscriber: ChannelSubscriber = {
    subscribe(channel, events, signal) {
      const sub = redis.duplicate({ autoResubscribe: false, enableOfflineQueue: false, lazyConnect: false });
      sub.on('error', (err: Error) => events.error(err));
      sub.on('message', (from: string, message: string) => {
        if (from === channel) events.message(message);
      });
      sub.on('ready', () => {
        sub.subscribe(channel).then(() => events.subscribed(), events.error);
      });
      signal.addEventListener('abort', () => sub.disconnect(), { once: true });
    },
  };
  return new RedisStore(client, { subscriber });
}

const url = process.env.REDIS_URL;
if (!url) throw new Error('set REDIS_URL=redis://:password@host:6379');
// Fail calls at once while disconnected, instead of queueing them until Redis is back.
const redis = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
await redis.connect();
const store = ioredisStore(redis);
try {
  await store.put('examples/hello.txt', 'hello from ioredis', { private: true });
  const value = await store.get('examples/hello.txt');
  const lease = await store.lock('examples-lock', { ttlMs: 10_000 });
  console.log(`read back "${Buffer.from(value!).toString()}"; lease fence ${lease.fence}`);
  await lease.release();
  await store.delete('examples/hello.txt');
} finally {
  redis.disconnect();
}
