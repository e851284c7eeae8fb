import { createHmac, type KeyObject } from 'node:crypto';
import { InvalidInputError } from '../errors/base.ts';
import { b64u } from '../internal/base64url.ts';
import { Secret } from '../internal/secret.ts';
import { publicJwk } from './jwk.ts';
import type { FlattenedJws } from './jws.ts';

/** External account binding credentials as a CA hands them out: a key id and a base64url HMAC key. */
export interface ExternalAccountBinding {
  kid: string;
  /** base64url (RFC 4648 §5); padding tolerated. Wrapped so it never prints. */
  hmacKey: string | Secret<string>;
}

/** Checks and decodes the HMAC key before anything is sent; the key itself never appears in errors. */
export function decodeEabKey(eab: ExternalAccountBinding): { kid: string; key: Secret<Buffer> } {
  if (typeof eab.kid !== 'string' || eab.kid.trim() === '') {
    throw new InvalidInputError('EAB key id (kid) is empty; copy it from your CA account page');
  }
  const raw = (eab.hmacKey instanceof Secret ? eab.hmacKey.reveal() : eab.hmacKey).trim().replace(/=+$/, '');
  if (raw === '' || !/^[A-Za-z0-9_-]+$/.test(raw)) {
    throw new InvalidInputError(
      'EAB HMAC key is not base64url (letters, digits, - and _ only); copy it again from your CA, without quotes',
    );
  }
  const key = Buffer.from(raw, 'base64url');
  if (key.length < 16) {
    throw new InvalidInputError(
      `EAB HMAC key is only ${key.length} bytes long; CAs issue keys of 32 bytes or more`,
    );
  }
  return { kid: eab.kid.trim(), key: new Secret(key) };
}

/** The inner JWS binding the account key to the external account (RFC 8555 §7.3.4), HS256. */
export function signEab(
  eab: ExternalAccountBinding,
  accountKey: KeyObject,
  newAccountUrl: string,
): FlattenedJws {
  const { kid, key } = decodeEabKey(eab);
  const protectedB64 = b64u(JSON.stringify({ alg: 'HS256', kid, url: newAccountUrl }));
  const payloadB64 = b64u(JSON.stringify(publicJwk(accountKey)));
  const mac = createHmac('sha256', key.reveal()).update(`${protectedB64}.${payloadB64}`).digest();
  return { protected: protectedB64, payload: payloadB64, signature: b64u(mac) };
}
