import { NetworkError, TimeoutError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import { AlidnsApiError } from './client.ts';
import { CredentialFetchError } from './credentials.ts';

/** The zone named in DomainName is not an Alidns domain of this account. */
const ZONE_MISSING_CODES = new Set(['InvalidDomainName.NoExist', 'IncorrectDomainUser']);
export function isZoneMissing(err: unknown): boolean {
  return err instanceof AlidnsApiError && ZONE_MISSING_CODES.has(err.code);
}

/** DeleteDomainRecord found nothing to delete: someone else removed it first. */
export function isRecordGone(err: unknown): boolean {
  return (
    err instanceof AlidnsApiError &&
    (err.code === 'DomainRecordNotBelongToUser' || err.code === 'InvalidRecordId.NotFound')
  );
}

const AUTH_CODES = new Set([
  'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);
const PERMISSION_CODES = new Set(['Forbidden.RAM', 'Forbidden', 'NoPermission', 'Forbidden.NoPermission']);

export interface ErrorContext {
  readonly operation: DnsOperation;
  /** What the user should check about the credentials (the variable names). */
  readonly credentialHint: string;
  /** The Alidns domain the call was about, without the trailing dot. */
  readonly zone?: string;
  readonly endpoint: string;
}

/** Turns whatever a call threw into a DnsProviderError that says what to do; aborts pass through. */
export function toDnsProviderError(err: unknown, ctx: ErrorContext): unknown {
  const { operation } = ctx;
  if (err instanceof DnsProviderError) return err;
  if (err instanceof CredentialFetchError) {
    return new DnsProviderError('alidns', operation, err.message, statusOf(err.status));
  }
  if (err instanceof AlidnsApiError) return fromApiError(err, ctx);
  if (err instanceof TimeoutError && err.message.includes(ctx.endpoint)) {
    return new DnsProviderError(
      'alidns',
      operation,
      `no answer from ${ctx.endpoint} in time: try again later`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof NetworkError) {
    return new DnsProviderError(
      'alidns',
      operation,
      `cannot reach the Alidns API at ${ctx.endpoint}: ${err.message}; check the network or ALICLOUD_API_URL`,
      { cause: err },
    );
  }
  // Aborts (AbortedError/TimeoutError from the caller's signal) and bugs stay as they are.
  return err;
}

function fromApiError(e: AlidnsApiError, ctx: ErrorContext): DnsProviderError {
  const { code } = e;
  const ref = e.requestId ? `, RequestId ${e.requestId}` : '';
  const msg = (text: string): DnsProviderError =>
    new DnsProviderError('alidns', ctx.operation, text, { status: e.status });

  if (AUTH_CODES.has(code)) {
    return msg(`AccessKey refused (${code}${ref}): check ${ctx.credentialHint}`);
  }
  if (code === 'InvalidAccessKeyId.Inactive') {
    return msg(
      `AccessKey is disabled (${code}${ref}): enable it in the RAM console or create another, then check ${ctx.credentialHint}`,
    );
  }
  if (code.startsWith('InvalidSecurityToken')) {
    return msg(
      `security token refused (${code}${ref}): STS credentials expired or do not belong together; check ${ctx.credentialHint}`,
    );
  }
  if (PERMISSION_CODES.has(code)) {
    return msg(
      `missing RAM permission alidns:${e.action} (${code}${ref}): grant it to the RAM user or role ` +
        '(the system policy AliyunDNSFullAccess includes it)',
    );
  }
  if (code === 'InvalidTimeStamp.Expired' || code === 'InvalidTimeStamp.Format') {
    return msg(
      `the API refused the request time (${code}${ref}): this machine's clock is more than 15 minutes off; ` +
        'synchronise it (NTP)',
    );
  }
  if (ZONE_MISSING_CODES.has(code)) {
    return msg(
      `zone ${ctx.zone ?? '?'} is not in this account (${code}${ref}): add the domain to Alibaba Cloud DNS, ` +
        `or use credentials of the account that holds it (check ${ctx.credentialHint})`,
    );
  }
  if (code.startsWith('Throttling')) {
    return msg(
      `the API kept throttling requests (${code}${ref}) after ${e.attempts} attempts: try again later, ` +
        'or run fewer renewals at once',
    );
  }
  if (e.status >= 500 || code === 'ServiceUnavailable' || code === 'InternalError') {
    return msg(
      `the API failed with HTTP ${e.status} (${code}${ref}) after ${e.attempts} attempts: try again later`,
    );
  }
  if (code === 'DomainRecordConflict') {
    return msg(
      `another record at this name conflicts with a TXT record (${code}${ref}): a CNAME there must go, or ` +
        'point it at a zone you can write (CNAME delegation of _acme-challenge)',
    );
  }
  const detail = e.apiMessage ? `: ${e.apiMessage}` : '';
  return msg(`${e.action} failed (${code}${ref})${detail}`);
}

function statusOf(status: number | undefined): { status?: number } {
  return status === undefined ? {} : { status };
}
