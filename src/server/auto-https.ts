import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Account } from '../acme/account.ts';
import { AcmeClient, type AcmeClientOptions } from '../acme/client.ts';
import { checkChallengeTypes, normalizeIdentifiers } from '../acme/identifiers.ts';
import type { ExternalAccountBinding } from '../crypto/eab.ts';
import type { Identifier } from '../crypto/identifier.ts';
import { type CertificateKeyType, certificateKeyTypes } from '../crypto/keys.ts';
import { InvalidInputError } from '../errors/base.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type Logger, silentLogger } from '../internal/logger.ts';
import { loadOrRegisterAccount } from '../lifecycle/accounts.ts';
import type { RenewalOutcome } from '../lifecycle/renew.ts';
import type { TransportOptions } from '../protocol/transport.ts';
import { HttpChallengeSolver, type Middleware, type RequestHandler } from '../solvers/http01-store.ts';
import type { Solver } from '../solvers/solver.ts';
import { TlsAlpnChallengeSolver } from '../solvers/tls-alpn01-store.ts';
import { FileStore } from '../storage/file-store.ts';
import type { Store } from '../storage/store.ts';
import { AutoHttpsEmitter, type AutoHttpsEventName, type AutoHttpsEvents } from './events.ts';
import { forEachLimited } from './limit.ts';
import { Maintenance } from './maintenance.ts';
import type { MetricsOptions } from './metrics.ts';
import { OnDemand, type OnDemandOptions } from './on-demand.ts';
import { normalizeServerName, SniCache } from './sni-cache.ts';
import { StoreSync, type StoreSyncStatus } from './store-sync.ts';
import { tlsCallbacks } from './tls-callbacks.ts';

/** Stored certificates read (and first checks run) at once at start. */
const STORE_CONCURRENCY = 16;

export interface AutoHttpsOptions {
  /** Names on one certificate (the first names its files). */
  domains?: readonly string[];
  /** More certificates, each with its own names. */
  certificates?: readonly (readonly string[])[];
  email?: string;
  /** Agreement to the CA's terms of service; required by CAs that have terms. */
  acceptTos?: boolean;
  /** A CA preset ("letsencrypt", "letsencrypt-staging", ...) or a directory URL. Default "letsencrypt". */
  directory?: string;
  /** Trusted roots (PEM) for a private or test CA's ACME endpoint. TLS to the CA is always verified. */
  caBundle?: TransportOptions['caBundle'];
  eab?: ExternalAccountBinding;
  /** Where accounts and certificates live. Default: a FileStore in $XDG_DATA_HOME/acmekit (~/.local/share/acmekit). */
  store?: Store;
  /** Default ec256. */
  keyType?: CertificateKeyType;
  /**
   * In-process challenges, in order of preference: http-01 through `httpHandler()`/`middleware()` on
   * port 80, tls-alpn-01 on the serving port through `serverOptions`. Default both (http-01 first), or
   * none when `dns01` is given.
   */
  challenges?: readonly ('http-01' | 'tls-alpn-01')[];
  /** A dns-01 solver (e.g. `new Dns01Solver({ provider })`); needed for wildcards. */
  dns01?: Solver;
  logger?: Logger;
  /** Renew when fewer than this many days remain, instead of ARI / one third of the lifetime. */
  renewDays?: number;
  /** Ask the CA for renewal information (RFC 9773). Default true. */
  ari?: boolean;
  /** The certificate for clients without SNI; default the first configured certificate. */
  defaultServerName?: string;
  /** Certificates for names not configured, obtained during their first handshake. Needs `allow`. */
  onDemand?: OnDemandOptions;
  /** Port written into `httpHandler()`'s redirects. Default 443. */
  httpsPort?: number;
  /** Backoff between failed attempts while running. Default 1 min to 1 day. */
  retry?: { minMs?: number; maxMs?: number };
  /** Longest time between two checks of one certificate. Default 1 h. */
  checkIntervalMs?: number;
  /**
   * How often every served certificate is read from the store again, to pick up renewals made by other
   * processes (a cluster, a cron job). Stores that notify (PostgreSQL, Redis) deliver those within
   * seconds and this is only their safety net. Default 5 min, 30 min while store notifications work.
   */
  storeCheckIntervalMs?: number;
  /**
   * How long a renewal lease lasts without being extended (its holder extends it every third of this):
   * in a cluster, how soon another process takes over a renewal whose process died. Default 10 min.
   */
  lockTtlMs?: number;
  clock?: Clock;
  /** Transport and retry settings for talking to the CA. */
  acme?: Omit<AcmeClientOptions, 'caBundle' | 'logger' | 'clock'>;
  /** Prometheus series in your prom-client `Registry`; prom-client (an optional peer) is loaded only then. */
  metrics?: MetricsOptions;
}

