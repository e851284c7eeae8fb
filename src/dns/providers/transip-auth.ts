// The signed access-token request of the TransIP REST API v6, as its documentation describes it
// (https://api.transip.nl/rest/docs.html, "Authentication"): POST /auth with a JSON body {login, nonce,
// read_only, expiration_time, label, global_key} and a `Signature` header holding the base64 of the RSA
// signature (PKCS #1 v1.5 with SHA-512) of exactly that body, made with the private key of a key pair
// created in the TransIP control panel. The answer is {"token": "<JWT>"}, used as a Bearer token.
import { type KeyObject, randomBytes, sign } from 'node:crypto';

export interface TransipTokenRequest {
  readonly login: string;
  /** Unique per request, at most 32 characters. */
  readonly nonce: string;
  readonly readOnly: boolean;
  /** "30 minutes", "1 day": the token's lifetime, at most a month. */
  readonly expirationTime: string;
  readonly label: string;
  /** True: the token may be used from any address, not only the account's whitelisted ones. */
  readonly globalKey: boolean;
}

/** The body of the token request, as sent and signed. */
export function transipTokenBody(r: TransipTokenRequest): string {
  return JSON.stringify({
    login: r.login,
    nonce: r.nonce,
    read_only: r.readOnly,
    expiration_time: r.expirationTime,
    label: r.label,
    global_key: r.globalKey,
  });
}

/** The `Signature` header: base64(RSA PKCS #1 v1.5 SHA-512 signature of the body). */
export function transipSignature(body: string, privateKey: KeyObject): string {
  return sign('sha512', Buffer.from(body, 'utf8'), privateKey).toString('base64');
}

/** 32 hex characters. */
export function transipNonce(): string {
  return randomBytes(16).toString('hex');
}
