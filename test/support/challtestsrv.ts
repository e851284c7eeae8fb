import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from './child-process.ts';
import { freePort } from './free-port.ts';

/**
 * A real `pebble-challtestsrv` used as a mock DNS server on 127.0.0.1 (its HTTP-01, HTTPS-01 and
 * TLS-ALPN-01 responders are off so they never collide with the tests' own).
 * Every name without mock data answers A 127.0.0.1 and no AAAA.
 *
 *   const dns = await startChallTestSrv();
 *   after(() => dns.stop());
 */
export interface ChallTestSrv {
  dnsPort: number;
  /** `127.0.0.1:PORT`, for Pebble's `-dnsserver` or `Resolver#setServers`. */
  dnsAddress: string;
  managementUrl: string;
  /** Adds a TXT value; values for the same host accumulate until `clearTxt`. */
  addTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  addA(host: string, ip: string): Promise<void>;
  clearA(host: string): Promise<void>;
  setCname(host: string, target: string): Promise<void>;
  clearCname(host: string): Promise<void>;
  /** Captured stdout and stderr. */
  logs(): string;
  /** Kills the process; safe to call more than once. */
  stop(): Promise<void>;
}

export interface ChallTestSrvOptions {
  /** How long to wait for DNS and management to answer (default 10 s). */
  startTimeoutMs?: number;
}

const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);

export async function startChallTestSrv(opts: ChallTestSrvOptions = {}): Promise<ChallTestSrv> {
  // A port from freePort() can be taken by a parallel test before we bind it; retry on fresh ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStart(opts.startTimeoutMs ?? 10_000);
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('address already in use')) throw err;
    }
  }
}

async function tryStart(timeoutMs: number): Promise<ChallTestSrv> {
  const dnsPort = await freePort();
  const dnsAddress = `127.0.0.1:${dnsPort}`;
  const managementUrl = `http://127.0.0.1:${await freePort()}`;
  const child = spawn(
    'pebble-challtestsrv',
    [
      ...['-dns01', dnsAddress, '-management', managementUrl.slice('http://'.length)],
      ...['-http01', '', '-https01', '', '-tlsalpn01', ''],
      // An empty default IPv6 makes it answer AAAA queries with no data, so names resolve to 127.0.0.1 only.
      ...['-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { exited: hasExited, logs, stop } = track(child);

  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${managementUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path}: HTTP ${res.status}`);
  };
  const server: ChallTestSrv = {
    dnsPort,
    dnsAddress,
    managementUrl,
    addTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => post('/clear-txt', { host: fqdn(host) }),
    addA: (host, ip) => post('/add-a', { host: fqdn(host), addresses: [ip] }),
    clearA: (host) => post('/clear-a', { host: fqdn(host) }),
    setCname: (host, target) => post('/set-cname', { host: fqdn(host), target: fqdn(target) }),
    clearCname: (host) => post('/clear-cname', { host: fqdn(host) }),
    logs,
    stop,
  };

  // Ready when a TXT record set through management comes back over DNS: that proves both
  // listeners are up and are ours (challtestsrv keeps running even when a bind fails).
  const probe = `_probe-${randomBytes(6).toString('hex')}.acmekit.test`;
  const resolver = new Resolver({ timeout: 250, tries: 1 });
  resolver.setServers([dnsAddress]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = hasExited() || logs().includes('address already in use');
    if (failed || Date.now() > deadline) {
      await stop();
      const why = failed ? 'failed to start' : `did not answer within ${timeoutMs} ms`;
      throw new Error(`pebble-challtestsrv ${why}:\n${logs()}`);
    }
    try {
      await server.addTxt(probe, 'ready');
      if ((await resolver.resolveTxt(probe)).length > 0) break;
    } catch {
      // not up yet
    }
    await sleep(25);
  }
  await server.clearTxt(probe);
  return server;
}
