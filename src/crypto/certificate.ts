// Reading what the CA issued (RFC 8555 §7.4.2): the PEM chain, its names, validity, the ARI
// certificate id (RFC 9773 §4.1), and the checks made before a new certificate replaces the old one.
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { CertificateMismatchError } from '../errors/base.ts';
import { b64u } from '../internal/base64url.ts';
import { decodePem, encodePem } from '../internal/pem.ts';
import { isSingleDerSequence } from './asn1-loader.ts';
import * as der from './der.ts';
import { dedupeIdentifiers, type Identifier, ipFromBytes } from './identifier.ts';

const MAX_CHAIN_BYTES = 1024 * 1024;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_SUBJECT_KEY_ID = '2.5.29.14';
const OID_COMMON_NAME = '2.5.4.3';

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

/** One DER certificate: node:crypto for the parts it exposes, der.ts for serial bytes, names, SAN, AKI and SKI. */
export async function parseCertificateDer(input: Uint8Array): Promise<ParsedCertificate> {
  const buf = Buffer.from(input);
  if (!isSingleDerSequence(buf)) throw new Error('not a single DER structure');
  const x509 = new X509Certificate(buf);
  const tbs = readTbsCertificate(buf);
  return {
    pem: encodePem('CERTIFICATE', buf),
    der: buf,
    x509,
    ...tbs,
    isCa: x509.ca,
  };
}

type TbsFields = Omit<ParsedCertificate, 'pem' | 'der' | 'x509' | 'isCa'>;

/** The TBSCertificate fields acmekit needs (RFC 5280 §4.1), read strictly with der.ts. */
function readTbsCertificate(buf: Buffer): TbsFields {
  const [tbsNode] = der.children(der.readOne(buf, der.TAG.SEQUENCE));
  if (tbsNode?.tag !== der.TAG.SEQUENCE) throw new Error('no TBSCertificate');
  const fields = der.children(tbsNode);
  // version [0] EXPLICIT is absent for v1 certificates.
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [serial, , issuer, validity, subject] = rest;
  if (serial?.tag !== der.TAG.INTEGER || serial.value.length === 0) throw new Error('bad serialNumber');
  if (issuer?.tag !== der.TAG.SEQUENCE || subject?.tag !== der.TAG.SEQUENCE) throw new Error('bad Name');
  if (validity?.tag !== der.TAG.SEQUENCE) throw new Error('bad validity');
  const [notBefore, notAfter] = der.children(validity).map(readTime);
  if (notBefore === undefined || notAfter === undefined) throw new Error('bad validity');

  const extensions = new Map<string, Buffer>();
  const extsNode = rest.find((n) => n.tag === 0xa3);
  if (extsNode !== undefined) {
    const [seq] = der.children(extsNode);
    if (seq?.tag !== der.TAG.SEQUENCE) throw new Error('bad extensions');
    for (const ext of der.children(seq)) {
      const parts = der.children(ext);
      const value = parts[parts.length - 1];
      if (parts[0] === undefined || value?.tag !== der.TAG.OCTET_STRING) throw new Error('bad extension');
      extensions.set(der.readOid(parts[0]), value.value);
    }
  }
  const sanDer = extensions.get(OID_SUBJECT_ALT_NAME);
  const akiDer = extensions.get(OID_AUTHORITY_KEY_ID);
  const skiDer = extensions.get(OID_SUBJECT_KEY_ID);
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
  const akiKeyId =
    akiDer && der.children(der.readOne(akiDer, der.TAG.SEQUENCE)).find((n) => n.tag === 0x80)?.value;
  const skiKeyId = skiDer && der.readOne(skiDer, der.TAG.OCTET_STRING).value;
  const subjectCommonName = commonName(subject);
  const issuerCommonName = commonName(issuer);
  return {
    serialHex: serial.value.toString('hex'),
    notBefore,
    notAfter,
    ...(subjectCommonName === undefined ? {} : { subjectCommonName }),
    ...(issuerCommonName === undefined ? {} : { issuerCommonName }),
    identifiers: sanDer ? sanIdentifiers(sanDer) : [],
    ...(akiKeyId ? { authorityKeyIdentifier: Buffer.from(akiKeyId) } : {}),
    ...(skiKeyId ? { subjectKeyIdentifier: Buffer.from(skiKeyId) } : {}),
  };
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z), RFC 5280 §4.1.2.5. */
function readTime(node: der.DerNode): Date {
  const text = node.value.toString('latin1');
  const m =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d*[1-9])?Z$/.exec(text)
        : null;
  if (!m) throw new Error(`bad time ${JSON.stringify(text)}`);
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = node.tag === 0x17 ? (y < 50 ? 2000 + y : 1900 + y) : y;
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
  if (Number.isNaN(date.getTime())) throw new Error(`bad time ${JSON.stringify(text)}`);
  return date;
}

/** The first commonName (2.5.4.3) of a Name, as text. */
function commonName(name: der.DerNode): string | undefined {
  for (const rdn of der.children(name)) {
    for (const atv of der.children(rdn)) {
      const [type, value] = der.children(atv);
      if (type === undefined || value === undefined || der.readOid(type) !== OID_COMMON_NAME) continue;
      return directoryString(value);
    }
  }
  return undefined;
}

/** DirectoryString text: UTF8String, PrintableString, IA5String, TeletexString, BMPString, UniversalString. */
function directoryString(node: der.DerNode): string {
  switch (node.tag) {
    case 0x1e: // BMPString: UTF-16BE
      return Buffer.from(node.value).swap16().toString('utf16le');
    case 0x1c: // UniversalString: UTF-32BE
      return String.fromCodePoint(
        ...Array.from({ length: node.value.length / 4 }, (_, i) => node.value.readUInt32BE(i * 4)),
      );
    case 0x14: // TeletexString: read as Latin-1, as most libraries do
      return node.value.toString('latin1');
    default:
      return node.value.toString('utf8');
  }
}

/** SAN dNSName [2] (lower case) and iPAddress [7] (canonical text) entries; other forms are skipped. */
function sanIdentifiers(sanDer: Buffer): Identifier[] {
  const out: Identifier[] = [];
  for (const n of der.children(der.readOne(sanDer, der.TAG.SEQUENCE))) {
    if (n.tag === 0x82) out.push({ type: 'dns', value: n.value.toString('latin1').toLowerCase() });
    const ip = n.tag === 0x87 ? ipFromBytes(n.value) : undefined;
    if (ip !== undefined) out.push({ type: 'ip', value: ip });
  }
  return dedupeIdentifiers(out);
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

/**
 * Whether two hex serials name the same number: certificate records spell a serial as its DER bytes
 * ("00" first when the high bit is set), node:crypto without the leading zeros, either case.
 */
export function sameSerial(a: string, b: string): boolean {
  const bare = (hex: string) => hex.toLowerCase().replace(/^0+/, '');
  return bare(a) === bare(b);
}
