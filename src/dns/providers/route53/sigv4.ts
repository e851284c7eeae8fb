import { createHash, createHmac } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

/** What a request is signed with; secret parts stay wrapped until the HMAC needs them. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
  readonly sessionToken?: Secret | undefined;
}

export interface SignableRequest {
  readonly method: string;
  /** Host as sent in the Host header, with the port when it is not the scheme's default. */
  readonly host: string;
  /** The path exactly as it goes on the wire ("/2013-04-01/hostedzone/Z1/rrset"). */
  readonly path: string;
  /** Query parameters, decoded; order does not matter. */
  readonly query?: readonly (readonly [string, string])[];
  /** Extra headers to sign and send; a repeated header is given as an array, in order. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string;
}

export interface SigningParams {
  readonly credentials: SigningCredentials;
  readonly region: string;
  readonly service: string;
  readonly date: Date;
  /** Adds x-amz-content-sha256 (S3 and a few others require it; Route 53 and STS do not). */
  readonly contentSha256Header?: boolean;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** "20150830T123600Z": the x-amz-date form of an instant. */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 percent-encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ stay, hex in upper case. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The canonical URI: dot segments and empty segments removed (RFC 3986 normalisation, which every
 * service but S3 applies), then each segment encoded. The path is taken as sent, so an already
 * percent-encoded segment gets encoded a second time, as the SigV4 documentation requires.
 */
export function canonicalUri(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(uriEncode(segment));
  }
  const trailing = out.length > 0 && /\/\.{0,2}$/.test(path);
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}

export function canonicalQuery(query: readonly (readonly [string, string])[] = []): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Header names lower-cased and sorted; values trimmed, inner runs of spaces folded, repeats joined by ",". */
function canonicalHeaderList(
  headers: Readonly<Record<string, string | readonly string[]>>,
): [string, string][] {
  const merged = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const list = merged.get(key) ?? [];
    for (const v of typeof value === 'string' ? [value] : value) list.push(v.trim().replace(/\s+/g, ' '));
    merged.set(key, list);
  }
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, v.join(',')]);
}

export interface SignatureParts {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly authorization: string;
  /** Every header the request must carry (host included), names in lower case. */
  readonly headers: Record<string, string>;
}

/** The signing key for one day, region and service: HMAC chain over "AWS4" + secret. */
export function deriveSigningKey(secret: Secret, dateStamp: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret.reveal()}`, dateStamp);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** Signs a request (Signature Version 4, Authorization header form) and returns the pieces. */
export function signRequest(req: SignableRequest, p: SigningParams): SignatureParts {
  const stamp = amzDate(p.date);
  const day = stamp.slice(0, 8);
  const body = req.body ?? '';
  const payloadHash = body === '' ? EMPTY_SHA256 : sha256Hex(body);

  const toSign: Record<string, string | readonly string[]> = {
    ...req.headers,
    host: req.host,
    'x-amz-date': stamp,
  };
  if (p.contentSha256Header) toSign['x-amz-content-sha256'] = payloadHash;
  const token = p.credentials.sessionToken;
  if (token) toSign['x-amz-security-token'] = token.reveal();

  const list = canonicalHeaderList(toSign);
  const signedHeaders = list.map(([k]) => k).join(';');
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    list.map(([k, v]) => `${k}:${v}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${p.region}/${p.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = deriveSigningKey(p.credentials.secretAccessKey, day, p.region, p.service);
  const signature = hmac(key, stringToSign).toString('hex');
  const authorization = `${ALGORITHM} Credential=${p.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;

  const headers: Record<string, string> = {};
  for (const [k, v] of list) headers[k] = v;
  headers.authorization = authorization;
  return { canonicalRequest, stringToSign, signedHeaders, signature, authorization, headers };
}
