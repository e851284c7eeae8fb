import { type DnsOperation, DnsProviderError } from '../errors/dns.ts';
import { abortable, throwIfAborted } from '../internal/abort.ts';
import type { Clock } from '../internal/clock.ts';
import { Secret } from '../internal/secret.ts';
import type { HttpResponse } from '../protocol/transport.ts';
import type { ProviderHttp } from './definition.ts';
import { parseJsonObject } from './json-api.ts';

/**
 * Access tokens for DNS APIs behind OAuth 2.0 (Google Cloud, Azure, OVHcloud): one place that asks a
 * token endpoint (RFC 6749 §4.4 client credentials, RFC 7523 JWT bearer, refresh tokens) or a metadata
 * server, reads its error answers (§5.2), and keeps the token until shortly before it expires.
 */

/** A token and when it stops working (epoch ms). */
export interface AccessToken {
  readonly token: Secret;
  readonly expiresAt: number;
}

/** A token is replaced this long before it expires (at most half its lifetime). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Caches one access token. Concurrent callers share one fetch; each caller's signal only stops its own
 * wait, and the fetch itself runs under the deadline of the request it makes.
 */
export class TokenCache {
  readonly #clock: Clock;
  #cached: { token: AccessToken; refreshAt: number } | undefined;
  #pending: Promise<AccessToken> | undefined;
  /** Every token handed out, to cut from any text shown to the user. */
  readonly #issued: Secret[] = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async get(fetch: () => Promise<AccessToken>, signal: AbortSignal): Promise<Secret> {
    throwIfAborted(signal);
    const cached = this.#cached;
    if (cached && this.#clock.now() < cached.refreshAt) return cached.token.token;
    this.#pending ??= fetch()
      .then((token) => {
        const now = this.#clock.now();
        const margin = Math.min(REFRESH_MARGIN_MS, Math.max(0, (token.expiresAt - now) / 2));
        this.#cached = { token, refreshAt: token.expiresAt - margin };
        this.#issued.push(token.token);
        return token;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    const pending = this.#pending;
    const token = await abortable<AccessToken>(signal, (resolve, reject) => {
      pending.then(resolve, reject);
      return () => {};
    });
    return token.token;
  }

  /** Forgets the cached token (the API refused it). */
  invalidate(): void {
    this.#cached = undefined;
  }

  secrets(): readonly Secret[] {
    return this.#issued;
  }
}

export interface TokenRequest {
  readonly http: ProviderHttp;
  readonly clock: Clock;
  readonly provider: string;
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
  /** The token endpoint. */
  readonly url: string;
  /** Form fields of the request body (application/x-www-form-urlencoded). */
  readonly form: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** For messages: "Google's token endpoint". */
  readonly endpointName: string;
  /** What to check when the endpoint refuses: "GCE_SERVICE_ACCOUNT_FILE (the service account key)". */
  readonly hint: string;
  /** The variable that sets the endpoint's URL, named when it does not answer. */
  readonly urlVariable?: string;
  readonly redact: (text: string) => string;
}

/** POSTs a token request and reads `access_token` and `expires_in` from the answer. */
export async function requestToken(r: TokenRequest): Promise<AccessToken> {
  const res = await tokenCall(r, 'POST', r.url, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...r.headers },
    body: new URLSearchParams(r.form).toString(),
  });
  return readTokenAnswer(r, res);
}

/** One request to a token endpoint or metadata server; a network failure becomes a DnsProviderError. */
export async function tokenCall(
  r: Pick<
    TokenRequest,
    'http' | 'provider' | 'operation' | 'signal' | 'endpointName' | 'urlVariable' | 'redact'
  >,
  method: string,
  url: string,
  opts: { headers?: Record<string, string>; body?: string; signal?: AbortSignal },
): Promise<HttpResponse> {
  try {
    return await r.http.request(method, url, {
      headers: { accept: 'application/json', ...opts.headers },
      signal: opts.signal ?? r.signal,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
  } catch (err) {
    if (r.signal.aborted) throw err;
    throw new DnsProviderError(
      r.provider,
      r.operation,
      `${r.endpointName} did not answer: ${r.redact((err as Error).message)}; check the network and the proxy ` +
        `settings${r.urlVariable ? ` and ${r.urlVariable}` : ''}`,
      { cause: err },
    );
  }
}

/** A 200 answer with `access_token` (and `expires_in` in seconds, a number or a numeric string). */
export function readTokenAnswer(
  r: Pick<TokenRequest, 'clock' | 'provider' | 'operation' | 'endpointName' | 'hint' | 'redact'>,
  res: HttpResponse,
  names: { token?: string; expiresIn?: string } = {},
): AccessToken {
  const body = parseJsonObject(res.body);
  if (res.status !== 200) throw tokenRefused(r, res.status, body);
  const token = body?.[names.token ?? 'access_token'];
  const expiresIn = Number(body?.[names.expiresIn ?? 'expires_in']);
  if (typeof token !== 'string' || token === '') {
    throw new DnsProviderError(
      r.provider,
      r.operation,
      `${r.endpointName} answered without an access token (HTTP ${res.status})`,
      { status: res.status },
    );
  }
  // Without a lifetime, assume the usual hour less a margin.
  const lifetimeS = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3000;
  return { token: new Secret(token), expiresAt: r.clock.now() + lifetimeS * 1000 };
}

/** The endpoint refused: its OAuth error (RFC 6749 §5.2) or message, and what to check. */
export function tokenRefused(
  r: Pick<TokenRequest, 'provider' | 'operation' | 'endpointName' | 'hint' | 'redact'>,
  status: number,
  body: Record<string, unknown> | undefined,
): DnsProviderError {
  const pick = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const nested = body?.error && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : {};
  const code = pick(body?.error) ?? pick(nested.code) ?? pick(nested.status);
  const description = pick(body?.error_description) ?? pick(nested.message) ?? pick(body?.message);
  const words = [code, description?.split('\n')[0]?.slice(0, 300)].filter(Boolean).join(': ');
  const detail = r.redact(`HTTP ${status}${words ? `, ${words}` : ''}`);
  const message =
    status >= 500 || status === 429
      ? `${r.endpointName} failed (${detail}); try again in a few minutes`
      : `credentials refused by ${r.endpointName} (${detail}): check ${r.hint}`;
  return new DnsProviderError(r.provider, r.operation, message, { status });
}
