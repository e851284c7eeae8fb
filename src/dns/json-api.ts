import { type DnsOperation, DnsProviderError } from '../errors/dns.ts';
import type { Logger } from '../internal/logger.ts';
import type { HttpResponse } from '../protocol/transport.ts';
import type { ProviderHttp } from './definition.ts';

/** A JSON object from an API answer, or undefined for anything else (HTML error pages, empty bodies). */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface JsonCall {
  readonly http: ProviderHttp;
  readonly provider: string;
  readonly operation: DnsOperation;
  readonly method: string;
  /** Base URL plus path; logged as the path only. */
  readonly baseUrl: string;
  readonly path: string;
  /** Authentication and any other headers; never logged. */
  readonly headers: Record<string, string>;
  readonly body?: unknown;
  readonly signal: AbortSignal;
  /** Names the API and the variable that sets its URL, for "did not answer" errors. */
  readonly apiName: string;
  readonly urlVariable: string;
  readonly redact: (text: string) => string;
  readonly logger: Logger;
}

/**
 * One JSON request to a DNS provider's API. A transport failure becomes a DnsProviderError naming the
 * API (secrets cut out); cancellation stays the caller's abort; the answer is returned whatever its status.
 */
export async function sendJson(call: JsonCall): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  let res: HttpResponse;
  try {
    res = await call.http.request(call.method, `${call.baseUrl}${call.path}`, {
      headers,
      signal: call.signal,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  } catch (err) {
    if (call.signal.aborted) throw err;
    throw new DnsProviderError(
      call.provider,
      call.operation,
      `the ${call.apiName} API did not answer: ${call.redact((err as Error).message)}; check the network, the ` +
        `proxy settings and ${call.urlVariable}`,
      { cause: err },
    );
  }
  call.logger.debug(
    {
      provider: call.provider,
      operation: call.operation,
      method: call.method,
      path: call.path,
      status: res.status,
    },
    `${call.provider}: API call`,
  );
  return res;
}
