// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP, HMAC-SHA-1), as INWX's two-factor
// authentication uses them (Google Authenticator style: the shared secret in base32, 30-second steps,
// 6 digits), for account.unlock.
import { createHmac } from 'node:crypto';
import type { Secret } from '../../internal/secret.ts';

export const TOTP_STEP_MS = 30_000;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (case, spaces, hyphens and padding ignored); undefined when not base32. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (clean === '' || !/^[A-Z2-7]+$/.test(clean)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 30-second step a time (ms) falls in. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / TOTP_STEP_MS);
}

/** The code of one step (RFC 4226 dynamic truncation), zero-padded to `digits`. */
export function totpCode(key: Buffer, step: number, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The TAN for a time, from the base32 shared secret. */
export function inwxTan(sharedSecret: Secret, timeMs: number): string {
  const key = base32Decode(sharedSecret.reveal());
  if (!key) throw new Error('the shared secret is not base32');
  return totpCode(key, totpStep(timeMs));
}
