import type { KeyObject } from 'node:crypto';
import { signJws } from '../crypto/jws.ts';
import { AcmekitError, BadServerResponseError, NetworkError } from '../errors/base.ts';
import {
  type AcmeProblemError,
  type ProblemDocument,
  problemToError,
  sanitizeText,
} from '../errors/problem.ts';
import { backoffDelay } from '../internal/backoff.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type Logger, loggedWait, silentLogger } from '../internal/logger.ts';
import { parseLinkHeader } from './link-header.ts';
import { NoncePool } from './nonce-pool.ts';
import { parseProblemDocument, safeJsonParse } from './problem-document.ts';
import { retryAfterOf } from './retry-after.ts';
import { type HttpResponse, HttpTransport, networkErrorCode, RETRYABLE_NETWORK_CODES } from './transport.ts';
import { checkAcmeUrl } from './url-policy.ts';
import { parseDirectory } from './wire-parse.ts';
import type { DirectoryWire } from './wire-types.ts';

/** How hard to try before giving up. Every retry is signed again with a fresh nonce. */
export interface RetryPolicy {
  /**
   * badNonce answers retried at once with the next nonce (RFC 8555 §6.5); a retry costs one round trip
   * and no extra newNonce (the answer carries a nonce). Default 130, sized for a CA rejecting 90 % of
   * good nonces (Pebble's PEBBLE_WFE_NONCEREJECT=90, RELIABILITY A2): a request then fails only when all
   * 131 attempts are rejected, 0.9^131 ≈ 1.0e-6, and an issuance makes about 10 signed requests
   * (account, order, authorization, challenge, polls, finalize, certificate), so one fails with
   * probability ≈ 1e-5. The old default 20 gave 0.9^21 ≈ 0.11 per request: about 2 in 3 such
   * issuances failed. Still a bound: a CA rejecting every nonce gets 131 requests, then BadNonceError
   * (A3).
   */
  badNonceRetries: number;
  /** Attempts for 429, 503, other 5xx and broken connections, the first included. Default 4. */
  attempts: number;
  /** Longest Retry-After acmekit waits for by itself; longer ones fail with the time in the error. Default 60 s. */
  maxRetryAfterMs: number;
  /** Backoff when the server gives no Retry-After: exponential with jitter between these. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  badNonceRetries: 130,
  attempts: 4,
  maxRetryAfterMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 15_000,
};

/** Who signs a request: an account (kid) or a key not yet registered (jwk). */
export interface Signer {
  readonly key: KeyObject;
  readonly kid?: string | undefined;
}

export interface AcmeResponse extends HttpResponse {
  /** Location header resolved against the request URL. */
  readonly location: string | undefined;
  /** Link header, rel → absolute URLs. */
  readonly links: Readonly<Record<string, string[]>>;
  /** Parsed JSON body; throws BadServerResponseError when the body is not JSON. */
  json(): unknown;
}

export interface AcmeHttpOptions {
  transport?: HttpTransport;
  clock?: Clock;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * The wire to one CA: directory, nonces, signed POSTs and unsigned GETs with bounded retries.
 * Owns the transport and the nonce pool; everything above it talks ACME objects.
 */
export class AcmeHttp {
  readonly directoryUrl: string;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly #random: () => number;
  readonly #nonces = new NoncePool();
  #directory: Promise<DirectoryWire> | undefined;

  constructor(directoryUrl: string, opts: AcmeHttpOptions = {}) {
    this.directoryUrl = checkAcmeUrl(directoryUrl, 'directory URL').href;
    this.transport = opts.transport ?? new HttpTransport();
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.retry = { ...defaultRetryPolicy, ...opts.retry };
    this.#random = opts.random ?? Math.random;
  }

  /** The directory (RFC 8555 §7.1.1), fetched once and kept; a failed fetch is tried again next time. */
  directory(signal?: AbortSignal): Promise<DirectoryWire> {
    if (!this.#directory) {
      this.#directory = this.#fetchDirectory(signal);
      this.#directory.catch(() => {
        this.#directory = undefined;
      });
    }
    return this.#directory;
  }

