// Reading what the CA issued (RFC 8555 §7.4.2): the PEM chain, its names, validity, the ARI
// certificate id (RFC 9773 §4.1), and the checks made before a new certificate replaces the old one.
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { CertificateMismatchError } from '../errors/base.ts';
import { b64u } from '../internal/base64url.ts';
import { decodePem, encodePem } from '../internal/pem.ts';
import { isSingleDerSequence, loadAsn1 } from './asn1-loader.ts';
import { commonNameOf, identifiersFromGeneralNames } from './csr.ts';
import type { Identifier } from './identifier.ts';

const MAX_CHAIN_BYTES = 1024 * 1024;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_SUBJECT_KEY_ID = '2.5.29.14';

export interface ParsedCertificate {
  /** Re-encoded PEM of this one certificate (64-column base64, LF). */
  pem: string;
  der: Buffer;
  x509: X509Certificate;
  /** Lower-case hex of the DER INTEGER content bytes, a leading 00 kept when the encoding has one. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  subjectCommonName?: string;
  issuerCommonName?: string;
  /** SAN dNSName (lower case) and iPAddress (canonical text) entries, in certificate order. */
  identifiers: Identifier[];
  isCa: boolean;
  authorityKeyIdentifier?: Buffer;
  subjectKeyIdentifier?: Buffer;
}

/**
 * Every certificate of a PEM chain, leaf first. RFC 8555 §9.1 (application/pem-certificate-chain)
 * allows only CERTIFICATE blocks, so a PRIVATE KEY or any other block makes the whole chain invalid.
 */
export async function parseCertificateChain(pem: string): Promise<ParsedCertificate[]> {
  // Checked before any parsing so a hostile or broken server cannot make us chew on megabytes.
  if (pem.length > MAX_CHAIN_BYTES || Buffer.byteLength(pem, 'utf8') > MAX_CHAIN_BYTES) {
    throw new CertificateMismatchError(`certificate chain is larger than ${MAX_CHAIN_BYTES} bytes`);
  }
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(pem);
  } catch (err) {
    throw new CertificateMismatchError('certificate chain is not valid PEM', { cause: err });
  }
  if (blocks.length === 0) {
    throw new CertificateMismatchError('certificate chain holds no PEM CERTIFICATE block');
  }
  // A BEGIN line without its END (a truncated download) is not matched by decodePem: count them.
  const begins = pem.match(/-----BEGIN [^-\r\n]*-----/g)?.length ?? 0;
  if (begins !== blocks.length) {
    throw new CertificateMismatchError(
      'certificate chain has a PEM block that is unterminated or unreadable',
    );
  }
  const wrong = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (wrong) {
    throw new CertificateMismatchError(
      `certificate chain holds a ${wrong.label} block; only CERTIFICATE is allowed`,
    );
  }
  const out: ParsedCertificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      out.push(await parseCertificateDer(block.der));
    } catch (err) {
      const why = err instanceof Error ? `: ${err.message}` : '';
      throw new CertificateMismatchError(`certificate ${i + 1} of the chain does not parse${why}`, {
        cause: err,
      });
    }
  }
  return out;
}

/** One DER certificate: node:crypto for the parts it exposes, ASN.1 for serial bytes, SAN, AKI and SKI. */
export async function parseCertificateDer(der: Uint8Array): Promise<ParsedCertificate> {
  const buf = Buffer.from(der);
  if (!isSingleDerSequence(buf)) throw new Error('not a single DER structure');
  const x509 = new X509Certificate(buf);
  const { schema, x509: asn } = await loadAsn1();
  const tbs = schema.AsnConvert.parse(buf, asn.Certificate).tbsCertificate;
  const ext = (oid: string) => tbs.extensions?.find((e) => e.extnID === oid)?.extnValue.buffer;

  const sanDer = ext(OID_SUBJECT_ALT_NAME);
  const akiDer = ext(OID_AUTHORITY_KEY_ID);
  const skiDer = ext(OID_SUBJECT_KEY_ID);
  const akiKeyId =
    akiDer && schema.AsnConvert.parse(akiDer, asn.AuthorityKeyIdentifier).keyIdentifier?.buffer;
  const skiKeyId = skiDer && schema.AsnConvert.parse(skiDer, asn.SubjectKeyIdentifier).buffer;
  const subjectCommonName = commonNameOf(tbs.subject);
  const issuerCommonName = commonNameOf(tbs.issuer);
  return {
    pem: encodePem('CERTIFICATE', buf),
    der: buf,
    x509,
    serialHex: Buffer.from(tbs.serialNumber).toString('hex'),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    ...(subjectCommonName === undefined ? {} : { subjectCommonName }),
    ...(issuerCommonName === undefined ? {} : { issuerCommonName }),
    identifiers: sanDer
      ? identifiersFromGeneralNames(schema.AsnConvert.parse(sanDer, asn.SubjectAlternativeName))
      : [],
    isCa: x509.ca,
    ...(akiKeyId ? { authorityKeyIdentifier: Buffer.from(akiKeyId) } : {}),
    ...(skiKeyId ? { subjectKeyIdentifier: Buffer.from(skiKeyId) } : {}),
  };
}

