import { randomBytes } from 'node:crypto';
import { NetworkError } from '../../../errors/base.ts';
import { throwIfAborted } from '../../../internal/abort.ts';
import type { Clock } from '../../../internal/clock.ts';
import type { Logger } from '../../../internal/logger.ts';
import { redactSecrets } from '../../../internal/redact.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import { networkErrorCode, RETRYABLE_NETWORK_CODES } from '../../../protocol/transport.ts';
import type { ProviderHttp } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import { signAcs3 } from './acs3-signer.ts';
import type { CredentialSource } from './credentials.ts';

/** Alidns API version the actions below belong to. */
export const ALIDNS_API_VERSION = '2015-01-09';

/** A reply with an Alibaba error document ({RequestId, Code, Message}) or an unusable body. */
export class AlidnsApiError extends Error {
  readonly action: string;
  readonly status: number;
  /** Alibaba's error code, e.g. "SignatureDoesNotMatch"; "HTTP <status>" when the body had none. */
  readonly code: string;
  /** The API's own message with every secret scrubbed, at most 300 characters. */
  readonly apiMessage: string;
  readonly requestId: string | undefined;
  readonly attempts: number;
  constructor(f: {
    action: string;
    status: number;
    code: string;
    apiMessage: string;
    requestId: string | undefined;
    attempts: number;
  }) {
    super(`${f.action}: ${f.code}: ${f.apiMessage}`);
    this.name = 'AlidnsApiError';
    this.action = f.action;
    this.status = f.status;
    this.code = f.code;
    this.apiMessage = f.apiMessage;
    this.requestId = f.requestId;
    this.attempts = f.attempts;
  }
}

export interface AlidnsClientOptions {
  /** Endpoint, e.g. https://alidns.aliyuncs.com/ */
  readonly endpoint: URL;
  readonly credentials: CredentialSource;
  readonly http: ProviderHttp;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Tries per call for throttling, 5xx and dropped connections. Default 4. */
  readonly maxAttempts?: number;
  /** First backoff delay; doubled on each retry, ±20 % jitter. Default 1 s. */
  readonly backoffMs?: number;
}

/** Codes worth the same request again after a pause. */
function isRetryableCode(code: string, status: number): boolean {
  return (
    code.startsWith('Throttling') ||
    code === 'ServiceUnavailable' ||
    code === 'InternalError' ||
    // Alidns serialises changes per domain and asks to come back.
    code === 'LastOperationNotFinished' ||
    // A nonce collision: every attempt signs with a fresh one.
    code === 'SignatureNonceUsed' ||
    status >= 500
  );
}

/** Codes after which cached role credentials may simply have been rotated. */
function isCredentialCode(code: string): boolean {
  return code.startsWith('InvalidSecurityToken') || code.startsWith('InvalidAccessKeyId');
}

/**
 * Calls Alidns RPC actions: POST with the parameters in the query string, signed with ACS3-HMAC-SHA256,
 * retried with backoff on throttling and server errors. Throws AlidnsApiError for an API error reply;
 * network and abort errors pass through.
 */
export class AlidnsClient {
  readonly #o: AlidnsClientOptions;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;

  constructor(o: AlidnsClientOptions) {
    this.#o = o;
    this.#maxAttempts = o.maxAttempts ?? 4;
    this.#backoffMs = o.backoffMs ?? 1000;
  }

  async call(
    action: string,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const { endpoint, credentials, clock, http } = this.#o;
    let renewedCredentials = false;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      const creds = await credentials.get(signal);
      const signed = signAcs3(
        {
          method: 'POST',
          host: endpoint.host,
          path: endpoint.pathname,
          query: { ...params, Lang: 'en' },
          headers: { 'x-acs-action': action, 'x-acs-version': ALIDNS_API_VERSION },
          body: '',
        },
        creds,
        { date: new Date(clock.now()), nonce: randomBytes(16).toString('hex') },
      );
      const url = `${endpoint.origin}${endpoint.pathname}?${signed.queryString}`;

      let res: HttpResponse;
      try {
        res = await http.request('POST', url, { headers: signed.headers, body: '', signal });
      } catch (err) {
        if (signal.aborted) throw err;
        const netCode = err instanceof NetworkError ? networkErrorCode(err) : undefined;
        if (attempt < this.#maxAttempts && netCode !== undefined && RETRYABLE_NETWORK_CODES.has(netCode)) {
          await this.#pause(action, netCode, attempt, signal);
          continue;
        }
        throw err;
      }

      this.#o.logger.debug({ provider: 'alidns', action, status: res.status, attempt }, 'alidns: API call');
      const doc = parseJsonObject(res.body);
      if (res.status >= 200 && res.status < 300 && doc) return doc;

      const code = typeof doc?.Code === 'string' && doc.Code !== '' ? doc.Code : `HTTP ${res.status}`;
      const error = new AlidnsApiError({
        action,
        status: res.status,
        code: code.slice(0, 80),
        apiMessage: scrub(typeof doc?.Message === 'string' ? doc.Message : '', credentials.secrets()),
        requestId: typeof doc?.RequestId === 'string' ? doc.RequestId.slice(0, 80) : undefined,
        attempts: attempt,
      });
      // Role credentials can rotate under us: fetch fresh ones once before giving up.
      if (!renewedCredentials && isCredentialCode(error.code) && credentials.invalidate()) {
        renewedCredentials = true;
        continue;
      }
      if (attempt < this.#maxAttempts && isRetryableCode(error.code, res.status)) {
        await this.#pause(action, error.code, attempt, signal);
        continue;
      }
      throw error;
    }
  }

  async #pause(action: string, reason: string, attempt: number, signal: AbortSignal): Promise<void> {
    const delayMs = Math.round(this.#backoffMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4));
    this.#o.logger.warn(
      { provider: 'alidns', action, reason, attempt, delayMs },
      'alidns: API busy or unreachable, retrying',
    );
    await this.#o.clock.sleep(delayMs, signal);
  }
}

/** Removes every secret from a text the API sent back, and caps its length. */
export function scrub(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets, 4).replace(/\s+/g, ' ').trim().slice(0, 300);
}