  async #fetchDirectory(signal?: AbortSignal): Promise<DirectoryWire> {
    const url = this.directoryUrl;
    let res: AcmeResponse;
    try {
      res = await this.get(url, signal);
    } catch (err) {
      // A 4xx (a 404 page, a problem document) says the URL is wrong; 429, 5xx and broken connections do not.
      const status = (err as { status?: unknown }).status;
      const refused =
        err instanceof AcmekitError && typeof status === 'number' && status >= 400 && status < 500;
      if (!refused || status === 429 || status === 408) throw err;
      const prefix = `HTTP ${status} from ${url}`;
      const said = err.message.startsWith(prefix)
        ? err.message.slice(prefix.length).replace(/^: /, '')
        : err.message;
      throw notADirectory(url, `it answers HTTP ${status}${said ? ` (${said})` : ''}`, status, err);
    }
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.location ? ` to ${res.headers.location}` : '';
      throw new BadServerResponseError(`the directory URL redirects${to}; use the final URL as the server`, {
        url,
        status: res.status,
        notAcmeDirectory: true,
      });
    }
    let dir: DirectoryWire;
    try {
      dir = parseDirectory(res.json(), url);
    } catch (err) {
      if (!(err instanceof BadServerResponseError)) throw err;
      const type = headerValue(res.headers['content-type'])?.split(';')[0]?.trim();
      throw notADirectory(url, `${err.message}${type ? ` (content-type ${type})` : ''}`, res.status, err);
    }
    for (const key of [
      'newNonce',
      'newAccount',
      'newOrder',
      'revokeCert',
      'keyChange',
      'renewalInfo',
    ] as const) {
      const value = dir[key];
      if (value !== undefined) checkResourceUrl(value, key, this.directoryUrl);
    }
    return dir;
  }

  /** Unsigned GET (directory, renewalInfo), retried like POSTs. Non-2xx answers are errors except 3xx. */
  async get(url: string, signal?: AbortSignal): Promise<AcmeResponse> {
    return this.#withRetries('GET', url, signal, async () => this.transport.request('GET', url, { signal }));
  }

  /** Signed POST; payload undefined makes it a POST-as-GET (RFC 8555 §6.3). */
  async post(
    url: string,
    payload: unknown,
    signer: Signer,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<AcmeResponse> {
    let badNonces = 0;
    for (;;) {
      try {
        return await this.#withRetries('POST', url, signal, async () => {
          const nonce = await this.#takeNonce(signal);
          const jws = signJws({
            key: signer.key,
            url,
            nonce,
            identity: signer.kid ? { kid: signer.kid } : { jwk: true },
            payload,
          });
          return this.transport.request('POST', url, {
            body: JSON.stringify(jws),
            headers: { ...headers, 'content-type': 'application/jose+json' },
            signal,
          });
        });
      } catch (err) {
        // RFC 8555 §6.5: a badNonce is retried with a new nonce (the error response carried one, or newNonce).
        if (isProblem(err, 'badNonce') && badNonces++ < this.retry.badNonceRetries) {
          this.logger.debug({ url, attempt: badNonces }, 'badNonce, retrying with a fresh nonce');
          continue;
        }
        throw err;
      }
    }
  }

  async #takeNonce(signal?: AbortSignal): Promise<string> {
    const pooled = this.#nonces.take();
    if (pooled) return pooled;
    const dir = await this.directory(signal);
    this.logger.debug({ url: dir.newNonce }, 'no nonce left from earlier answers, asking newNonce');
    const res = await this.#withRetries('HEAD', dir.newNonce, signal, () =>
      this.transport.request('HEAD', dir.newNonce, { signal }),
    );
    const nonce = this.#nonces.take();
    if (!nonce) {
      throw new BadServerResponseError('newNonce answered without a valid Replay-Nonce header', {
        url: dir.newNonce,
        status: res.status,
      });
    }
    return nonce;
  }

  /**
   * Sends until the answer is final: 429/5xx and broken connections are retried with backoff
   * (Retry-After wins, up to the cap); each attempt calls `send` again so POSTs get a fresh nonce.
   */
  async #withRetries(
    method: string,
    url: string,
    signal: AbortSignal | undefined,
    send: () => Promise<HttpResponse>,
  ): Promise<AcmeResponse> {
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await send();
      } catch (err) {
        const code = networkErrorCode(err);
        const retryable =
          err instanceof NetworkError && (code === undefined || RETRYABLE_NETWORK_CODES.has(code));
        if (!retryable || attempt >= this.retry.attempts) throw err;
        const delay = this.#backoff(attempt);
        await loggedWait(
          this.logger,
          {
            kind: 'retry',
            waitFor: url,
            delayMs: delay,
            fields: { method, url, attempt, delay, ...(code ? { code } : {}) },
            level: 'debug',
            doneLevel: 'debug',
          },
          { start: 'connection failed, retrying', done: 'retrying now' },
          () => this.clock.sleep(delay, signal),
          () => this.clock.now(),
        );
        continue;
      }
      this.#nonces.add(res.headers['replay-nonce']);
      this.logger.debug({ method, url, status: res.status, attempt }, 'ACME request');
      if (res.status < 400) return toAcmeResponse(res);
      const error = responseToError(res, this.clock.now());
      if (!RETRYABLE_STATUS.has(res.status) || attempt >= this.retry.attempts) throw error;
      const retryAfter = retryAfterOf(res.headers, this.clock.now());
      // A rate limit without Retry-After is never retried blindly: more requests only extend it.
      if (res.status === 429 && retryAfter === undefined) throw error;
      const delay = retryAfter ?? this.#backoff(attempt);
      if (delay > this.retry.maxRetryAfterMs) throw error;
      await loggedWait(
        this.logger,
        {
          kind: 'retry',
          waitFor: url,
          delayMs: delay,
          fields: { method, url, status: res.status, attempt, delay },
          doneLevel: 'debug',
        },
        {
          start:
            res.status === 429
              ? 'rate limited by the CA, waiting to retry'
              : 'server asked to retry later, waiting',
          done: 'retrying now',
        },
        () => this.clock.sleep(delay, signal),
        () => this.clock.now(),
      );
    }
  }

  #backoff(attempt: number): number {
    return backoffDelay(attempt, {
      baseMs: this.retry.backoffBaseMs,
      maxMs: this.retry.backoffMaxMs,
      random: this.#random,
    });
  }

  close(): void {
    this.transport.close();
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function isProblem(err: unknown, shortType: string): err is AcmeProblemError {
  return (
    err instanceof AcmekitError &&
    'type' in err &&
    (err as AcmeProblemError).type === `urn:ietf:params:acme:error:${shortType}`
  );
}

function notADirectory(url: string, why: string, status: number, cause: unknown): BadServerResponseError {
  return new BadServerResponseError(`${url} is not an ACME directory: ${sanitizeText(why, 300)}`, {
    url,
    status,
    cause,
    notAcmeDirectory: true,
  });
}

function checkResourceUrl(value: string, name: string, directoryUrl: string): void {
  try {
    checkAcmeUrl(value, `directory resource ${name}`);
  } catch (cause) {
    throw new BadServerResponseError(
      `the directory's ${name} URL ${value} is not usable (ACME needs https)`,
      {
        url: directoryUrl,
        cause,
      },
    );
  }
}

export function toAcmeResponse(res: HttpResponse): AcmeResponse {
  const loc = headerValue(res.headers.location);
  let location: string | undefined;
  if (loc !== undefined) {
    try {
      location = new URL(loc, res.url).href;
    } catch {
      location = undefined;
    }
  }
  return {
    ...res,
    location,
    links: parseLinkHeader(res.headers.link, res.url),
    json: () => safeJsonParse(res.body.toString('utf8')),
  };
}

/** Turns an error response into a typed error: a problem document when there is one, else a synthetic one. */
export function responseToError(res: HttpResponse, now: number): AcmekitError {
  const retryAfterMs = retryAfterOf(res.headers, now);
  const details = {
    httpStatus: res.status,
    url: res.url,
    retryAfter: retryAfterMs === undefined ? undefined : new Date(now + retryAfterMs),
    links: parseLinkHeader(res.headers.link, res.url),
  };
  let problem: ProblemDocument | undefined;
  try {
    problem = parseProblemDocument(safeJsonParse(res.body.toString('utf8')));
  } catch {
    problem = undefined;
  }
  if (problem) return problemToError(problem, details);
  const snippet = sanitizeText(
    res.body
      .toString('utf8')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
    200,
  );
  const synthetic = res.status === 429 ? 'rateLimited' : res.status >= 500 ? 'serverInternal' : undefined;
  if (synthetic) {
    return problemToError(
      {
        type: `urn:ietf:params:acme:error:${synthetic}`,
        detail: `HTTP ${res.status} without a problem document${snippet ? `: ${snippet}` : ''}`,
      },
      details,
    );
  }
  return new BadServerResponseError(`HTTP ${res.status} from ${res.url}${snippet ? `: ${snippet}` : ''}`, {
    url: res.url,
    status: res.status,
  });
}
