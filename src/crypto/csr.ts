// PKCS#10 certificate signing requests (RFC 2986) for finalize (RFC 8555 §7.4): built with der.ts and
// signed with node:crypto (no ASN.1 library on the issuance path); a user's own CSR (parseCsr) is read
// with @peculiar/asn1-* loaded lazily (see asn1-loader.ts).
import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { AlgorithmIdentifier, Extension, GeneralName, Name } from '@peculiar/asn1-x509';
import { InvalidInputError } from '../errors/base.ts';
import { decodePem } from '../internal/pem.ts';
import { type Asn1Modules, isSingleDerSequence, loadAsn1 } from './asn1-loader.ts';
import * as der from './der.ts';
import {
  canonicalIp,
  checkIdentifiers,
  dedupeIdentifiers,
  type Identifier,
  ipToBytes,
} from './identifier.ts';

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_TLS_FEATURE = '1.3.6.1.5.5.7.1.24'; // RFC 7633
const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'; // PKCS#9 extensionRequest (RFC 2985)
// TLSFeature ::= SEQUENCE OF INTEGER; status_request(5) is OCSP must-staple (RFC 7633 §4.2.1).
const TLS_FEATURE_STATUS_REQUEST = Buffer.from('3003020105', 'hex');
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** How a key signs a CSR or certificate: the AlgorithmIdentifier and node:crypto's digest name. */
export interface SignatureProfile {
  readonly keyType: string;
  readonly oid: string;
  readonly hash: string | null;
  /** RSA PKCS#1 v1.5 OIDs carry explicit NULL parameters (RFC 4055 §5); ECDSA and EdDSA none. */
  readonly nullParams: boolean;
}

const SUPPORTED = 'EC P-256, EC P-384, RSA 2048-4096, Ed25519';
type Profile = Omit<SignatureProfile, 'keyType'>;
const PROFILES: Record<string, Profile> = {
  'EC P-256': { oid: '1.2.840.10045.4.3.2', hash: 'sha256', nullParams: false }, // ecdsa-with-SHA256
  'EC P-384': { oid: '1.2.840.10045.4.3.3', hash: 'sha384', nullParams: false }, // ecdsa-with-SHA384
  Ed25519: { oid: '1.3.101.112', hash: null, nullParams: false }, // id-Ed25519, no pre-hash
};
const RSA_PROFILE: Profile = { oid: '1.2.840.113549.1.1.11', hash: 'sha256', nullParams: true }; // sha256WithRSA

/** A readable name for a key's type, for error messages: "EC P-521", "RSA 1024", "Ed448". */
export function keyTypeName(key: KeyObject): string {
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails;
  if (t === 'ec') {
    const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
    const curve = d?.namedCurve ?? 'unknown curve';
    return `EC ${curves[curve] ?? curve}`;
  }
  if (t === 'rsa' || t === 'rsa-pss') return `${t === 'rsa' ? 'RSA' : 'RSA-PSS'} ${d?.modulusLength ?? '?'}`;
  const names: Record<string, string> = { ed25519: 'Ed25519', ed448: 'Ed448', dsa: 'DSA', dh: 'DH' };
  return names[t ?? ''] ?? t ?? key.type;
}

