import { createHash, type KeyObject, randomUUID } from 'node:crypto';
import { signJwtRs256 } from '../../jwt.ts';

// A client assertion for the Microsoft identity platform, as "Microsoft identity platform application
// authentication certificate credentials" documents it
// (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials): a JWT signed RS256
// with the private key of a certificate registered on the app, header {"alg":"RS256","typ":"JWT","x5t":
// base64url of the certificate's SHA-1 thumbprint}, claims aud = the token endpoint
// (https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token), iss = sub = the client (application)
// id, jti = a unique id, nbf / iat = now and exp = a few minutes later (seconds since the epoch). The token
// endpoint takes it with client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer.

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The assertion is valid this long (Microsoft's libraries use ten minutes). */
export const ASSERTION_LIFETIME_S = 600;

export interface ClientAssertionInput {
  readonly clientId: string;
  /** The token endpoint the assertion is for. */
  readonly audience: string;
  /** DER of the certificate registered on the app. */
  readonly certificateDer: Buffer;
  readonly key: KeyObject;
  /** Epoch ms. */
  readonly now: number;
  /** Default: a random UUID. */
  readonly jti?: string;
}

/** The "x5t" header: base64url of the SHA-1 hash of the certificate's DER. */
export function x5t(certificateDer: Buffer): string {
  return createHash('sha1').update(certificateDer).digest('base64url');
}

export function clientAssertion(a: ClientAssertionInput): string {
  const now = Math.floor(a.now / 1000);
  return signJwtRs256(
    { alg: 'RS256', typ: 'JWT', x5t: x5t(a.certificateDer) },
    {
      aud: a.audience,
      iss: a.clientId,
      sub: a.clientId,
      jti: a.jti ?? randomUUID(),
      nbf: now,
      iat: now,
      exp: now + ASSERTION_LIFETIME_S,
    },
    a.key,
  );
}
