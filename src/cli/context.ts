import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import type { Identifier } from '../crypto/identifier.ts';
import { type CertificateKeyType, certificateKeyTypes } from '../crypto/keys.ts';
import type { Logger } from '../internal/logger.ts';
import { Secret } from '../internal/secret.ts';
import { mark } from '../internal/timing.ts';
import type { ChallengeRecord } from '../lifecycle/certificate-record.ts';
import type { ChallengeContext, Solver } from '../solvers/solver.ts';
import type { Store } from '../storage/store.ts';
import type { Output } from './output.ts';
import type { OptionValue, ParsedArgs } from './parse-args.ts';
import { UsageError } from './usage-error.ts';

export interface CommandEnv {
  out: Output;
  env: NodeJS.ProcessEnv;
}

/** Typed access to the parsed options. */
export class Options {
  readonly #o: Record<string, OptionValue>;
  readonly sources: Record<string, string>;
  constructor(parsed: ParsedArgs) {
    this.#o = parsed.options;
    this.sources = parsed.sources;
  }
  /** Sets a value found elsewhere (e.g. in a certificate record), marking where it came from. */
  set(name: string, value: OptionValue, from = 'stored certificate settings'): void {
    this.#o[name] = value;
    this.sources[name] = from;
  }
  str(name: string): string | undefined {
    const v = this.#o[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  }
  bool(name: string): boolean {
    return this.#o[name] === true;
  }
  num(name: string): number | undefined {
    const v = this.#o[name];
    return typeof v === 'number' ? v : undefined;
  }
  list(name: string): string[] {
    const v = this.#o[name];
    return Array.isArray(v) ? v : [];
  }
}

export async function makeClient(o: Options, out: Output): Promise<AcmeClient> {
  const bundlePath = o.str('caBundle');
  let caBundle: string | undefined;
  if (bundlePath) {
    caBundle = await readFile(bundlePath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the CA bundle ${bundlePath}: ${err.code ?? err.message}`);
    });
    if (!caBundle.includes('BEGIN CERTIFICATE'))
      throw new UsageError(`${bundlePath} holds no PEM certificate`);
  }
  let server = o.str('server') ?? 'letsencrypt';
  if (o.bool('dryRun') && server === 'letsencrypt') {
    server = 'letsencrypt-staging';
    out.line('dry run: using the Let’s Encrypt staging CA; nothing will be saved');
  }
  const logger = progressLogger(out);
  const httpTimeout = secondsOption(o, 'httpTimeout', '--http-timeout');
  const certTimeout = secondsOption(o, 'certTimeout', '--cert.timeout');
  const userAgent = o.str('userAgent');
  if (userAgent !== undefined && !/^[\x20-\x7e]+$/.test(userAgent)) {
    throw new UsageError('--user-agent takes printable ASCII only (it is sent as an HTTP header)');
  }
  // Loaded here, not at start-up: list and --help never talk to a CA.
  const { AcmeClient } = await import('../acme/client.ts');
  const client = new AcmeClient(server, {
    ...(caBundle ? { caBundle } : {}),
    logger,
    // lego's --http-timeout: the deadline of each request; --cert.timeout: of each wait for the CA.
    ...(httpTimeout !== undefined ? { timeoutMs: Math.round(httpTimeout * 1000) } : {}),
    ...(certTimeout !== undefined ? { polling: { timeoutMs: Math.round(certTimeout * 1000) } } : {}),
    // lego's --user-agent: put in front of acmekit's own (RFC 8555 §6.1 wants the client named).
    ...(userAgent ? { userAgent } : {}),
  });
  mark('client');
  return client;
}

/**
 * The library's events on stderr, one line each. Without --log-level: warnings, and info events as
 * progress when stderr is a terminal. With it: every event at that level and above, terminal or not;
 * debug adds each request (method, URL, status), retries and nonce events.
 */
export function progressLogger(out: Output): Logger {
  const quiet = (): void => {};
  const level = out.logLevel;
  const rank = level === undefined ? 2 : ['error', 'warn', 'info', 'debug'].indexOf(level);
  return {
    debug:
      rank >= 3
        ? (obj: object, msg?: string) => out.log(`debug: ${msg ?? ''} ${debugDetail(obj)}`.trimEnd())
        : quiet,
    info:
      rank >= 2
        ? (obj: object, msg?: string) => {
            mark(msg ?? 'info');
            const line = `  ${msg ?? ''} ${progressDetail(obj)}`.trimEnd();
            if (level === undefined) out.progress(line);
            else out.log(line);
          }
        : quiet,
    warn:
      rank >= 1
        ? (obj: object, msg?: string) => out.warn(`${msg ?? ''} ${progressDetail(obj)}`.trim())
        : quiet,
    error: quiet,
  };
}

// Debug lines show plain values only, never objects (a request body, a key), and never a field whose
// name suggests a secret; URLs lose any user:password@ part. The library never logs secrets; this is
// the second fence.
const SECRET_FIELD = /secret|token|password|passwd|hmac|key|credential|authorization|signature|nonce/i;

function debugDetail(obj: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_FIELD.test(k) || v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    if (!values.every((x) => ['string', 'number', 'boolean'].includes(typeof x) || x instanceof Date))
      continue;
    const text = values
      .map((x) => (x instanceof Date ? x.toISOString() : String(x)))
      .join(',')
      .replace(/\/\/[^/@\s]*@/g, '//')
      .replace(/[\u0000-\u001f\u007f]+/g, ' ');
    parts.push(`${k}=${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
  return parts.join(' ');
}

function progressDetail(obj: object): string {
  const o = obj as Record<string, unknown>;
  const parts = ['order', 'status', 'delay', 'notAfter', 'fqdn', 'zone', 'to']
    .filter((k) => o[k] !== undefined)
    .map((k) => `${k}=${String(o[k])}`);
  return parts.join(' ');
}

/** A number of seconds > 0 from the option `name`, or undefined when not given. */
export function secondsOption(o: Options, name: string, flag: string): number | undefined {
  const v = o.num(name);
  if (v === undefined) return undefined;
  if (!(v > 0) || !Number.isFinite(v)) throw new UsageError(`${flag} ${v}: give a number of seconds > 0`);
  return v;
}

export function keyTypeOption(o: Options): CertificateKeyType {
  const t = (o.str('keyType') ?? 'ec256').toLowerCase();
  // lego spells them EC256/RSA2048 too.
  if (!(certificateKeyTypes as readonly string[]).includes(t) || t === 'ed25519') {
    throw new UsageError(`--key-type ${t} is not supported; use ec256, ec384, rsa2048, rsa3072 or rsa4096`);
  }
  return t as CertificateKeyType;
}

export async function accountFor(
  o: Options,
  client: AcmeClient,
  store: Store,
  create: boolean,
): Promise<Account> {
  const kid = o.str('eabKid');
  const hmac = o.str('eabHmac');
  if ((kid || hmac || o.bool('eab')) && !(kid && hmac)) {
    throw new UsageError(
      'external account binding needs both --eab.kid and --eab.hmac (or ACMEKIT_EAB_KID / ACMEKIT_EAB_HMAC)',
    );
  }
  const { loadOrRegisterAccount } = await import('../lifecycle/accounts.ts');
  const account = await loadOrRegisterAccount({
    store,
    client,
    email: o.str('email'),
    acceptTos: o.bool('acceptTos'),
    eab: kid && hmac ? { kid, hmacKey: new Secret(hmac) } : undefined,
    create,
  });
  mark('account');
  return account;
}

/** "[iface]:port" (lego v4 --http.port) or "host:port" (v5 --http.address) → listen host and port. */
export function parseAddress(value: string, flag: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`${flag} ${value}: expected [interface]:port, e.g. :80 or 127.0.0.1:5002`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}

/**
 * lego's --http.delay / --tls.delay: the CA is asked to check only this long after the answer is in
 * place (a web server or load balancer that needs time to pick up the file or listener).
 */
class DelayedSolver implements Solver {
  readonly type: Solver['type'];
  readonly #inner: Solver;
  readonly #delayMs: number;
  constructor(inner: Solver, delayMs: number) {
    this.type = inner.type;
    this.#inner = inner;
    this.#delayMs = delayMs;
  }
  present(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    return this.#inner.present(ctx, signal);
  }
  async wait(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    await this.#inner.wait?.(ctx, signal);
    await sleep(this.#delayMs, undefined, { signal });
  }
  cleanup(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    return this.#inner.cleanup(ctx, signal);
  }
  handles(identifier: Identifier): boolean {
    return this.#inner.handles ? this.#inner.handles(identifier) : true;
  }
}

function delayed(solvers: Solver[], delayMs: number | undefined): Solver[] {
  return delayMs ? solvers.map((s) => new DelayedSolver(s, delayMs)) : solvers;
}

/** --http.delay / --tls.delay in ms for the challenge type, when given. */
export function challengeDelayMs(o: Options, type: 'http-01' | 'tls-alpn-01'): number | undefined {
  const seconds = o.num(type === 'http-01' ? 'httpDelay' : 'tlsDelay');
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

/** The solvers the flags ask for, and how to remember the choice in the certificate record. */
export async function solversFor(
  o: Options,
  out: Output,
): Promise<{ solvers: Solver[]; challenge: ChallengeRecord } | undefined> {
  const webroot = o.str('httpWebroot');
  const { dnsReplayFrom, dnsSolversFrom } = await import('./dns-solvers.ts');
  const dns = dnsReplayFrom(o);
  if (dns) {
    if (webroot || o.bool('http') || o.bool('tls')) {
      throw new UsageError(
        '--dns cannot be combined with --http, --http.webroot or --tls; choose one challenge',
      );
    }
    return { solvers: await dnsSolversFrom(dns, progressLogger(out)), challenge: { type: 'dns-01', dns } };
  }
  const httpDelayMs = challengeDelayMs(o, 'http-01');
  const httpDelay = httpDelayMs ? { delayMs: httpDelayMs } : {};
  if (webroot) {
    const { Http01WebrootSolver } = await import('../solvers/http01-webroot.ts');
    return {
      solvers: delayed([new Http01WebrootSolver({ root: resolve(webroot) })], httpDelayMs),
      challenge: { type: 'http-01', webroot: resolve(webroot), ...httpDelay },
    };
  }
  if (o.bool('http')) {
    const address = o.str('httpAddress') ?? ':80';
    const { host, port } = parseAddress(address, '--http.address');
    const { Http01ListenerSolver } = await import('../solvers/http01-listener.ts');
    return {
      solvers: delayed([new Http01ListenerSolver({ port, ...(host ? { host } : {}) })], httpDelayMs),
      challenge: { type: 'http-01', httpAddress: address, ...httpDelay },
    };
  }
  if (o.bool('tls')) {
    const address = o.str('tlsAddress') ?? ':443';
    const { host, port } = parseAddress(address, '--tls.address');
    const { TlsAlpn01ListenerSolver } = await import('../solvers/tls-alpn01.ts');
    const tlsDelayMs = challengeDelayMs(o, 'tls-alpn-01');
    return {
      solvers: delayed([new TlsAlpn01ListenerSolver({ port, ...(host ? { host } : {}) })], tlsDelayMs),
      challenge: { type: 'tls-alpn-01', tlsAddress: address, ...(tlsDelayMs ? { delayMs: tlsDelayMs } : {}) },
    };
  }
  return undefined;
}

/** Solvers from a stored record, for renewals without challenge flags (like certbot's renewal configs). */
export async function solversFromRecord(challenge: ChallengeRecord, out: Output): Promise<Solver[]> {
  if (challenge.webroot) {
    const { Http01WebrootSolver } = await import('../solvers/http01-webroot.ts');
    return delayed([new Http01WebrootSolver({ root: challenge.webroot })], challenge.delayMs);
  }
  if (challenge.type === 'http-01') {
    const { host, port } = parseAddress(challenge.httpAddress ?? ':80', 'stored http address');
    const { Http01ListenerSolver } = await import('../solvers/http01-listener.ts');
    return delayed([new Http01ListenerSolver({ port, ...(host ? { host } : {}) })], challenge.delayMs);
  }
  if (challenge.type === 'tls-alpn-01') {
    const { host, port } = parseAddress(challenge.tlsAddress ?? ':443', 'stored tls address');
    const { TlsAlpn01ListenerSolver } = await import('../solvers/tls-alpn01.ts');
    return delayed([new TlsAlpn01ListenerSolver({ port, ...(host ? { host } : {}) })], challenge.delayMs);
  }
  if (challenge.type === 'dns-01' && challenge.dns) {
    const { dnsSolversFrom } = await import('./dns-solvers.ts');
    return dnsSolversFrom(challenge.dns, progressLogger(out));
  }
  throw new UsageError(
    `the stored certificate was obtained with ${challenge.type}, which needs flags this version cannot replay; pass --http, --http.webroot, --tls or --dns`,
  );
}
