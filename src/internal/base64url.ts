/** base64url without padding (RFC 7515 §2), the only encoding ACME uses on the wire. */
export function b64u(data: Uint8Array | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return buf.toString('base64url');
}

export function isB64u(text: string): boolean {
  return /^[A-Za-z0-9_-]*$/.test(text);
}