export interface CertificateStatus {
  id: string;
  names: string[];
  onDemand: boolean;
  serial: string | undefined;
  notBefore: string | undefined;
  notAfter: string | undefined;
  nextCheck: string | undefined;
  /** Why the last check renewed, or why it did not: the renewal job's words, as the CLI prints them. */
  reason: string | undefined;
  /**
   * What the last check did: `obtained`, `renewed`, `not-due`, `backoff`, `renewed-elsewhere` (another
   * process renewed it; this one serves that), `failed` or `lease-lost`; undefined before the first.
   */
  outcome: RenewalOutcome['outcome'] | undefined;
  failures: number;
  lastError: string | undefined;
}

export interface AutoHttpsStatus {
  certificates: CertificateStatus[];
  /** How renewals by other processes reach this one: store notifications, reconnecting, or polling. */
  storeSync: StoreSyncStatus;
  onDemand?: { ordersStarted: number; decisions: number; inflight: number };
}

/** A TLS server whose own context (the certificate for clients without SNI) can be replaced. */
export interface Attachable {
  setSecureContext(options: SecureContextOptions): void;
}

/** What `autoHttps()` gives: options for the servers, the port-80 handler, and the manager's controls. */
export interface AutoHttps {
  /** For `https.createServer` and `tls.createServer`: SNI and ALPN callbacks (ALPN http/1.1). */
  readonly serverOptions: TlsOptions;
  /** For `http2.createSecureServer`: ALPN h2 then http/1.1, `allowHTTP1: true`. */
  readonly http2Options: TlsOptions & { allowHTTP1: true };
  /** Options for any TLS server speaking `protocols` (ALPN, in order of preference). */
  tlsOptions(protocols?: readonly string[]): TlsOptions;
  /** Port 80: http-01 answers; everything else is redirected to https. */
  httpHandler(): RequestHandler;
  /** For an app that owns port 80: http-01 answers, everything else to `next()`. */
  middleware(): Middleware;
  /**
   * Keeps the certificate for clients without SNI current on this server after renewals
   * (Node takes that one from the server's own context). Returns the server.
   */
  attach<S extends Attachable>(server: S): S;
  /** Resolves once every configured certificate is present and unexpired. */
  ready(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Checks the certificate holding `name` now; `force` renews it whatever the schedule says. */
  renew(name: string, opts?: { force?: boolean }): Promise<void>;
  status(): AutoHttpsStatus;
  on<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): AutoHttps;
  once<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): AutoHttps;
  off<K extends AutoHttpsEventName>(event: K, listener: (e: AutoHttpsEvents[K]) => void): AutoHttps;
  /** Stops timers and in-flight orders and frees sockets to the CA; servers stay the caller's to close. */
  close(): Promise<void>;
}

/** Where certificates live when no store is given: $XDG_DATA_HOME/acmekit, else ~/.local/share/acmekit. */
export function defaultStoragePath(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'acmekit');
}

