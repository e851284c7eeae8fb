import { isIP } from 'node:net';
import { InvalidInputError } from '../errors/base.ts';

/** True for localhost names and loopback addresses (127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/**
 * ACME requires TLS (RFC 8555 §6.1). Plain http is accepted only on loopback, where a local
 * test CA or a TLS-terminating proxy may run; credentials in URLs are refused so they never leak into logs.
 */
export function checkAcmeUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(`${what} is not a URL: ${JSON.stringify(raw)}`, raw);
  }
  if (url.username || url.password) {
    throw new InvalidInputError(
      `${what} must not contain credentials (user:password@)`,
      `${url.protocol}//${url.host}`,
    );
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new InvalidInputError(
      `${what} ${raw} uses plain http; ACME needs https (RFC 8555 §6.1). Only loopback addresses may use http`,
      raw,
    );
  }
  throw new InvalidInputError(`${what} must be an https URL, not ${url.protocol}`, raw);
}
