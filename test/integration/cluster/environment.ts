import { AcmeClient } from '../../../src/acme/client.ts';
import type { Store } from '../../../src/storage/store.ts';
import { deactivateStoredAccountAuthorizations } from '../../support/authorizations.ts';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { freePort } from '../../support/free-port.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres.ts';
import { type RedisServer, startRedis } from '../../support/redis.ts';
import { type RoundRobinProxy, startRoundRobinProxy } from '../../support/round-robin-proxy.ts';
import { ClusterNode, type NodeConfig } from './cluster.ts';

/**
 * What every cluster test runs on: one store server (PostgreSQL or Redis), one Pebble reached through
 * the fault proxy (whose log counts the orders), and a round-robin balancer on Pebble's http-01 port in
 * front of the server processes.
 */
export interface ClusterEnvironment {
  backend: 'postgres' | 'redis';
  db: PostgresServer | RedisServer;
  pebble: PebbleServer;
  proxy: FaultProxy;
  balancer: RoundRobinProxy;
  nodes: ClusterNode[];
  /** Starts a server process and puts it behind the balancer. */
  startNode(name: string): Promise<ClusterNode>;
  /** Points the balancer at these processes (a health check taking one out). */
  balance(nodes: readonly ClusterNode[]): void;
  /**
   * Deactivates every valid authorization the cluster's account holds, so the next order must validate
   * (reach present). Pebble reuses a valid one about 1 % of the time even at PEBBLE_AUTHZREUSE=0: it
   * makes a new one only when rand.Intn(100) > the percentage.
   */
  forgetAuthorizations(store: Store): Promise<number>;
  stop(): Promise<void>;
}

export const DOMAIN = 'cluster.example.com';
/** Short, so takeovers happen within seconds; the holder extends it every second. */
export const LEASE_TTL_MS = 3000;

export async function startClusterEnvironment(backend: 'postgres' | 'redis'): Promise<ClusterEnvironment> {
  const httpPort = await freePort();
  const [db, balancer, pebble] = await Promise.all([
    backend === 'postgres' ? startPostgres() : startRedis(),
    startRoundRobinProxy({ port: httpPort }),
    // Every order validates again (no reused authorizations), so each one reaches the balancer.
    startPebble({ httpPort, authzReuse: 0 }),
  ]);
  const proxy = await startFaultProxy({ target: pebble });
  const nodes: ClusterNode[] = [];
  const env: ClusterEnvironment = {
    backend,
    db,
    pebble,
    proxy,
    balancer,
    nodes,
    async startNode(name) {
      const config: NodeConfig = {
        name,
        backend,
        url: db.url,
        prefix: backend === 'postgres' ? 'cluster_' : 'cluster:',
        directory: proxy.directoryUrl,
        caBundle: pebble.caBundle,
        domains: [DOMAIN],
        lockTtlMs: LEASE_TTL_MS,
        // Long: a renewal seen within seconds can only have come through a notification.
        storeCheckIntervalMs: 600_000,
      };
      const node = await ClusterNode.start(config);
      nodes.push(node);
      env.balance(nodes.filter((n) => !n.exited));
      return node;
    },
    balance(list) {
      balancer.setBackends(list.map((n) => n.httpPort));
    },
    async forgetAuthorizations(store) {
      const client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle });
      try {
        return await deactivateStoredAccountAuthorizations(store, client);
      } finally {
        client.close();
      }
    },
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await Promise.allSettled([proxy.stop(), balancer.stop()]);
      await Promise.allSettled([pebble.stop(), db.stop()]);
    },
  };
  return env;
}