/**
 * Automatic HTTPS for a Node server. Resolves after reading the store (no network): serving starts with
 * what is stored while missing or due certificates are obtained in the background (`ready()` waits for
 * them).
 *
 *   const tls = await autoHttps({ domains: ['example.com'], email, acceptTos: true });
 *   https.createServer(tls.serverOptions, app).listen(443);
 *   http.createServer(tls.httpHandler()).listen(80);
 */
export async function autoHttps(options: AutoHttpsOptions): Promise<AutoHttps> {
  const groups = configuredGroups(options);
  const keyType = options.keyType ?? 'ec256';
  if (!certificateKeyTypes.includes(keyType)) {
    throw new InvalidInputError(`unknown key type ${JSON.stringify(keyType)}`, keyType);
  }
  const store = options.store ?? new FileStore(defaultStoragePath());
  // Challenge answers go through the store as well, so in a cluster any process answers the CA.
  const http01 = new HttpChallengeSolver({ store });
  const tlsAlpn = new TlsAlpnChallengeSolver({ store });
  const solvers = chooseSolvers(options, http01, tlsAlpn);
  for (const identifiers of groups) {
    checkChallengeTypes(
      identifiers,
      solvers.map((s) => s.type),
    );
  }
  if (options.onDemand !== undefined && typeof options.onDemand?.allow !== 'function') {
    throw new InvalidInputError(
      'onDemand needs an allow(name) function: any client can send any server name, so without one a stranger could make this server order certificates for names of their choosing',
    );
  }
  if (groups.length === 0 && !options.onDemand) {
    throw new InvalidInputError('give the names to serve (domains or certificates), or enable onDemand');
  }

  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const client = new AcmeClient(options.directory ?? 'letsencrypt', {
    ...options.acme,
    ...(options.caBundle !== undefined ? { caBundle: options.caBundle } : {}),
    logger,
    clock,
  });
  const defaultId = options.defaultServerName
    ? normalizeServerName(options.defaultServerName)
    : groups[0]?.[0]?.value;
  const cache = new SniCache(defaultId);
  const events = new AutoHttpsEmitter();
  // The metrics module, and prom-client with it, is imported only when metrics are asked for.
  const metrics = options.metrics
    ? await (await import('./metrics.ts')).createServerMetrics(options.metrics, { events, cache, logger })
    : undefined;
  let account: Promise<Account> | undefined;
  const closing = new AbortController();
  const maintenance = new Maintenance({
    store,
    client,
    account: () => {
      // loadOrRegisterAccount registers under the store's lease, so a cluster starting together shares one.
      account ??= loadOrRegisterAccount({
        store,
        client,
        email: options.email,
        acceptTos: options.acceptTos === true,
        eab: options.eab,
        create: true,
        signal: closing.signal,
      });
      account.catch(() => {
        account = undefined;
      });
      return account;
    },
    solvers,
    keyType,
    email: options.email,
    renewDays: options.renewDays,
    ari: options.ari !== false,
    cache,
    events,
    logger,
    clock,
    retry: { minMs: options.retry?.minMs ?? 60_000, maxMs: options.retry?.maxMs ?? 86_400_000 },
    checkIntervalMs: options.checkIntervalMs ?? 3_600_000,
    lockTtlMs: options.lockTtlMs,
    random: Math.random,
    instrument: metrics?.instrument,
  });

  const onDemand = options.onDemand
    ? new OnDemand(options.onDemand, {
        onOutcome: metrics?.onDemandOutcome,
        logger,
        clock,
        loadStored: async (name) => {
          const m = maintenance.add(normalizeIdentifiers([name]), true);
          const found = await maintenance.loadFromStore(m).catch(() => false);
          const cert = cache.get(name);
          if (found && cert && cert.notAfter.getTime() > clock.now()) {
            maintenance.schedule(m, 0); // renew in the background if due
            return true;
          }
          if (!cache.get(name)) maintenance.remove(name); // obtain() adds it again when allowed to order
          return false;
        },
        obtain: async (name) => {
          const m = maintenance.add(normalizeIdentifiers([name]), true);
          const result = await maintenance.check(m);
          if (!result.ok) {
            if (!cache.get(name)) maintenance.remove(name);
            throw result.error ?? new Error('auto-https closed');
          }
        },
      })
    : undefined;

  const callbacks = tlsCallbacks({
    cache,
    tlsAlpn: solvers.includes(tlsAlpn) ? tlsAlpn : undefined,
    onMiss: onDemand ? (name) => onDemand.certificateFor(name) : undefined,
  });

  // Clients without SNI get the server's own context: keep attached servers' copy current.
  const attached = new Set<Attachable>();
  let defaultSerial = '';
  const refreshDefault = (): void => {
    const def = cache.defaultCertificate;
    if (!def || def.serial === defaultSerial) return;
    defaultSerial = def.serial;
    for (const server of attached) {
      try {
        server.setSecureContext({ ...serverSecureOptions(server), key: def.keyPem, cert: def.chainPem });
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'could not update the default certificate');
      }
    }
  };
  events.on('obtained', refreshDefault);
  events.on('renewed', refreshDefault);

  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
  };
  events.on('obtained', wake);
  events.on('renewed', wake);

  // Started before the first read of the store, so a renewal elsewhere from then on is not missed.
  const sync = new StoreSync({
    store,
    maintenance,
    cache,
    logger,
    intervalMs: options.storeCheckIntervalMs,
    onLoaded: () => {
      refreshDefault();
      wake();
    },
  });
  await sync.start();

  const managed = groups.map((names) => maintenance.add(names));
  await forEachLimited(managed, STORE_CONCURRENCY, (m) =>
    maintenance.loadFromStore(m).catch((err: unknown) => {
      logger.warn({ names: m.names, err: (err as Error).message }, 'could not read the stored certificate');
    }),
  );
  defaultSerial = cache.defaultCertificate?.serial ?? '';
  // The first checks run in the background, a few at a time; each then schedules its own next check.
  void forEachLimited(managed, STORE_CONCURRENCY, (m) => maintenance.check(m));

  const tlsOptions = (protocols: readonly string[] = ['http/1.1']): TlsOptions => {
    const def = cache.defaultCertificate;
    return {
      SNICallback: callbacks.SNICallback,
      ALPNCallback: callbacks.ALPNCallback([...protocols]),
      ...(def ? { key: def.keyPem, cert: def.chainPem } : {}),
    };
  };

  const api: AutoHttps = {
    get serverOptions() {
      return tlsOptions(['http/1.1']);
    },
    get http2Options() {
      return { ...tlsOptions(['h2', 'http/1.1']), allowHTTP1: true as const };
    },
    tlsOptions,
    httpHandler: () => http01.handler(options.httpsPort ? { httpsPort: options.httpsPort } : {}),
    middleware: () => http01.middleware(),
    attach(server) {
      attached.add(server);
      return server;
    },
    ready(opts = {}) {
      const done = (): boolean =>
        managed.every((m) => {
          const cert = cache.get(m.id);
          return cert !== undefined && cert.notAfter.getTime() > clock.now();
        });
      return new Promise<void>((resolve, reject) => {
        if (done()) return resolve();
        const finish = (err?: unknown): void => {
          waiters.delete(check);
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve();
        };
        const check = (): void => {
          if (maintenance.closed)
            finish(new Error('auto-https was closed before every certificate was present'));
          else if (done()) finish();
        };
        const onAbort = (): void => finish(opts.signal?.reason ?? new Error('aborted'));
        if (opts.signal?.aborted) return onAbort();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(check);
      });
    },
    async renew(name, opts = {}) {
      const key = normalizeServerName(name);
      const m =
        maintenance.get(key) ?? maintenance.all.find((x) => x.identifiers.some((i) => i.value === key));
      if (!m) throw new InvalidInputError(`${name} is not managed by this server`, name);
      const result = await maintenance.check(m, opts.force === true);
      if (!result.ok) throw result.error ?? new Error('auto-https closed');
    },
    status() {
      return {
        storeSync: sync.status,
        certificates: maintenance.all.map((m) => {
          const cert = cache.get(m.id);
          return {
            id: m.id,
            names: m.names,
            onDemand: m.onDemand,
            serial: cert?.serial,
            notBefore: cert?.notBefore.toISOString(),
            notAfter: cert?.notAfter.toISOString(),
            nextCheck: m.nextCheck?.toISOString(),
            reason: m.reason,
            outcome: m.outcome,
            failures: m.failures,
            lastError: m.lastError,
          };
        }),
        ...(onDemand
          ? {
              onDemand: {
                ordersStarted: onDemand.ordersStarted,
                decisions: onDemand.decisions,
                inflight: onDemand.inflight,
              },
            }
          : {}),
      };
    },
    on(event, listener) {
      events.on(event, listener);
      return api;
    },
    once(event, listener) {
      events.once(event, listener);
      return api;
    },
    off(event, listener) {
      events.off(event, listener);
      return api;
    },
    async close() {
      closing.abort(new Error('auto-https closed'));
      onDemand?.close(); // handshakes waiting for an order slot fail now
      sync.close();
      await maintenance.close();
      metrics?.close();
      wake();
      client.close();
      attached.clear();
      events.removeAllListeners();
    },
  };
  return api;
}

