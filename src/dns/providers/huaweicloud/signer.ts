// Huawei Cloud AK/SK request signing, SDK-HMAC-SHA256, as the "API Request Signing Guide" documents it
// (https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-002.html and the pages after it):
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//     CanonicalURI: the path, each segment URI-encoded, always ending with "/"
//     CanonicalQueryString: "name=value" pairs URI-encoded (RFC 3986), sorted by name, joined with "&"
//     CanonicalHeaders: "lower-case-name:trimmed value\n" for each signed header, sorted by name
//   StringToSign = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
//   Signature = hex(hmac-sha256(SK, StringToSign))
//   Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>
import { createHash, createHmac } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

export const SDK_HMAC_ALGORITHM = 'SDK-HMAC-SHA256';

export interface HuaweiCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
}

export interface HuaweiRequest {
  readonly method: string;
  /** host[:port] as the Host header carries it (no port for 443 over https). */
  readonly host: string;
  /** Path with its query, as sent: "/v2/zones?type=public". */
  readonly path: string;
  /** Headers to sign besides host and X-Sdk-Date (content-type, x-project-id, …). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SignedHuaweiRequest {
  /** Every header to send besides host: the given ones, x-sdk-date and authorization (lower-case names). */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/** RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** "/v2/zones" → "/v2/zones/": each segment encoded, a trailing slash added. */
export function canonicalUri(path: string): string {
  const encoded = path
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** The query's pairs encoded and sorted by name (then value); "" when there is none. */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const i = pair.indexOf('=');
      const [k, v] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** YYYYMMDDTHHMMSSZ in UTC. */
export function sdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function signHuaweiRequest(
  req: HuaweiRequest,
  creds: HuaweiCredentials,
  date: Date,
): SignedHuaweiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  headers['x-sdk-date'] = sdkDate(date);
  const signing: Record<string, string> = { ...headers, host: req.host };
  const names = Object.keys(signing).sort();
  const q = req.path.indexOf('?');
  const [path, query] = q < 0 ? [req.path, ''] : [req.path.slice(0, q), req.path.slice(q + 1)];
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    names.map((n) => `${n}:${(signing[n] ?? '').trim()}\n`).join(''),
    names.join(';'),
    createHash('sha256').update(req.body).digest('hex'),
  ].join('\n');
  const stringToSign = `${SDK_HMAC_ALGORITHM}\n${headers['x-sdk-date']}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signature = createHmac('sha256', creds.secretAccessKey.reveal()).update(stringToSign).digest('hex');
  headers.authorization = `${SDK_HMAC_ALGORITHM} Access=${creds.accessKeyId}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}
