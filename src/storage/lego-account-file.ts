import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CorruptFileError } from '../errors/storage.ts';
import { decodePem } from '../internal/pem.ts';

/**
 * lego's account files: accounts/<server>/<email>/account.json and keys/<email>.key.
 *
 * account.json is Go's json.MarshalIndent(Account, "", "\t") of cmd/account.go's Account:
 *   { "email": "<email or empty>", "registration": { "body": <RFC 8555 account object>, "uri": "<account URL>" } }
 * where "registration" is registration.Resource (registration/registar.go) and "body" is acme.Account
 * (acme/commons.go: status, contact, termsOfServiceAgreed, orders, onlyReturnExisting,
 * externalAccountBinding, all omitempty). The key is not in the JSON.
 * lego v5 (cmd/internal/storage/account.go) adds "id", "keyType" and "server" next to "email"; some
 * v5 snapshots flatten "registration" into the account object with an "accountURL" field. Both are read.
 */

export interface LegoAccountInput {
  email: string;
  accountUrl: string;
  /** The account object the CA returned (RFC 8555 §7.1.2). */
  accountObject: {
    status?: string;
    contact?: readonly string[];
    termsOfServiceAgreed?: boolean;
    orders?: string;
    externalAccountBinding?: unknown;
  };
  /** Top-level fields read from an existing file (decodeLegoAccount's `extra`), written back unchanged. */
  extra?: Record<string, unknown>;
}

export interface LegoAccount {
  /** '' when the account has no email (lego ≥ 4.30 writes "email": ""). */
  email: string;
  /** The account URL (JWS kid). Undefined when the file has no registration: lego then looks the account up by its key. */
  accountUrl: string | undefined;
  status?: string;
  contact?: string[];
  /** Top-level fields other than email and registration (v5's id, keyType, server...), for a later encode. */
  extra: Record<string, unknown>;
}

/** account.json as lego writes it (tab-indented, Go's escaping, no trailing newline). */
export function encodeLegoAccount(input: LegoAccountInput): string {
  const a = input.accountObject;
  // acme.Account's fields in Go's declaration order; omitempty drops empty strings, false and empty lists.
  const body: Record<string, unknown> = {};
  if (a.status) body.status = a.status;
  if (a.contact?.length) body.contact = [...a.contact];
  if (a.termsOfServiceAgreed) body.termsOfServiceAgreed = true;
  if (a.orders) body.orders = a.orders;
  if (a.externalAccountBinding !== undefined && a.externalAccountBinding !== null) {
    body.externalAccountBinding = a.externalAccountBinding;
  }
  const { email: _e, registration: _r, ...extra } = input.extra ?? {};
  return formatLegoJson({ email: input.email, ...extra, registration: { body, uri: input.accountUrl } });
}

/** Reads account.json written by lego v4/v5 or acmekit; CorruptFileError names `path` when it cannot be used. */
export function decodeLegoAccount(bytes: Uint8Array | string, path: string): LegoAccount {
  const obj = parseJsonObject(bytes, path);
  const { email = '', registration, ...extra } = obj;
  if (typeof email !== 'string') throw new CorruptFileError(path, '"email" is not a string');
  if (registration === undefined || registration === null) return { email, accountUrl: undefined, extra };
  if (!isObject(registration)) throw new CorruptFileError(path, '"registration" is not an object');
  // v4: { body: {...}, uri }; v5 snapshots: the account object itself with "accountURL".
  const body = registration.body ?? registration;
  if (!isObject(body)) throw new CorruptFileError(path, '"registration.body" is not an object');
  const url = registration.uri ?? registration.accountURL;
  if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url))) {
    throw new CorruptFileError(path, '"registration.uri" is not an account URL');
  }
  const out: LegoAccount = { email, accountUrl: url === '' ? undefined : url, extra };
  if (body.status !== undefined) {
    if (typeof body.status !== 'string')
      throw new CorruptFileError(path, 'the account status is not a string');
    out.status = body.status;
  }
  if (body.contact !== undefined && body.contact !== null) {
    if (!Array.isArray(body.contact) || !body.contact.every((c) => typeof c === 'string')) {
      throw new CorruptFileError(path, 'the account contact is not a list of URLs');
    }
    out.contact = [...body.contact];
  }
  return out;
}

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

/**
 * JSON as Go's json.MarshalIndent(v, "", "\t") prints it: tab indent, no trailing newline, and
 * "<", ">", "&", U+2028, U+2029 escaped as \u003c... (encoding/json's HTML-safe default).
 */
export function formatLegoJson(value: unknown): string {
  return JSON.stringify(value, null, '\t').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Parses a JSON object from a stored file; CorruptFileError (naming `path`) for bad UTF-8, bad JSON or a non-object. */
export function parseJsonObject(bytes: Uint8Array | string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new CorruptFileError(path, 'not valid JSON', { cause });
  }
  if (!isObject(value)) throw new CorruptFileError(path, 'not a JSON object');
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