/** Runs `fn` holding the store's lease `name` (a short job: registration, not an order). */
function configuredGroups(options: AutoHttpsOptions): (readonly Identifier[])[] {
  const raw = [...(options.domains?.length ? [options.domains] : []), ...(options.certificates ?? [])];
  const groups = raw.map((names) => normalizeIdentifiers(names));
  const seen = new Set<string>();
  for (const g of groups) {
    const id = g[0]!.value;
    if (seen.has(id)) {
      throw new InvalidInputError(`${id} is the first name of two certificates; each needs its own`, id);
    }
    seen.add(id);
  }
  return groups;
}

function chooseSolvers(
  options: AutoHttpsOptions,
  http01: HttpChallengeSolver,
  tlsAlpn: TlsAlpnChallengeSolver,
): Solver[] {
  const types = options.challenges ?? (options.dns01 ? [] : ['http-01', 'tls-alpn-01']);
  const solvers: Solver[] = [];
  for (const type of types) {
    if (type === 'http-01') solvers.push(http01);
    else if (type === 'tls-alpn-01') solvers.push(tlsAlpn);
    else
      throw new InvalidInputError(
        `unknown challenge ${JSON.stringify(type)}; use http-01 or tls-alpn-01`,
        type,
      );
  }
  if (options.dns01) {
    if (options.dns01.type !== 'dns-01') {
      throw new InvalidInputError(`dns01 must be a dns-01 solver, not ${options.dns01.type}`);
    }
    solvers.push(options.dns01);
  }
  if (solvers.length === 0) throw new InvalidInputError('no challenge left to prove control of the names');
  return solvers;
}

/** The TLS settings Node keeps on a server, so replacing its context changes only key and certificate. */
function serverSecureOptions(attachable: Attachable): SecureContextOptions {
  const server = attachable as unknown as Record<string, unknown>;
  const keep = [
    'ca',
    'ciphers',
    'sigalgs',
    'ecdhCurve',
    'dhparam',
    'minVersion',
    'maxVersion',
    'secureProtocol',
    'secureOptions',
    'honorCipherOrder',
    'sessionIdContext',
    'sessionTimeout',
    'ticketKeys',
    'crl',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keep) if (server[k] !== undefined) out[k] = server[k];
  return out as SecureContextOptions;
}
