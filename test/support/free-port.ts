import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The first port the kernel hands out to outgoing connections and to `listen(0)`: ports below it are
 * never taken by a client socket of a parallel test (its local port) nor by another server asking for
 * any port, which is what a port picked now and bound later (Pebble's http-01 port, a solver's listener)
 * must avoid.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}
const LOW = 10_000;
const HIGH = ephemeralLow();

function tryListen(port: number, host: string): Promise<number | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => resolve(address && typeof address === 'object' ? address.port : undefined));
    });
  });
}

/**
 * A port that was free a moment ago on `host`, picked at random below the ephemeral range (so no
 * client socket or `listen(0)` elsewhere can take it meanwhile); another test picking the same one is
 * the remaining, small, chance, so servers started on it still retry on "address already in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50 && HIGH - LOW > 1000; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if ((await tryListen(port, host)) !== undefined) return port;
  }
  const port = await tryListen(0, host);
  if (port === undefined) throw new Error('freePort: no TCP port could be bound');
  return port;
}
