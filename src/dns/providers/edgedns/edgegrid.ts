// Akamai EdgeGrid request signing, EG1-HMAC-SHA256, as Akamai documents it ("Authenticate with EdgeGrid",
// https://techdocs.akamai.com/developer/docs/authenticate-with-edgegrid):
//   timestamp   = yyyyMMddTHH:mm:ss+0000 (UTC)
//   auth header = "EG1-HMAC-SHA256 client_token=<ct>;access_token=<at>;timestamp=<ts>;nonce=<nonce>;"
//   signing key = base64(hmac-sha256(key = client secret, data = timestamp))
//   data        = METHOD \t scheme \t host \t path?query \t canonical headers (none here) \t
//                 content hash (base64 sha256 of a POST body, at most max-body bytes; empty otherwise) \t auth header
//   signature   = base64(hmac-sha256(key = signing key, data))
//   Authorization: <auth header>signature=<signature>
import { createHash, createHmac } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

export const EDGEGRID_ALGORITHM = 'EG1-HMAC-SHA256';
/** Akamai's default max-body: only this many bytes of a POST body are hashed. */
export const DEFAULT_MAX_BODY = 131_072;

export interface EdgeGridCredentials {
  readonly clientToken: string;
  readonly accessToken: Secret;
  readonly clientSecret: Secret;
  readonly maxBody?: number;
}

export interface EdgeGridRequest {
  readonly method: string;
  /** https, normally. */
  readonly scheme: string;
  /** host[:port]. */
  readonly host: string;
  /** Path with its query, as sent. */
  readonly path: string;
  readonly body: string;
}

export interface SignedEdgeGrid {
  readonly authorization: string;
  readonly dataToSign: string;
}

/** yyyyMMddTHH:mm:ss+0000 in UTC. */
export function edgeGridTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 19)}+0000`;
}

/** base64 SHA-256 of a POST body (its first max-body bytes); "" for other methods and empty bodies. */
export function contentHash(method: string, body: string, maxBody = DEFAULT_MAX_BODY): string {
  if (method.toUpperCase() !== 'POST' || body === '') return '';
  const bytes = Buffer.from(body, 'utf8');
  return createHash('sha256')
    .update(bytes.subarray(0, Math.min(bytes.length, maxBody)))
    .digest('base64');
}

export function signEdgeGrid(
  req: EdgeGridRequest,
  creds: EdgeGridCredentials,
  timestamp: string,
  nonce: string,
): SignedEdgeGrid {
  const header =
    `${EDGEGRID_ALGORITHM} client_token=${creds.clientToken};access_token=${creds.accessToken.reveal()};` +
    `timestamp=${timestamp};nonce=${nonce};`;
  const dataToSign = [
    req.method.toUpperCase(),
    req.scheme.toLowerCase(),
    req.host.toLowerCase(),
    req.path,
    '',
    contentHash(req.method, req.body, creds.maxBody),
    header,
  ].join('\t');
  const signingKey = createHmac('sha256', creds.clientSecret.reveal()).update(timestamp).digest('base64');
  const signature = createHmac('sha256', signingKey).update(dataToSign).digest('base64');
  return { authorization: `${header}signature=${signature}`, dataToSign };
}
