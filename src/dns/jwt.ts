import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { b64u } from '../internal/base64url.ts';

/**
 * JSON Web Tokens signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3), as OAuth 2.0 token
 * endpoints take them for a service account (Google, RFC 7523) or a client certificate (Microsoft
 * Entra ID client assertions). Compact serialization (RFC 7515 §7.1): base64url(header) "."
 * base64url(claims) "." base64url(signature over the first two parts).
 */

/** The RS256 signature of a JWS signing input ("<header>.<payload>", already base64url-encoded). */
export function rs256(signingInput: string, key: KeyObject): string {
  return sign('sha256', Buffer.from(signingInput, 'ascii'), key).toString('base64url');
}

/** A signed compact JWT; `alg` is set to RS256 whatever the header says. */
export function signJwtRs256(
  header: Readonly<Record<string, unknown>>,
  claims: Readonly<Record<string, unknown>>,
  key: KeyObject,
): string {
  const input = `${b64u(JSON.stringify({ ...header, alg: 'RS256' }))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${rs256(input, key)}`;
}

/**
 * An RSA private key from PEM text (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"); undefined when
 * the text holds none or the key is not RSA. Never throws with the key's text in the message.
 */
export function rsaPrivateKey(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'rsa' ? key : undefined;
  } catch {
    return undefined;
  }
}
