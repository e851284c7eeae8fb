import type { IncomingHttpHeaders } from 'node:http';
import { type Agent as AnyAgent, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BadServerResponseError, NetworkError, TimeoutError } from '../errors/base.ts';
import { abortError } from '../internal/abort.ts';
import type { Logger } from '../internal/logger.ts';
import { mark } from '../internal/timing.ts';
import { defaultUserAgent } from '../internal/version.ts';
import { createProxyAgent, proxyFor } from './proxy-agent.ts';

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TransportOptions {
  /** Trusted roots (PEM) for a private or test CA, used instead of Node's bundled roots. TLS is never unverified. */
  caBundle?: string | Buffer | readonly (string | Buffer)[];
  /**
   * Per-request deadline covering connect, headers and the whole body. One deadline, not an idle timeout:
   * bytes arriving do not extend it, so a server trickling its answer cannot hold a request open
   * (RELIABILITY B13, docs/transport.md). Default 30 s.
   */
  timeoutMs?: number;
  /** Bodies larger than this are refused while streaming. Default 4 MiB (a 100-name RSA-4096 chain is ~24 kB). */
  maxBodyBytes?: number;
  /** Prepended to acmekit's own User-Agent. */
  userAgent?: string;
  /**
   * HTTP proxy URL (CONNECT tunnel) for requests to the CA, `false` for none. Default: HTTPS_PROXY /
   * HTTP_PROXY / ALL_PROXY with NO_PROXY honoured.
   */
  proxy?: string | false;
}

/** Settings only acmekit itself passes (not user options). */
export interface TransportPolicy {
  /**
   * Refuse every URL that is not https, before any connection: set by AcmeClient for a CA reached over
   * https, so no URL the CA hands out (Location, Link, a resource) can take a signed request out of TLS.
   */
  httpsOnly?: boolean;
  /** Where the one warning about NODE_TLS_REJECT_UNAUTHORIZED=0 goes (see `warnIfVerificationSwitchedOff`). */
  logger?: Logger;
}

export interface RequestOptions {
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** Errors worth a retry with a fresh request: the server never saw it, or the connection broke. */
export const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/**
 * One HTTP client for everything acmekit sends to a CA: node:https with a keep-alive agent (node:https
 * loads in ~6 ms where undici costs ~80 ms at start-up), verified TLS, a deadline per request and a
 * size cap on bodies.
 */
export class HttpTransport {
  readonly userAgent: string;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #httpsAgent: HttpsAgent;
  readonly #httpAgent: HttpAgent;
  readonly #ca: string[] | undefined;
  readonly #proxy: string | false | undefined;
  readonly #proxyAgents = new Map<string, Promise<AnyAgent>>();
  readonly #httpsOnly: boolean;

  constructor(opts: TransportOptions = {}, policy: TransportPolicy = {}) {
    this.#httpsOnly = policy.httpsOnly ?? false;
    if (policy.logger) warnIfVerificationSwitchedOff(policy.logger);
    this.userAgent = defaultUserAgent(opts.userAgent);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxBodyBytes = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    const extra =
      opts.caBundle === undefined ? [] : Array.isArray(opts.caBundle) ? opts.caBundle : [opts.caBundle];
    // Like Node's `ca` and lego's LEGO_CA_CERTIFICATES, a bundle replaces the default roots: building a
    // context from ~140 bundled roots plus the extra one costs ~44 ms per new connection (measured here).
    const ca = extra.length > 0 ? extra.map((c) => c.toString()) : undefined;
    this.#ca = ca;
    this.#proxy = opts.proxy;
    this.#httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: true,
      ...(ca ? { ca } : {}),
    });
    this.#httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  }

