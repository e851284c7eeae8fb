import { isIP } from 'node:net';
import { InvalidInputError } from '../errors/base.ts';

/**
 * True for loopback addresses written as such (127.0.0.0/8, ::1), the hosts where plain http may carry
 * ACME. Names are never loopback here, not even `localhost` or `*.localhost`: Node resolves them with
 * getaddrinfo, which may ask DNS (RFC 6761 §6.3 wants resolvers to answer them with loopback themselves,
 * but many do not, and `*.localhost` is nearly always sent on), so a resolver could point a plain-http
 * URL off the machine. Pinning those names to 127.0.0.1/::1 ourselves would take our own lookup in the
 * transport and a proxy bypass; refusing them is simpler and as safe, and a literal address or https
 * (verified TLS) does what they did.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
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
      `${what} ${raw} uses plain http; ACME needs https (RFC 8555 §6.1). Only loopback addresses may use ` +
        'http, written as such (127.0.0.1, [::1]): a name, even localhost, is looked up and may lead elsewhere',
      raw,
    );
  }
  throw new InvalidInputError(`${what} must be an https URL, not ${url.protocol}`, raw);
}

/**
 * Why a URL the CA named in a document fetched from `base` (a directory, order, authorization) must not
 * be used, or undefined when it may. Any host is fine: RFC 8555 §7.1.1 does not tie resources to the
 * directory's host, and TLS to that host is verified like TLS to the directory. The scheme is not: https
 * always; plain http only when the document itself came over plain http and the URL stays on loopback
 * (a local test CA). A CA reached over TLS can never send a signed request out of TLS (RFC 8555 §6.1).
 */
export function serverUrlProblem(url: URL, base: string): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `${url.protocol} is not https`;
  if (new URL(base).protocol !== 'http:') {
    return 'plain http named by a server reached over https (ACME needs TLS, RFC 8555 §6.1)';
  }
  if (!isLoopbackHost(url.hostname))
    return 'plain http is only allowed on a loopback address (127.0.0.0/8, ::1)';
  return undefined;
}
