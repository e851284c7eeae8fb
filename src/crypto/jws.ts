import { type KeyObject, sign } from 'node:crypto';
import { b64u } from '../internal/base64url.ts';
import { type PublicJwk, publicJwk } from './jwk.ts';
import { type AccountKeyAlgorithm, accountAlgorithm } from './keys.ts';

/** Flattened JWS JSON serialization (RFC 7515 §7.2.2), the only form ACME accepts (RFC 8555 §6.2). */
export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

/** Who signs: a new key identifies itself by jwk, a registered account by kid (RFC 8555 §6.2: exactly one). */
export type JwsIdentity = { readonly kid: string } | { readonly jwk: true };

export interface JwsInput {
  key: KeyObject;
  url: string;
  nonce?: string;
  identity: JwsIdentity;
  /** An object, or undefined for POST-as-GET (payload "" , RFC 8555 §6.3). */
  payload: unknown;
}

/** Signs an ACME request body. */
export function signJws(input: JwsInput): FlattenedJws {
  const alg = accountAlgorithm(input.key);
  const header: { alg: AccountKeyAlgorithm; kid?: string; jwk?: PublicJwk; nonce?: string; url?: string } = {
    alg,
  };
  if ('kid' in input.identity) header.kid = input.identity.kid;
  else header.jwk = publicJwk(input.key);
  if (input.nonce !== undefined) header.nonce = input.nonce;
  header.url = input.url;
  const protectedB64 = b64u(JSON.stringify(header));
  const payloadB64 = input.payload === undefined ? '' : b64u(JSON.stringify(input.payload));
  const signature = signBytes(alg, input.key, Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

function signBytes(alg: AccountKeyAlgorithm, key: KeyObject, data: Buffer): Buffer {
  switch (alg) {
    case 'ES256':
      return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', data, key);
    case 'EdDSA':
      return sign(null, data, key);
  }
}
