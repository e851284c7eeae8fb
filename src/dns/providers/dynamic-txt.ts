import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import { throwIfAborted } from '../../internal/abort.ts';
import type { Clock } from '../../internal/clock.ts';
import type { Logger } from '../../internal/logger.ts';
import { redactSecrets } from '../../internal/redact.ts';
import type { Secret } from '../../internal/secret.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { ProviderDeps, ProviderHttp } from '../definition.ts';

/**
 * What the dynamic-DNS style providers (DuckDNS, Hurricane Electric's dynamic TXT) share: one update URL
 * that answers in plain text and keeps one TXT value per name. This sends one update: 429 and 5xx answers
 * are retried (bounded, Retry-After honoured), the credential (in the query or the form body) never
 * reaches a message or a log, and every wait honours the signal. Reading the answer is the provider's.
 */

export interface DynamicTxtApi {
  readonly code: string;
  /** For messages: "DuckDNS". */
  readonly apiName: string;
  /** The variable that sets the update URL, named when the service does not answer. */
  readonly urlVariable: string;
  readonly secrets: readonly Secret[];
}

export interface DynamicTxtRequest {
  readonly method: 'GET' | 'POST';
  /** The full URL; its query may carry the credential, so only its origin and path are ever shown. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Retries for 429 and 5xx answers. */
const RETRIES = 3;
/** Longest wait between two tries, whatever Retry-After says. */
const MAX_RETRY_WAIT_MS = 60_000;

export class DynamicTxtClient {
  readonly #api: DynamicTxtApi;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(api: DynamicTxtApi, deps: ProviderDeps) {
    this.#api = api;
    this.#http = deps.http;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
  }

  /** Sends one update and returns the answer whatever its status (after the retries of 429 and 5xx). */
  async send(
    operation: DnsOperation,
    req: DynamicTxtRequest,
    signal: AbortSignal,
    /** The record name, for the log. */
    fqdn: string,
  ): Promise<HttpResponse> {
    const api = this.#api;
    const shown = withoutQuery(req.url);
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      let res: HttpResponse;
      try {
        res = await this.#http.request(req.method, req.url, {
          headers: { accept: 'text/plain, */*', ...req.headers },
          signal,
          ...(req.body !== undefined ? { body: req.body } : {}),
        });
      } catch (err) {
        if (signal.aborted) throw err;
        // No `cause`: the transport's error names the whole URL, and DuckDNS takes its token in the query.
        const reason = this.redact((err as Error).message.split(req.url).join(shown));
        throw new DnsProviderError(
          api.code,
          operation,
          `the ${api.apiName} update URL did not answer: ${reason}; check the network, the proxy settings and ${api.urlVariable}`,
        );
      }
      this.#logger.debug(
        {
          provider: api.code,
          operation,
          method: req.method,
          path: new URL(req.url).pathname,
          fqdn,
          status: res.status,
        },
        `${api.code}: update sent`,
      );
      const retryable = res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= RETRIES) return res;
      const wait = Math.min(
        MAX_RETRY_WAIT_MS,
        retryAfterOf(res.headers, this.#clock.now()) ?? 1000 * 2 ** attempt,
      );
      this.#logger.info(
        { provider: api.code, status: res.status, waitMs: wait },
        `${api.code}: the service answered ${res.status}; trying again in ${Math.ceil(wait / 1000)} s`,
      );
      await this.#clock.sleep(wait, signal);
    }
  }

  /** The answer's text, trimmed, secrets cut out, at most `max` characters: for messages. */
  text(res: HttpResponse, max = 200): string {
    return this.redact(res.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, max));
  }

  /** An error for an answer that is not the service's own words: a status other than 2xx, or an HTML page. */
  unexpected(operation: DnsOperation, res: HttpResponse, what: string): DnsProviderError {
    const api = this.#api;
    const status = res.status;
    const own = this.text(res);
    const detail = `HTTP ${status}${own ? `, ${own}` : ''}`;
    let message: string;
    if (status === 429) {
      const ms = retryAfterOf(res.headers, this.#clock.now());
      message = `rate limited while trying to ${what} (${detail}); ${ms === undefined ? 'retry in a few minutes' : `retry after ${Math.ceil(ms / 1000)} s`}`;
    } else if (status >= 500) {
      message = `${api.apiName} failed while trying to ${what} (${detail}); try again in a few minutes`;
    } else if (status >= 200 && status < 300) {
      message = `${api.apiName} gave an answer acmekit does not know while trying to ${what} (${detail}); check ${api.urlVariable}`;
    } else {
      message = `${api.apiName} refused to ${what} (${detail}); check ${api.urlVariable}`;
    }
    return new DnsProviderError(api.code, operation, message, { status });
  }

  redact(text: string): string {
    return redactSecrets(text, this.#api.secrets);
  }
}

/** "https://www.duckdns.org/update?token=…" → "https://www.duckdns.org/update". */
export function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
