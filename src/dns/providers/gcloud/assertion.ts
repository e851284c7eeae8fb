import type { KeyObject } from 'node:crypto';
import { signJwtRs256 } from '../../jwt.ts';

// Google's "Using OAuth 2.0 for Server to Server Applications", "Preparing to make an authorized API
// call" (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests):
// the service account signs a JWT with its private key, RS256, header {"alg":"RS256","typ":"JWT"} (and
// the key's id as "kid"), claims iss = the service account's email, scope = space-separated scopes,
// aud = the token endpoint (the key file's token_uri), iat = now and exp = at most one hour later, in
// seconds since the epoch. The token endpoint takes it as grant_type
// urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523).

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google refuses assertions valid for longer than an hour. */
export const MAX_ASSERTION_LIFETIME_S = 3600;

export interface ServiceAccountAssertion {
  /** client_email of the key file. */
  readonly email: string;
  /** private_key_id of the key file: the "kid" header. */
  readonly keyId?: string | undefined;
  readonly key: KeyObject;
  readonly scopes: readonly string[];
  /** token_uri of the key file. */
  readonly audience: string;
  /** Epoch ms. */
  readonly now: number;
}

/** The signed assertion a service account trades for an access token. */
export function serviceAccountAssertion(a: ServiceAccountAssertion): string {
  const iat = Math.floor(a.now / 1000);
  return signJwtRs256(
    { alg: 'RS256', typ: 'JWT', ...(a.keyId ? { kid: a.keyId } : {}) },
    { iss: a.email, scope: a.scopes.join(' '), aud: a.audience, iat, exp: iat + MAX_ASSERTION_LIFETIME_S },
    a.key,
  );
}
