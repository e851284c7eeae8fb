import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChallTestSrv, startChallTestSrv } from './challtestsrv.ts';
import { removeOnExit, type Tracked, track } from './child-process.ts';
import { freePort } from './free-port.ts';
import { createTestCa } from './test-ca.ts';

/**
 * A real Pebble (Debian 2.4.0) on 127.0.0.1, with a per-run HTTPS certificate. Use from node:test:
 *
 *   const pebble = await startPebble();
 *   after(() => pebble.stop());
 *   // client: directoryUrl = pebble.directoryUrl, trusted CA = pebble.caBundle
 */
export interface PebbleOptions {
  /** Require external account binding: `true` generates two random keys, or give kid → base64url HMAC key. */
  eab?: boolean | Record<string, string>;
  /** Percent of good nonces rejected as badNonce (PEBBLE_WFE_NONCEREJECT); unset keeps Pebble's default 5. */
  nonceReject?: number;
  /** Extra roots (PEBBLE_ALTERNATE_ROOTS): Pebble then has 1 + n roots, each with its own intermediate. */
  alternateRoots?: number;
  /** Intermediates between leaf and root (PEBBLE_CHAIN_LENGTH, default 1). */
  chainLength?: number;
  ordersPerPage?: number;
  /**
   * Percent of new orders that reuse a valid authorization (PEBBLE_AUTHZREUSE, default 50). 0 still
   * reuses about 1 in 100 (Pebble makes a new one only when rand.Intn(100) > this): a test whose
   * second order for a name must validate again uses a new name or deactivates the old authorizations.
   */
  authzReuse?: number;
  /** Pebble's `-strict` flag. */
  strict?: boolean;
  /** Keep Pebble's random 0–15 s sleep before each validation (default false: PEBBLE_VA_NOSLEEP=1). */
  vaSleep?: boolean;
  /** DNS server (host:port) for validation; default: a challtestsrv started and stopped with Pebble. */
  dnsServer?: string;
  /** Ports Pebble's VA connects to for http-01 and tls-alpn-01 (default: free ports). */
  httpPort?: number;
  tlsPort?: number;
  /**
   * Lifetime of the certificates Pebble issues, in seconds (config key `certificateValidityPeriod`,
   * which Pebble 2.4.0 reads); unset keeps Pebble's default. A newOrder notBefore/notAfter
   * still wins over it.
   */
  certificateValidityPeriod?: number;
  /**
   * Port of the ACME API (default: a free one). Giving the port of a stopped Pebble starts a CA with an
   * empty database at the same directory URL: the CA was reset, and forgot every account.
   */
  port?: number;
  /** Extra environment for Pebble; wins over the options above. */
  env?: Record<string, string>;
  /** How long to wait for the directory to answer (default 30 s: RSA key generation is slow on a busy machine). */
  startTimeoutMs?: number;
}

