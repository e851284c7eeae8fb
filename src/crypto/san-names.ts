import type { X509Certificate } from 'node:crypto';

/**
 * The DNS names (lower case) and IP addresses among a certificate's SANs, in its order, as Node reads
 * them, each once: a CA may list a name twice in different case (Pebble does for lego's `-d Example.com`).
 */
export function sanNames(cert: X509Certificate): string[] {
  const names = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'))
    .map((s) => s.slice(s.indexOf(':') + 1).toLowerCase());
  return [...new Set(names)];
}
