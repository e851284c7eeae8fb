import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { AcmeClient, type AcmeClientOptions } from '../../../src/index.ts';
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from '../../support/fault-proxy.ts';
import type { PebbleServer } from '../../support/pebble.ts';

// Shared by the test files that drive a client through the fault proxy in front of Pebble
// (retries, directory anomalies, slow server, hostile tokens).

export interface Proxied {
  proxy: FaultProxy;
  client: AcmeClient;
}

/** A fresh proxy in front of `pebble` and a client talking through it, both closed when the test ends. */
export async function proxiedClient(
  t: TestContext,
  pebble: PebbleServer,
  opts: AcmeClientOptions = {},
  proxyOpts: Omit<FaultProxyOptions, 'target'> = {},
): Promise<Proxied> {
  const proxy = await startFaultProxy({ target: pebble, ...proxyOpts });
  const client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle, ...opts });
  t.after(async () => {
    client.close();
    await proxy.stop();
  });
  return { proxy, client };
}

export const uniqueName = (label: string) => `${label}-${randomBytes(4).toString('hex')}.example.com`;

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

/** Waits (bounded) until `check` holds; for effects that reach the proxy a moment after the client moved on. */
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** A TCP listener on a free loopback port that only counts connections (and closes them): "nothing may come here". */
export interface Tripwire {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

export async function tripwire(t: TestContext): Promise<Tripwire> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tripwire: no TCP address');
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  t.after(close);
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    close,
  };
}
