import { CorruptFileError } from '../../errors/storage.ts';
import { formatLegoJson, isObject, parseJsonObject } from './json-file.ts';

/**
 * lego's account file, accounts/<server>/<email>/account.json (layout.ts; the key beside it: key-pem.ts).
 *
 * It is Go's json.MarshalIndent(Account, "", "\t") of cmd/account.go's Account:
 *   { "email": "<email or empty>", "registration": { "body": <RFC 8555 account object>, "uri": "<account URL>" } }
 * where "registration" is registration.Resource (registration/registar.go) and "body" is acme.Account
 * (acme/commons.go: status, contact, termsOfServiceAgreed, orders, onlyReturnExisting,
 * externalAccountBinding, all omitempty). The key is not in the JSON.
 * lego v5 (cmd/internal/storage/account.go) adds "id", "keyType" and "server" next to "email"; some
 * v5 snapshots flatten "registration" into the account object with an "accountURL" field. Both are read.
 */

export interface LegoAccountInput {
  email: string;
  /** Undefined: no "registration" (lego, like acmekit, then finds the account by its key). */
  accountUrl: string | undefined;
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
  if (input.accountUrl === undefined) return formatLegoJson({ email: input.email, ...extra });
  return formatLegoJson({ email: input.email, ...extra, registration: { body, uri: input.accountUrl } });
}

/**
 * account.json with the account object's status set to `status` and nothing else changed (lego v4's
 * registration.body or v5's flattened registration alike), e.g. "deactivated" once the CA took it so.
 * Undefined when the file names no account (no registration).
 */
export function withLegoAccountStatus(
  bytes: Uint8Array | string,
  path: string,
  status: string,
): string | undefined {
  decodeLegoAccount(bytes, path); // the same checks as a read: a corrupt file is reported, not rewritten
  const obj = parseJsonObject(bytes, path);
  const registration = obj.registration;
  if (!isObject(registration)) return undefined;
  const body = isObject(registration.body) ? registration.body : registration;
  body.status = status;
  return formatLegoJson(obj);
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
