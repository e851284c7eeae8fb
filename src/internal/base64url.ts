/** base64url without padding (RFC 7515 §2), the only encoding ACME uses on the wire. */
export function b64u(data: Uint8Array | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return buf.toString('base64url');
}

/** Strict decode: rejects padding and characters outside the base64url alphabet. */
export function fromB64u(text: string): Buffer {
  if (!isB64u(text)) throw new TypeError('not base64url (RFC 4648 §5, unpadded)');
  return Buffer.from(text, 'base64url');
}

export function isB64u(text: string): boolean {
  return /^[A-Za-z0-9_-]*$/.test(text);
}