/** The signature algorithm for a certificate key (RFC 5758 §3.2, RFC 4055, RFC 8410 §3); throws for others. */
export function signatureProfile(key: KeyObject): SignatureProfile {
  const keyType = keyTypeName(key);
  if (key.type !== 'private') {
    throw new InvalidInputError(`a private key is needed to sign, got a ${key.type} key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const rsaOk = key.asymmetricKeyType === 'rsa' && bits >= 2048 && bits <= 4096;
  const p = rsaOk ? RSA_PROFILE : PROFILES[keyType];
  if (p) return { keyType, ...p };
  throw new InvalidInputError(`unsupported certificate key type ${keyType} (use ${SUPPORTED})`, keyType);
}

/** AlgorithmIdentifier for a profile; parameters absent, or NULL for RSA. */
export function algorithmIdentifier(asn1: Asn1Modules, p: SignatureProfile): AlgorithmIdentifier {
  return new asn1.x509.AlgorithmIdentifier(
    p.nullParams ? { algorithm: p.oid, parameters: null } : { algorithm: p.oid },
  );
}

/** subjectAltName with dNSName / iPAddress entries (RFC 5280 §4.2.1.6; IP as 4 or 16 bytes, RFC 8738 §3). */
export function subjectAltNameExtension(
  asn1: Asn1Modules,
  identifiers: readonly Identifier[],
  critical: boolean,
): Extension {
  const names = identifiers.map((id) =>
    id.type === 'dns'
      ? new asn1.x509.GeneralName({ dNSName: id.value })
      : new asn1.x509.GeneralName({ iPAddress: id.value }),
  );
  const value = asn1.schema.AsnConvert.serialize(new asn1.x509.SubjectAlternativeName(names));
  return new asn1.x509.Extension({
    extnID: OID_SUBJECT_ALT_NAME,
    critical,
    extnValue: new asn1.schema.OctetString(value),
  });
}

/** DNS names (lower case) and IP addresses (canonical) from GeneralNames; other name forms are skipped. */
export function identifiersFromGeneralNames(names: readonly GeneralName[]): Identifier[] {
  const out: Identifier[] = [];
  for (const n of names) {
    if (n.dNSName !== undefined) out.push({ type: 'dns', value: n.dNSName.toLowerCase() });
    const ip = n.iPAddress === undefined ? undefined : canonicalIp(n.iPAddress);
    if (ip !== undefined) out.push({ type: 'ip', value: ip });
  }
  return dedupeIdentifiers(out);
}

/** The subject or issuer commonName (2.5.4.3), the first one when there are several. */
export function commonNameOf(name: Name): string | undefined {
  for (const rdn of name) {
    for (const atv of rdn) if (atv.type === OID_COMMON_NAME) return atv.value.toString();
  }
  return undefined;
}

/** subjectAltName extnValue: GeneralNames with dNSName [2] / iPAddress [7] (RFC 5280 §4.2.1.6). */
export function subjectAltNameDer(identifiers: readonly Identifier[]): Buffer {
  return der.sequence(
    ...identifiers.map((id) => {
      if (id.type === 'dns') return der.implicit(2, Buffer.from(id.value, 'ascii'));
      const bytes = ipToBytes(id.value);
      if (bytes === undefined) throw new InvalidInputError(`not an IP address: ${id.value}`, id.value);
      return der.implicit(7, bytes);
    }),
  );
}

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted when false in DER), extnValue }. */
function extensionDer(extnId: string, critical: boolean, value: Uint8Array): Buffer {
  return der.sequence(der.oid(extnId), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** Builds a DER PKCS#10 request for the finalize call (RFC 8555 §7.4), with der.ts (no ASN.1 library). */
export async function buildCsr(opts: {
  key: KeyObject;
  identifiers: readonly Identifier[];
  mustStaple?: boolean;
  /** false: no common name at all, the names only in the SAN (lego's --disable-cn). Default true. */
  commonName?: boolean;
}): Promise<Buffer> {
  const profile = signatureProfile(opts.key);
  const ids = checkIdentifiers(opts.identifiers);

  // CN is limited to 64 characters (RFC 5280 upper bound); longer names live in the SAN only.
  const cn = opts.commonName === false ? undefined : ids.find((id) => id.type === 'dns')?.value;
  const hasCn = cn !== undefined && cn.length <= 64;
  const subject = hasCn
    ? der.sequence(der.set(der.sequence(der.oid(OID_COMMON_NAME), der.utf8String(cn))))
    : der.sequence();
  // With an empty subject the SAN extension MUST be critical (RFC 5280 §4.2.1.6).
  const extensions = [extensionDer(OID_SUBJECT_ALT_NAME, !hasCn, subjectAltNameDer(ids))];
  if (opts.mustStaple) extensions.push(extensionDer(OID_TLS_FEATURE, false, TLS_FEATURE_STATUS_REQUEST));
  const spki = createPublicKey(opts.key).export({ type: 'spki', format: 'der' });
  const extensionRequest = der.sequence(der.oid(OID_EXTENSION_REQUEST), der.set(der.sequence(...extensions)));
  const info = der.sequence(
    der.integer(0),
    subject,
    spki,
    // attributes [0] IMPLICIT SET OF Attribute: a constructed [0] around the attributes.
    der.explicit(0, extensionRequest),
  );
  // ECDSA signatures come DER-encoded (node's default dsaEncoding 'der'), as X.509 wants them.
  const signature = sign(profile.hash, info, opts.key);
  const algorithm = der.sequence(der.oid(profile.oid), ...(profile.nullParams ? [der.nullValue()] : []));
  return der.sequence(info, algorithm, der.bitString(signature));
}

export interface ParsedCsr {
  der: Buffer;
  /** CN first when there is one (lego's order), then the SAN entries; no duplicates. */
  identifiers: Identifier[];
  publicKey: KeyObject;
  commonName?: string;
}

// Signature algorithms accepted in a CSR someone else made: OID → digest and the key type it needs.
const VERIFY_ALGORITHMS: Record<string, { hash: string | null; keyType: string }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa' },
  '1.3.101.112': { hash: null, keyType: 'ed25519' },
  '1.3.101.113': { hash: null, keyType: 'ed448' },
};

/** Reads a CSR given as PEM or DER (lego's --csr), checks its self-signature and lists its names. */
export async function parseCsr(input: string | Uint8Array): Promise<ParsedCsr> {
  const der = csrDer(input);
  const { schema, x509, csr, pkcs9 } = await loadAsn1();
  let req: InstanceType<typeof csr.CertificationRequest>;
  try {
    req = schema.AsnConvert.parse(der, csr.CertificationRequest);
  } catch (err) {
    throw new InvalidInputError('CSR is not a valid PKCS#10 certification request', undefined, {
      cause: err,
    });
  }
  const info = req.certificationRequestInfo;
  let publicKey: KeyObject;
  try {
    const spki = Buffer.from(schema.AsnConvert.serialize(info.subjectPKInfo));
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw new InvalidInputError('CSR public key cannot be read', undefined, { cause: err });
  }
  const oid = req.signatureAlgorithm.algorithm;
  const alg = VERIFY_ALGORITHMS[oid];
  if (alg === undefined) throw new InvalidInputError(`unsupported CSR signature algorithm ${oid}`, oid);
  let ok = false;
  if (alg.keyType === publicKey.asymmetricKeyType && req.certificationRequestInfoRaw !== undefined) {
    try {
      ok = verify(
        alg.hash,
        Buffer.from(req.certificationRequestInfoRaw),
        publicKey,
        Buffer.from(req.signature),
      );
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new InvalidInputError('CSR signature does not verify');

  let san: Identifier[] = [];
  const extReq = info.attributes?.find((a) => a.type === pkcs9.id_pkcs9_at_extensionRequest)?.values[0];
  if (extReq !== undefined) {
    const exts = schema.AsnConvert.parse(extReq, x509.Extensions);
    const ext = exts.find((e) => e.extnID === OID_SUBJECT_ALT_NAME);
    if (ext)
      san = identifiersFromGeneralNames(
        schema.AsnConvert.parse(ext.extnValue.buffer, x509.SubjectAlternativeName),
      );
  }
  const commonName = commonNameOf(info.subject);
  const cnIp = commonName === undefined ? undefined : canonicalIp(commonName);
  const cnId: Identifier[] =
    commonName === undefined || commonName === ''
      ? []
      : [cnIp ? { type: 'ip', value: cnIp } : { type: 'dns', value: commonName.toLowerCase() }];
  const identifiers = dedupeIdentifiers([...cnId, ...san]);
  if (identifiers.length === 0) throw new InvalidInputError('CSR names no identifier (no SAN and no CN)');
  return { der, identifiers, publicKey, ...(commonName === undefined ? {} : { commonName }) };
}

/** DER bytes of the one CSR in `input` (DER, or PEM text/bytes with CRLF or a BOM). */
function csrDer(input: string | Uint8Array): Buffer {
  const bytes = typeof input === 'string' ? undefined : Buffer.from(input);
  let der: Buffer;
  if (bytes !== undefined && bytes[0] === 0x30) {
    der = bytes;
  } else {
    const text = bytes === undefined ? (input as string) : bytes.toString('utf8');
    if (text.trim() === '' || text.trim() === '\uFEFF') throw new InvalidInputError('CSR is empty');
    let blocks: ReturnType<typeof decodePem>;
    try {
      blocks = decodePem(text);
    } catch (err) {
      throw new InvalidInputError('CSR PEM is damaged (bad base64, or an encrypted PEM)', undefined, {
        cause: err,
      });
    }
    const first = blocks[0];
    if (first === undefined) {
      throw new InvalidInputError(
        'CSR is neither DER nor PEM: no "-----BEGIN CERTIFICATE REQUEST-----" block',
      );
    }
    const wrong = blocks.find((b) => !CSR_LABELS.has(b.label));
    if (wrong)
      throw new InvalidInputError(
        `expected a CERTIFICATE REQUEST PEM block, found ${wrong.label}`,
        wrong.label,
      );
    if (blocks.length > 1) throw new InvalidInputError(`expected one CSR, found ${blocks.length}`);
    der = first.der;
  }
  if (!isSingleDerSequence(der)) {
    throw new InvalidInputError('CSR is not a single DER structure (truncated or trailing data)');
  }
  return der;
}
