// Loading @peculiar/asn1-* costs ~100 ms (measured by bench/cli.ts) (DESIGN.md, start-up budget), so it happens on first
// use only. Call loadAsn1() early (when an order starts) to warm it in parallel with the network.
import type * as Asn1Csr from '@peculiar/asn1-csr';
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';

export interface Asn1Modules {
  readonly schema: typeof Asn1Schema;
  readonly x509: typeof Asn1X509;
  readonly csr: typeof Asn1Csr;
  /** The one PKCS#9 value acmekit needs; @peculiar/asn1-pkcs9 pulls in five more packages (~60 ms) for it. */
  readonly pkcs9: { readonly id_pkcs9_at_extensionRequest: string };
}

let cached: Promise<Asn1Modules> | undefined;

/** The ASN.1 modules, imported once per process; a failed import is retried on the next call. */
export function loadAsn1(): Promise<Asn1Modules> {
  cached ??= Promise.all([
    import('@peculiar/asn1-schema'),
    import('@peculiar/asn1-x509'),
    import('@peculiar/asn1-csr'),
  ]).then(
    ([schema, x509, csr]) => ({
      schema,
      x509,
      csr,
      pkcs9: { id_pkcs9_at_extensionRequest: '1.2.840.113549.1.9.14' },
    }),
    (err: unknown) => {
      cached = undefined;
      throw err;
    },
  );
  return cached;
}

/**
 * True when `der` is exactly one DER SEQUENCE with nothing after it. The BER parser underneath
 * ignores trailing bytes, and a CSR or certificate with junk appended should not pass silently.
 */
export function isSingleDerSequence(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1]!;
  if (first < 0x80) return der.length === 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return der.length === 2 + n + len;
}
