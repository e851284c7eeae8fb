import type { X509Certificate } from 'node:crypto';

/** The DNS names (lower case) and IP addresses among a certificate's SANs, in its order, as Node reads them. */
export function sanNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'))
    .map((s) => s.slice(s.indexOf(':') + 1).toLowerCase());
}
