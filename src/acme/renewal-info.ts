import { BadServerResponseError } from '../errors/base.ts';
import { retryAfterOf } from '../protocol/retry-after.ts';
import { parseRenewalInfo } from '../protocol/wire-parse.ts';
import type { ClientContext } from './session.ts';

/** RFC 9773 renewal information: when the CA suggests renewing, and when to ask again. */
export interface RenewalInfo {
  /** The certificate id used in the URL and in `replaces` (RFC 9773 §4.1). */
  readonly certId: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  /** Only http(s) URLs are kept (a javascript: URL is dropped). */
  readonly explanationUrl: string | undefined;
  /** When to fetch again: Retry-After clamped to [1 min, 1 day]; 6 h when absent (RFC 9773 §4.3). */
  readonly retryAfter: Date;
}

const MIN_RETRY_MS = 60_000;
const MAX_RETRY_MS = 86_400_000;
const DEFAULT_RETRY_MS = 6 * 3_600_000;

export async function fetchRenewalInfo(
  client: ClientContext,
  certificatePem: string,
  signal?: AbortSignal,
): Promise<RenewalInfo | undefined> {
  const dir = await client.http.directory(signal);
  if (!dir.renewalInfo) return undefined;
  const { parseCertificateChain, ariCertificateId } = await import('../crypto/certificate.ts');
  const [leaf] = await parseCertificateChain(certificatePem);
  const certId = ariCertificateId(leaf!);
  const url = `${dir.renewalInfo.replace(/\/$/, '')}/${certId}`;
  const res = await client.http.get(url, signal);
  const info = parseRenewalInfo(res.json(), url);
  const windowStart = parseRfc3339(info.suggestedWindow.start);
  const windowEnd = parseRfc3339(info.suggestedWindow.end);
  if (Number.isNaN(windowStart.getTime()) || Number.isNaN(windowEnd.getTime()) || windowEnd <= windowStart) {
    throw new BadServerResponseError(
      'renewal info has an unusable suggestedWindow (unparsable, or end not after start)',
      {
        url,
      },
    );
  }
  const now = client.clock.now();
  const retryMs = retryAfterOf(res.headers, now) ?? DEFAULT_RETRY_MS;
  const explanation = info.explanationURL;
  return {
    certId,
    windowStart,
    windowEnd,
    explanationUrl: explanation && /^https?:\/\//i.test(explanation) ? explanation : undefined,
    retryAfter: new Date(now + Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, retryMs))),
  };
}

/** RFC 3339 date-time only (RFC 9773 §4.2); Date's own parser also takes "1" or bare dates. */
function parseRfc3339(text: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text);
  return ok ? new Date(text) : new Date(Number.NaN);
}