  async request(method: string, url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const target = new URL(url);
    const isHttps = target.protocol === 'https:';
    if (this.#httpsOnly && !isHttps) {
      throw new BadServerResponseError(
        `refusing ${method} ${url.slice(0, 200)}: the CA is reached over https and named a URL outside TLS (ACME needs TLS, RFC 8555 §6.1)`,
        { url },
      );
    }
    const proxy = await proxyFor(target, this.#proxy);
    let agent: AnyAgent = isHttps ? this.#httpsAgent : this.#httpAgent;
    if (proxy) {
      let pending = this.#proxyAgents.get(proxy);
      if (!pending) {
        pending = createProxyAgent(proxy, this.#ca);
        this.#proxyAgents.set(proxy, pending);
      }
      agent = await pending;
    }
    return this.#send(method, url, target, agent, opts);
  }

  #send(
    method: string,
    url: string,
    target: URL,
    agent: AnyAgent,
    opts: RequestOptions,
  ): Promise<HttpResponse> {
    const isHttps = target.protocol === 'https:';
    const send = isHttps ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const signal = opts.signal;
    mark('first request');

    return new Promise<HttpResponse>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal.reason));
        return;
      }
      let settled = false;
      const finish = (err: Error | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(res!);
      };
      const req = send(target, {
        method,
        headers,
        agent,
        // Also per request: a proxy agent opens the inner TLS connection from these options.
        // rejectUnauthorized is explicit, never left to Node's default: NODE_TLS_REJECT_UNAUTHORIZED=0
        // changes that default for the whole process, and acmekit always verifies.
        ...(isHttps ? { rejectUnauthorized: true } : {}),
        ...(isHttps && this.#ca ? { ca: this.#ca } : {}),
      });
      const timer = setTimeout(
        () => finish(new TimeoutError(`${method} ${url}: no complete answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      const onAbort = (): void => finish(abortError(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });

      req.on('error', (err: NodeJS.ErrnoException) => {
        finish(new NetworkError(describeNetworkError(method, url, err), url, { cause: err }));
      });
      req.on('response', (res) => {
        // Node decides keep-alive when the headers arrive, before it knows that a HEAD answer has no
        // body; a HEAD answer without Content-Length (Go's net/http sends none: Pebble's newNonce) then
        // makes it close a reusable connection, and the next request pays a new TLS handshake (~5 ms,
        // and ~3 ms more to shut the old one down). A HEAD response never has a body (RFC 9110 §9.3.2),
        // so the connection stays usable unless the server said otherwise.
        if (
          method === 'HEAD' &&
          res.httpVersion === '1.1' &&
          !/\bclose\b/i.test(res.headers.connection ?? '')
        ) {
          req.shouldKeepAlive = true;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBodyBytes) {
            // The server's answer, not the network: asking again only downloads it again (RELIABILITY B11).
            const why = `${method} ${url}: response body exceeds ${this.#maxBodyBytes} bytes`;
            finish(new BadServerResponseError(why, { url, status: res.statusCode }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          finish(
            new NetworkError(`${method} ${url}: body broke off: ${err.code ?? err.message}`, url, {
              cause: err,
            }),
          );
        });
        res.on('aborted', () => finish(new NetworkError(`${method} ${url}: body broke off`, url)));
        res.on('end', () => {
          mark('first response');
          finish(undefined, {
            url,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          });
        });
      });
      req.end(opts.body);
    });
  }

  /** Closes idle keep-alive sockets so a process can exit at once. */
  close(): void {
    this.#httpsAgent.destroy();
    this.#httpAgent.destroy();
    for (const pending of this.#proxyAgents.values()) pending.then((a) => a.destroy()).catch(() => {});
  }
}

let warnedVerificationSwitchedOff = false;

/**
 * NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for every TLS connection in the process
 * that does not say otherwise. acmekit's own connections (this transport, so the CA, DNS provider APIs
 * and cloud metadata endpoints) pass `rejectUnauthorized: true` and stay verified; this says so once
 * per process, since the variable usually means someone expected verification to be off.
 */
export function warnIfVerificationSwitchedOff(logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (warnedVerificationSwitchedOff || env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') return;
  warnedVerificationSwitchedOff = true;
  logger.warn(
    { variable: 'NODE_TLS_REJECT_UNAUTHORIZED' },
    'NODE_TLS_REJECT_UNAUTHORIZED=0 is set: acmekit ignores it and still verifies the TLS certificate of every ' +
      "server it connects to (Node's warning about the variable does not apply to acmekit's connections); to trust " +
      'a private or test CA, pass its root as the CA bundle (caBundle, --ca-bundle, ACMEKIT_CA_BUNDLE)',
  );
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeNetworkError(method: string, url: string, err: NodeJS.ErrnoException): string {
  const code = err.code ?? err.message;
  if (TLS_TRUST_CODES.has(code)) {
    return `${method} ${url}: the server's TLS certificate is not trusted (${code}); for a private or test CA, pass its root certificate as the CA bundle (caBundle, --ca-bundle, ACMEKIT_CA_BUNDLE)`;
  }
  return `${method} ${url} failed: ${code}`;
}

/** The errno-style code of a NetworkError's cause, when there is one. */
export function networkErrorCode(err: unknown): string | undefined {
  if (!(err instanceof NetworkError)) return undefined;
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return cause?.code;
}