/**
 * The ARI CertID (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial DER content
 * bytes), the serial's leading 0x00 included when its encoding has one.
 */
export function ariCertificateId(cert: ParsedCertificate): string {
  if (!cert.authorityKeyIdentifier) {
    throw new CertificateMismatchError(
      'certificate has no Authority Key Identifier keyIdentifier, so it has no ARI certificate id (RFC 9773 §4.1)',
    );
  }
  return `${b64u(cert.authorityKeyIdentifier)}.${b64u(Buffer.from(cert.serialHex, 'hex'))}`;
}

/**
 * Checks a freshly issued chain before it is stored (DESIGN.md: "the old certificate stays until the new
 * one is complete and verified"): key, names, issuer signatures and validity, each with its own message.
 */
export function verifyChainMatches(opts: {
  chain: ParsedCertificate[];
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  identifiers: Identifier[];
  now?: number;
}): void {
  const leaf = opts.chain[0];
  if (!leaf) throw new CertificateMismatchError('certificate chain is empty');

  // Either key may be given as a private KeyObject; compare public halves as SPKI DER.
  const given = opts.publicKey ?? opts.privateKey;
  const key = given?.type === 'private' ? createPublicKey(given) : given;
  if (key) {
    const want = key.export({ type: 'spki', format: 'der' });
    const got = leaf.x509.publicKey.export({ type: 'spki', format: 'der' });
    if (!want.equals(got)) {
      throw new CertificateMismatchError(
        'the certificate is for a different public key than the one in the CSR',
      );
    }
  }

  const norm = (id: Identifier) => `${id.type}:${id.value.toLowerCase()}`;
  const expected = new Set(opts.identifiers.map(norm));
  const actual = new Set(leaf.identifiers.map(norm));
  const missing = [...expected].filter((n) => !actual.has(n)).map((n) => n.slice(n.indexOf(':') + 1));
  const extra = [...actual].filter((n) => !expected.has(n)).map((n) => n.slice(n.indexOf(':') + 1));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `unexpected ${extra.join(', ')}` : '',
    ].filter(Boolean);
    throw new CertificateMismatchError(`the certificate's names differ from the order: ${parts.join('; ')}`);
  }

  for (let i = 0; i + 1 < opts.chain.length; i++) {
    const cert = opts.chain[i]!;
    const issuer = opts.chain[i + 1]!;
    if (!cert.x509.checkIssued(issuer.x509) || !cert.x509.verify(issuer.x509.publicKey)) {
      const who = i === 0 ? 'the leaf certificate' : `chain certificate ${i + 1}`;
      throw new CertificateMismatchError(
        `${who} (${cert.subjectCommonName ?? cert.x509.subject}) is not signed by the next certificate in the chain (${issuer.subjectCommonName ?? issuer.x509.subject})`,
      );
    }
  }

  const now = opts.now ?? Date.now();
  if (leaf.notBefore.getTime() > now + CLOCK_SKEW_MS) {
    throw new CertificateMismatchError(
      `the certificate is not valid until ${leaf.notBefore.toISOString()} (check this machine's clock)`,
    );
  }
  if (leaf.notAfter.getTime() <= now) {
    throw new CertificateMismatchError(`the certificate expired on ${leaf.notAfter.toISOString()}`);
  }
}

/**
 * Issuer common names to match a preferred chain against (RFC 8555 §7.4.2 alternates). 'top' (default)
 * gives the issuer CN of the last certificate, as lego's and current certbot's --preferred-chain
 * compare; 'any' gives every certificate's issuer CN, leaf first, as certmagic's AnyCommonName does.
 */
export function chainIssuerNames(
  chain: readonly ParsedCertificate[],
  scope: 'top' | 'any' = 'top',
): string[] {
  const certs = scope === 'top' ? chain.slice(-1) : chain;
  return certs.flatMap((c) => (c.issuerCommonName === undefined ? [] : [c.issuerCommonName]));
}
