// The self-signed certificate answered on "acme-tls/1" for tls-alpn-01 (RFC 8737 §3; IP per RFC 8738 §6).
import { createHash, createPublicKey, generateKeyPair, type KeyObject, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { encodePem } from '../internal/pem.ts';
import { loadAsn1 } from './asn1-loader.ts';
import { algorithmIdentifier, signatureProfile, subjectAltNameExtension } from './csr.ts';
import { checkIdentifiers, type Identifier } from './identifier.ts';

const OID_ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31'; // id-pe-acmeIdentifier, RFC 8737 §6.1
const OID_COMMON_NAME = '2.5.4.3';
const HOUR_MS = 60 * 60 * 1000;
const generateKeyPairAsync = promisify(generateKeyPair);

export interface TlsAlpnCertificate {
  certPem: string;
  /** PKCS#8 PEM of `key`. */
  keyPem: string;
  key: KeyObject;
}

/**
 * Builds the challenge certificate: its only SAN is the identifier, and the critical acmeIdentifier
 * extension holds SHA-256 of the key authorization as `Authorization ::= OCTET STRING (SIZE (32))`.
 */
export async function buildTlsAlpnCertificate(opts: {
  identifier: Identifier;
  keyAuthorization: string;
  key?: KeyObject;
}): Promise<TlsAlpnCertificate> {
  const [id] = checkIdentifiers([opts.identifier]);
  const keyPromise = opts.key
    ? Promise.resolve(opts.key)
    : generateKeyPairAsync('ec', { namedCurve: 'P-256' }).then((pair) => pair.privateKey);
  const [key, asn1] = await Promise.all([keyPromise, loadAsn1()]);
  const profile = signatureProfile(key);
  const { schema, x509 } = asn1;

  // extnValue is the DER of the OCTET STRING itself (04 20 || digest), wrapped in the extnValue OCTET STRING.
  const digest = createHash('sha256').update(opts.keyAuthorization, 'utf8').digest();
  const authorization = schema.AsnConvert.serialize(new schema.OctetString(digest));
  // Subject and issuer carry a fixed CN: the validating CA looks only at the SAN and acmeIdentifier.
  const name = new x509.Name([
    new x509.RelativeDistinguishedName([
      new x509.AttributeTypeAndValue({
        type: OID_COMMON_NAME,
        value: new x509.AttributeValue({ utf8String: 'acmekit tls-alpn-01 challenge' }),
      }),
    ]),
  ]);
  // A positive serial of 16 random bytes whose top byte keeps it minimal DER (RFC 5280 §4.1.2.2).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Date.now();
  const tbs = new x509.TBSCertificate({
    version: 2, // v3, needed for extensions
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithmIdentifier(asn1, profile),
    issuer: name,
    validity: new x509.Validity({
      notBefore: new Date(now - HOUR_MS),
      notAfter: new Date(now + 7 * 24 * HOUR_MS),
    }),
    subject: name,
    subjectPublicKeyInfo: schema.AsnConvert.parse(
      createPublicKey(key).export({ type: 'spki', format: 'der' }),
      x509.SubjectPublicKeyInfo,
    ),
    extensions: new x509.Extensions([
      subjectAltNameExtension(asn1, [id!], false),
      new x509.Extension({
        extnID: OID_ACME_IDENTIFIER,
        critical: true, // RFC 8737 §3: MUST be critical
        extnValue: new schema.OctetString(authorization),
      }),
    ]),
  });
  const signature = sign(profile.hash, Buffer.from(schema.AsnConvert.serialize(tbs)), key);
  const cert = new x509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithmIdentifier(asn1, profile),
    signatureValue: new Uint8Array(signature).buffer,
  });
  return {
    certPem: encodePem('CERTIFICATE', new Uint8Array(schema.AsnConvert.serialize(cert))),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    key,
  };
}
