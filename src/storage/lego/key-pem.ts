import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CorruptFileError } from '../../errors/storage.ts';
import { decodePem } from '../../internal/pem.ts';

// Private keys as lego stores them, PEM-encoded: the account key (accounts/.../keys/<email>.key) and a
// certificate's key (certificates/<name>.key) alike; see layout.ts for where they go.

/**
 * The account key in the PEM type lego writes (certcrypto.PEMBlock in certcrypto/crypto.go):
 * EC → SEC1 "EC PRIVATE KEY" (curve OID and public key included, as Go's MarshalECPrivateKey),
 * RSA → PKCS#1 "RSA PRIVATE KEY". lego cannot write Ed25519; those go out as PKCS#8 "PRIVATE KEY",
 * which lego's ParsePEMPrivateKey reads (not versions before it, which knew only the two types above).
 */
export function encodeAccountKeyPem(key: KeyObject): string {
  if (key.type !== 'private') throw new TypeError('encodeAccountKeyPem needs a private key');
  const type = key.asymmetricKeyType;
  if (type === 'ec') return key.export({ format: 'pem', type: 'sec1' }).toString();
  if (type === 'rsa') return key.export({ format: 'pem', type: 'pkcs1' }).toString();
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * Reads an account (or certificate) key as lego's certcrypto.ParsePEMPrivateKey does: the first PEM
 * block, any "PRIVATE KEY" or "... PRIVATE KEY" label, its DER tried as PKCS#1, PKCS#8, then SEC1.
 */
export function decodeAccountKeyPem(text: string | Uint8Array, path: string): KeyObject {
  const pem = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  if (/Proc-Type:\s*4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(pem)) {
    throw new CorruptFileError(
      path,
      'the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)',
    );
  }
  let block: { label: string; der: Buffer } | undefined;
  try {
    block = decodePem(pem)[0];
  } catch (cause) {
    throw new CorruptFileError(path, 'the PEM key is damaged (bad base64)', { cause });
  }
  if (!block) throw new CorruptFileError(path, 'no PEM block found; expected a private key');
  if (block.label !== 'PRIVATE KEY' && !block.label.endsWith(' PRIVATE KEY')) {
    throw new CorruptFileError(path, `found a "${block.label}" PEM block, not a private key`);
  }
  // The label's own encoding first (each failed attempt costs a thrown error); then the others, as lego.
  const first: 'pkcs1' | 'pkcs8' | 'sec1' =
    block.label === 'EC PRIVATE KEY' ? 'sec1' : block.label === 'PRIVATE KEY' ? 'pkcs8' : 'pkcs1';
  const order = [first, ...(['pkcs1', 'pkcs8', 'sec1'] as const).filter((t) => t !== first)];
  for (const type of order) {
    try {
      return createPrivateKey({ key: block.der, format: 'der', type });
    } catch {
      // try the next encoding, as lego does
    }
  }
  throw new CorruptFileError(path, `the "${block.label}" block is not a readable RSA, EC or Ed25519 key`);
}
