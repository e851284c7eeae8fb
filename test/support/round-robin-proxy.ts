import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer on 127.0.0.1 for cluster tests: each connection goes to the next backend in turn
 * (skipping one that refuses), as a round-robin balancer in front of a cluster would send the CA's
 * validation requests. Put it on Pebble's http-01 port:
 *
 *   const lb = await startRoundRobinProxy({ port: httpPort, backends: [a, b, c] });
 *   const pebble = await startPebble({ httpPort });
 *   // lb.log: which backend took each connection
 */
export interface RoundRobinProxy {
  readonly port: number;
  /** One entry per connection: the backend port it went to, or 0 when every backend refused. */
  readonly log: readonly number[];
  setBackends(ports: readonly number[]): void;
  stop(): Promise<void>;
}

export async function startRoundRobinProxy(opts: {
  port?: number;
  backends?: readonly number[];
}): Promise<RoundRobinProxy> {
  let backends = [...(opts.backends ?? [])];
  let next = 0;
  const log: number[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => {});
    const entry = log.push(0) - 1;
    const start = next++;
    const attempt = (tried: number): void => {
      if (client.destroyed) return;
      if (tried >= backends.length) {
        client.destroy();
        return;
      }
      const port = backends[(start + tried) % backends.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      track(upstream);
      upstream.once('error', () => {
        upstream.destroy();
        if (!upstream.remotePort) attempt(tried + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        log[entry] = port;
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host: '127.0.0.1', exclusive: true }, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    log,
    setBackends(ports) {
      backends = [...ports];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
