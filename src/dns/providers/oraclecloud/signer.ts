// Oracle Cloud Infrastructure request signatures, version 1 ("Request Signatures",
// https://docs.oracle.com/en-us/iaas/Content/API/Concepts/signingrequests.htm), a profile of
// draft-cavage-http-signatures-08: an RSA-SHA256 (PKCS #1 v1.5) signature over the lines "name: value"
// of the signed headers, in the order listed, joined with "\n". "(request-target)" is the lower-case
// method, a space and the path with its query. GET and DELETE sign date, (request-target) and host;
// PUT, POST and PATCH also content-length, content-type and x-content-sha256 (base64 SHA-256 of the body).
//   Authorization: Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",algorithm="rsa-sha256",
//                  headers="date (request-target) host …",signature="<base64>"
import { createHash, type KeyObject, sign } from 'node:crypto';

export interface OciSigningKey {
  /** "<tenancy OCID>/<user OCID>/<key fingerprint>". */
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

export interface OciRequest {
  readonly method: string;
  /** host[:port], as the Host header carries it. */
  readonly host: string;
  /** Path with its query, as sent. */
  readonly path: string;
  readonly body: string;
  readonly contentType?: string;
}

export interface SignedOciRequest {
  /** date, authorization and, with a body, content-length, content-type and x-content-sha256. */
  readonly headers: Record<string, string>;
  readonly signingString: string;
}

/** The headers signed for a method, in order. */
export function ociSignedHeaders(method: string): string[] {
  const base = ['date', '(request-target)', 'host'];
  return ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase())
    ? [...base, 'content-length', 'content-type', 'x-content-sha256']
    : base;
}

/** The signing string from header values (lower-case names; "(request-target)" included). */
export function signingString(names: readonly string[], values: Readonly<Record<string, string>>): string {
  return names.map((n) => `${n}: ${values[n] ?? ''}`).join('\n');
}

/** An RSA-SHA256 signature of the string, base64. */
export function rsaSha256(text: string, key: KeyObject): string {
  return sign('sha256', Buffer.from(text, 'utf8'), key).toString('base64');
}

export function signOciRequest(req: OciRequest, key: OciSigningKey, date: Date): SignedOciRequest {
  const names = ociSignedHeaders(req.method);
  const headers: Record<string, string> = { date: date.toUTCString() };
  if (names.includes('x-content-sha256')) {
    headers['content-length'] = String(Buffer.byteLength(req.body, 'utf8'));
    headers['content-type'] = req.contentType ?? 'application/json';
    headers['x-content-sha256'] = createHash('sha256').update(req.body, 'utf8').digest('base64');
  }
  const values = {
    ...headers,
    '(request-target)': `${req.method.toLowerCase()} ${req.path}`,
    host: req.host,
  };
  const text = signingString(names, values);
  headers.authorization =
    `Signature version="1",keyId="${key.keyId}",algorithm="rsa-sha256",` +
    `headers="${names.join(' ')}",signature="${rsaSha256(text, key.privateKey)}"`;
  return { headers, signingString: text };
}