export interface PebbleServer {
  directoryUrl: string;
  /** PEM of the root that signed Pebble's HTTPS certificate: the CA bundle clients must trust. */
  caBundle: string;
  caBundlePath: string;
  /** Pebble's own HTTPS certificate and key (signed by caBundle), e.g. for a test proxy that poses as Pebble. */
  tlsCertPath?: string;
  tlsKeyPath?: string;
  managementUrl: string;
  httpPort: number;
  tlsPort: number;
  /** kid → base64url HMAC key; empty when EAB is not required. */
  eabKeys: Record<string, string>;
  /** The challtestsrv Pebble validates against, when startPebble started it. */
  challtestsrv?: ChallTestSrv;
  /** Every root Pebble issues under (management /roots/N), the default one first. */
  roots(): Promise<string[]>;
  /** The leaf-signing intermediate for each root (management /intermediates/N), in the same order. */
  intermediates(): Promise<string[]>;
  /** Captured stdout and stderr of Pebble. */
  logs(): string;
  /** Kills Pebble (and its challtestsrv) and removes the temp dir; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startPebble(opts: PebbleOptions = {}): Promise<PebbleServer> {
  const ca = await createTestCa();
  const forgetDir = removeOnExit(ca.dir);
  let challtestsrv: ChallTestSrv | undefined;
  try {
    challtestsrv = opts.dnsServer === undefined ? await startChallTestSrv() : undefined;
    const dnsServer = opts.dnsServer ?? challtestsrv!.dnsAddress;
    const eabKeys =
      opts.eab === true
        ? Object.fromEntries([1, 2].map((n) => [`kid-${n}-${hex(4)}`, randomBytes(32).toString('base64url')]))
        : opts.eab || {};
    const httpPort = opts.httpPort ?? (await freePort());
    const tlsPort = opts.tlsPort ?? (await freePort());
    // Only what we set: a PEBBLE_* variable in the developer's shell must not change the tests.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    if (!opts.vaSleep) env.PEBBLE_VA_NOSLEEP = '1';
    const numeric = {
      PEBBLE_WFE_NONCEREJECT: opts.nonceReject,
      PEBBLE_ALTERNATE_ROOTS: opts.alternateRoots,
      PEBBLE_CHAIN_LENGTH: opts.chainLength,
      PEBBLE_WFE_ORDERS_PER_PAGE: opts.ordersPerPage,
      PEBBLE_AUTHZREUSE: opts.authzReuse,
    };
    for (const [name, value] of Object.entries(numeric)) if (value !== undefined) env[name] = String(value);
    Object.assign(env, opts.env);
    const args = ['-dnsserver', dnsServer, ...(opts.strict === undefined ? [] : [`-strict=${opts.strict}`])];

    // A port from freePort() can be taken by a parallel test before Pebble binds it; retry on fresh ones.
    for (let attempt = 1; ; attempt++) {
      const listen = `127.0.0.1:${opts.port ?? (await freePort())}`;
      const management = `127.0.0.1:${await freePort()}`;
      const configPath = join(ca.dir, 'pebble-config.json');
      const config = {
        listenAddress: listen,
        managementListenAddress: management,
        certificate: ca.certPath,
        privateKey: ca.keyPath,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: Object.keys(eabKeys).length > 0,
        externalAccountMACKeys: eabKeys,
        ...(opts.certificateValidityPeriod === undefined
          ? {}
          : { certificateValidityPeriod: opts.certificateValidityPeriod }),
      };
      await writeFile(configPath, JSON.stringify({ pebble: config }, null, 2));
      const child = spawn('pebble', ['-config', configPath, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const proc = track(child);
      const directoryUrl = `https://${listen}/dir`;
      const managementUrl = `https://${management}`;
      try {
        // Verified against our root: a stray server that grabbed the port cannot pass for ours.
        await waitUntil(proc, opts.startTimeoutMs ?? 30_000, async () => {
          const dir = await httpsGet(directoryUrl, ca.rootPem);
          const root = await httpsGet(`${managementUrl}/roots/0`, ca.rootPem);
          return dir.status === 200 && root.status === 200;
        });
      } catch (err) {
        await proc.stop();
        if (attempt < 3 && proc.logs().includes('address already in use')) continue;
        throw err;
      }
      const listAll = async (kind: string) => {
        const pems: string[] = [];
        for (let i = 0; ; i++) {
          const res = await httpsGet(`${managementUrl}/${kind}/${i}`, ca.rootPem);
          if (res.status === 404) return pems;
          if (res.status !== 200) throw new Error(`pebble ${kind}/${i}: HTTP ${res.status}`);
          pems.push(res.body);
        }
      };
      let stopping: Promise<void> | undefined;
      return {
        directoryUrl,
        caBundle: ca.rootPem,
        caBundlePath: ca.rootPath,
        tlsCertPath: ca.certPath,
        tlsKeyPath: ca.keyPath,
        managementUrl,
        httpPort,
        tlsPort,
        eabKeys,
        ...(challtestsrv ? { challtestsrv } : {}),
        roots: () => listAll('roots'),
        intermediates: () => listAll('intermediates'),
        logs: proc.logs,
        stop: () => {
          stopping ??= (async () => {
            await Promise.all([proc.stop(), challtestsrv?.stop()]);
            await rm(ca.dir, { recursive: true, force: true });
            forgetDir();
          })();
          return stopping;
        },
      };
    }
  } catch (err) {
    await challtestsrv?.stop();
    await rm(ca.dir, { recursive: true, force: true });
    forgetDir();
    throw err;
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function waitUntil(proc: Tracked, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (proc.exited()) {
      throw new Error(`pebble exited during startup:\n${proc.logs()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`pebble not ready after ${timeoutMs} ms (${lastError}):\n${proc.logs()}`);
    }
    try {
      if (await ready()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(25);
  }
}

/** GET over HTTPS trusting only `ca`; a fresh connection each time so no socket outlives the server. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
  });
}
