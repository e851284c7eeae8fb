import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InvalidInputError } from '../errors/base.ts';

const generate = promisify(generateKeyPair);

/** JWS algorithms an ACME account key may use (RFC 8555 §6.2 requires ES256 and EdDSA support from servers; RS256 is universal). */
export type AccountKeyAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'EdDSA';

/** Certificate key types, spelled as lego spells them on the command line. */
export type CertificateKeyType = 'ec256' | 'ec384' | 'rsa2048' | 'rsa3072' | 'rsa4096' | 'ed25519';

export const certificateKeyTypes: readonly CertificateKeyType[] = [
  'ec256',
  'ec384',
  'rsa2048',
  'rsa3072',
  'rsa4096',
  'ed25519',
];

/** Generates an account key off the event loop. RS256 keys are 2048 bits unless `rsaBits` says otherwise. */
export async function generateAccountKey(
  alg: AccountKeyAlgorithm = 'ES256',
  opts: { rsaBits?: number } = {},
): Promise<KeyObject> {
  switch (alg) {
    case 'ES256':
      return generateKeyType('ec256');
    case 'ES384':
      return generateKeyType('ec384');
    case 'EdDSA':
      return generateKeyType('ed25519');
    case 'RS256': {
      const bits = opts.rsaBits ?? 2048;
      if (![2048, 3072, 4096].includes(bits)) {
        throw new InvalidInputError(`RSA account keys must be 2048, 3072 or 4096 bits, not ${bits}`, bits);
      }
      return generateKeyType(`rsa${bits}` as CertificateKeyType);
    }
    default:
      throw new InvalidInputError(
        `unknown account key algorithm ${String(alg)}; use ES256, ES384, RS256 or EdDSA`,
        alg,
      );
  }
}

/** Generates a certificate key (EC P-256 unless told otherwise). */
export async function generateKeyType(type: CertificateKeyType = 'ec256'): Promise<KeyObject> {
  switch (type) {
    case 'ec256':
      return (await generate('ec', { namedCurve: 'prime256v1' })).privateKey;
    case 'ec384':
      return (await generate('ec', { namedCurve: 'secp384r1' })).privateKey;
    case 'ed25519':
      return (await generate('ed25519')).privateKey;
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      return (await generate('rsa', { modulusLength: Number(type.slice(3)), publicExponent: 0x10001 }))
        .privateKey;
    default:
      throw new InvalidInputError(
        `unknown key type ${String(type)}; use one of ${certificateKeyTypes.join(', ')}`,
        type,
      );
  }
}

/** The key type of a key, or undefined when acmekit does not support it (P-521, DSA, odd RSA sizes). */
export function keyTypeOf(key: KeyObject): CertificateKeyType | undefined {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return d?.namedCurve === 'prime256v1' ? 'ec256' : d?.namedCurve === 'secp384r1' ? 'ec384' : undefined;
    case 'ed25519':
      return 'ed25519';
    case 'rsa': {
      const bits = d?.modulusLength;
      return bits === 2048 || bits === 3072 || bits === 4096
        ? (`rsa${bits}` as CertificateKeyType)
        : undefined;
    }
    default:
      return undefined;
  }
}

/** Human description for errors: "EC P-521", "RSA 1024". */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${d?.namedCurve ?? 'unknown curve'}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
  return String(key.asymmetricKeyType ?? key.type);
}

/** The JWS algorithm for an account key; refuses keys no ACME CA accepts. */
export function accountAlgorithm(key: KeyObject): AccountKeyAlgorithm {
  const t = keyTypeOf(key);
  if (t === 'ec256') return 'ES256';
  if (t === 'ec384') return 'ES384';
  if (t === 'ed25519') return 'EdDSA';
  if (t?.startsWith('rsa')) return 'RS256';
  throw new InvalidInputError(
    `${describeKey(key)} cannot be an ACME account key; use EC P-256 (ES256), P-384 (ES384), RSA 2048-4096 (RS256) or Ed25519 (EdDSA)`,
  );
}

/** Reads a private key from PEM (PKCS#8, SEC1, PKCS#1) or DER (PKCS#8); refuses encrypted keys with a clear message. */
export function importPrivateKey(input: string | Uint8Array): KeyObject {
  const text = typeof input === 'string' ? input : undefined;
  if (text?.includes('ENCRYPTED')) {
    throw new InvalidInputError(
      'the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)',
    );
  }
  try {
    if (text !== undefined) return createPrivateKey({ key: text.replace(/^\uFEFF/, ''), format: 'pem' });
    const buf = Buffer.from(input as Uint8Array);
    if (buf.subarray(0, 40).toString('latin1').includes('-----BEGIN'))
      return importPrivateKey(buf.toString('utf8'));
    return createPrivateKey({ key: buf, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new InvalidInputError('not a readable private key (expected PEM or PKCS#8 DER)', undefined, {
      cause,
    });
  }
}

/** PKCS#8 PEM, the form lego and certbot write. */
export function exportPrivateKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}
