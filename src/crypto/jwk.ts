import { createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { b64u } from '../internal/base64url.ts';

export type PublicJwk =
  | { readonly kty: 'EC'; readonly crv: string; readonly x: string; readonly y: string }
  | { readonly kty: 'RSA'; readonly e: string; readonly n: string }
  | { readonly kty: 'OKP'; readonly crv: string; readonly x: string };

/** The public JWK with only the members RFC 7638 §3.2 requires, in lexicographic order. */
export function publicJwk(key: KeyObject): PublicJwk {
  const jwk = key.export({ format: 'jwk' }) as JsonWebKey;
  switch (jwk.kty) {
    case 'EC':
      return { crv: jwk.crv!, kty: 'EC', x: jwk.x!, y: jwk.y! };
    case 'RSA':
      return { e: jwk.e!, kty: 'RSA', n: jwk.n! };
    case 'OKP':
      return { crv: jwk.crv!, kty: 'OKP', x: jwk.x! };
    default:
      throw new TypeError(`unsupported JWK key type ${String(jwk.kty)}`);
  }
}

/** RFC 7638 thumbprint (SHA-256), used in key authorizations (RFC 8555 §8.1). */
export function jwkThumbprint(key: KeyObject): string {
  // publicJwk already orders members lexicographically, and JSON.stringify keeps insertion order.
  return b64u(
    createHash('sha256')
      .update(JSON.stringify(publicJwk(key)))
      .digest(),
  );
}

/** Private key as a JWK, for account credentials saved as JSON. */
export function privateJwk(key: KeyObject): JsonWebKey {
  return key.export({ format: 'jwk' }) as JsonWebKey;
}

export function keyFromJwk(jwk: JsonWebKey): KeyObject {
  return createPrivateKey({ key: jwk, format: 'jwk' });
}
