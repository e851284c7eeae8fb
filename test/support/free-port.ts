import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on `host`: bind port 0, read what the kernel picked, close.
 * Another process can still take it before the caller binds, so servers started on it should
 * retry on "address already in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: no TCP address');
  return address.port;
}
