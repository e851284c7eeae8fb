// Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256, as documented in "V3 request structure and
// signature" (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):
//   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//   Signature        = hex(hmac-sha256(AccessKeySecret, StringToSign))
//   Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<list>,Signature=<hex>
import { createHash, createHmac } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

export interface Acs3Credentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: Secret;
  /** STS security token; sent (and signed) as x-acs-security-token. */
  readonly securityToken?: Secret | undefined;
}

export interface Acs3Request {
  readonly method: string;
  /** host[:port] exactly as the Host header will carry it. */
  readonly host: string;
  /** Resource path; RPC-style APIs (Alidns) use "/". */
  readonly path?: string;
  /** Parameters sent in the query string ("in": "query"). */
  readonly query?: Readonly<Record<string, string>>;
  /** Further headers: x-acs-action, x-acs-version, content-type, ... */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface Acs3SignOptions {
  readonly date: Date;
  /** x-acs-signature-nonce: unique per request, the API refuses a replay. */
  readonly nonce: string;
}

export interface SignedAcs3Request {
  /** The canonical query string; send it as the URL's query so the server sees what was signed. */
  readonly queryString: string;
  /** Every header to send, lower-case names, including host and authorization. */
  readonly headers: Record<string, string>;
  readonly signedHeaders: string;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/** RFC 3986 encoding as the document asks: only A-Z a-z 0-9 - _ . ~ stay; space is %20, * is %2A. */
export function percentEncode(value: string): string {
  // encodeURIComponent leaves ! ' ( ) * alone, which RFC 3986 reserves.
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Each "/"-separated segment encoded; "/" for RPC-style APIs. */
export function canonicalUri(path: string): string {
  return path.split('/').map(percentEncode).join('/') || '/';
}

/** Parameters sorted by name, names and values encoded, joined with & (empty string when none). */
export function canonicalQueryString(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort(byCodeUnit)
    .map((name) => `${percentEncode(name)}=${percentEncode(query[name] ?? '')}`)
    .join('&');
}

/** yyyy-MM-ddTHH:mm:ssZ in UTC, the x-acs-date form (no milliseconds). */
export function acsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Headers that take part in the signature: host, content-type and every x-acs-*. */
export function isSignedHeader(lowerName: string): boolean {
  return lowerName === 'host' || lowerName === 'content-type' || lowerName.startsWith('x-acs-');
}

/** Builds the canonical request from already-final headers (lower-case names). */
export function buildCanonicalRequest(
  method: string,
  path: string,
  queryString: string,
  headers: Readonly<Record<string, string>>,
): { canonicalRequest: string; signedHeaders: string } {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter(isSignedHeader)
    .sort(byCodeUnit);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${(lower[n] ?? '').trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const payloadHash = lower['x-acs-content-sha256'] ?? sha256Hex('');
  const canonicalRequest = [
    method.toUpperCase(),
    canonicalUri(path),
    queryString,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  return { canonicalRequest, signedHeaders };
}

/** Adds x-acs-date, x-acs-signature-nonce, x-acs-content-sha256, x-acs-security-token and authorization. */
export function signAcs3(req: Acs3Request, creds: Acs3Credentials, opts: Acs3SignOptions): SignedAcs3Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
  headers.host = req.host;
  headers['x-acs-date'] = acsDate(opts.date);
  headers['x-acs-signature-nonce'] = opts.nonce;
  headers['x-acs-content-sha256'] = sha256Hex(req.body ?? '');
  if (creds.securityToken !== undefined) headers['x-acs-security-token'] = creds.securityToken.reveal();

  const queryString = canonicalQueryString(req.query ?? {});
  const { canonicalRequest, signedHeaders } = buildCanonicalRequest(
    req.method,
    req.path ?? '/',
    queryString,
    headers,
  );
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', creds.accessKeySecret.reveal()).update(stringToSign).digest('hex');
  headers.authorization = `${ACS3_ALGORITHM} Credential=${creds.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return { queryString, headers, signedHeaders, canonicalRequest, stringToSign };
}

// Plain code-unit order ("ascending by character"), never locale order.
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
