import { InvalidInputError } from '../../errors/base.ts';
import { punycodeEncode } from './punycode.ts';

/**
 * Store keys in lego's on-disk layout, so a `.lego` folder and an acmekit folder are interchangeable.
 * Pure functions: no I/O. Formats mirror lego v4 (go-acme/lego, branch v4):
 *
 *   accounts/<server>/<email>/account.json        cmd/accounts_storage.go
 *   accounts/<server>/<email>/keys/<email>.key    cmd/accounts_storage.go
 *   certificates/<name>.crt|.key|.issuer.crt|.json|.pem|.pfx   cmd/certs_storage.go
 *   archives/<unix seconds>.<file name>           cmd/certs_storage.go (MoveToArchive)
 *
 * lego v5 (cmd/internal/storage/storage_accounts.go; its docs/content/migration/cli.md, "Directory
 * structure") keeps the folders but puts the account key next to account.json, without `keys/`:
 *
 *   accounts/<server>/<id>/<id>.key               v5: read when the v4 key is missing, never written
 *
 * and names account folders by an account ID that defaults to the email (`--account-id`, which acmekit
 * does not have, so its ID is always the email). acmekit writes v4's layout, which lego v4 reads and
 * `lego migrate` (v5) converts; it reads either. See the notes on each function.
 */

/** The folder name lego uses when no email is given (lego ≥ 4.30: `userIDPlaceholder`, v5: `AccountIDPlaceholder`). */
export const NO_EMAIL_ACCOUNT_ID = 'noemail@example.com';

export interface AccountKeys {
  /** The folder name for the account: the email, or NO_EMAIL_ACCOUNT_ID without one. */
  accountId: string;
  /** accounts/<server>/<accountId> */
  dir: string;
  /** accounts/<server>/<accountId>/account.json */
  accountJson: string;
  /** accounts/<server>/<accountId>/keys/<accountId>.key (PEM, owner-only): lego v4, and what acmekit writes */
  privateKey: string;
  /** accounts/<server>/<accountId>/<accountId>.key: where lego v5 keeps the key; read when privateKey is missing */
  privateKeyV5: string;
}

export interface CertificateKeys {
  /** The sanitized file name without extension, e.g. "_.example.com". */
  name: string;
  /** Leaf certificate, followed by the chain unless lego ran with --no-bundle. */
  crt: string;
  /** Certificate private key (absent when a CSR was used). */
  key: string;
  /** The issuer chain (".issuer.crt"). */
  issuer: string;
  /** Resource metadata (".json"): see certificate-record.ts. */
  json: string;
  /** --pem: certificate followed by the key. */
  pem: string;
  /** --pfx: PKCS#12. */
  pfx: string;
  /** acmekit only (lego does not store the CSR): the user's CSR, so `renew` can reuse it. */
  csr: string;
}

/**
 * Store keys of one account, as lego's AccountsStorage builds them (cmd/accounts_storage.go):
 * the folder is the email verbatim (no case folding); without an email lego ≥ 4.30 uses
 * "noemail@example.com" (older lego refused to run without --email).
 */
export function accountKeys(serverUrl: string, email: string): AccountKeys {
  const accountId = accountIdOf(email);
  const dir = `accounts/${serverFolderName(serverUrl)}/${accountId}`;
  return {
    accountId,
    dir,
    accountJson: `${dir}/account.json`,
    privateKey: `${dir}/keys/${accountId}.key`,
    privateKeyV5: `${dir}/${accountId}.key`,
  };
}

/** The account folder's name for an email (the email itself); InvalidInputError when it cannot name a folder. */
export function accountIdOf(email: string): string {
  const accountId = email === '' ? NO_EMAIL_ACCOUNT_ID : email;
  if (!isSafeSegment(accountId)) {
    throw new InvalidInputError(`the email ${JSON.stringify(email)} cannot name a folder`, email);
  }
  return accountId;
}

/** Store keys of one certificate, named after its main (first) domain as lego does (cmd/certs_storage.go). */
export function certificateKeys(mainDomain: string): CertificateKeys {
  return certificateKeysNamed(sanitizeDomainForFile(mainDomain));
}

/** The files of a certificate whose base name is already decided (a sanitized domain, or lego's --filename). */
export function certificateKeysNamed(name: string): CertificateKeys {
  const base = `certificates/${name}`;
  return {
    name,
    crt: `${base}.crt`,
    key: `${base}.key`,
    issuer: `${base}.issuer.crt`,
    json: `${base}.json`,
    pem: `${base}.pem`,
    pfx: `${base}.pfx`,
    csr: `${base}.csr`,
  };
}

/** Where lego moves a replaced file: archives/<unix seconds>.<file name> (cmd/certs_storage.go, MoveToArchive). */
export function archiveKey(fileKey: string, at: Date): string {
  const file = fileKey.slice(fileKey.lastIndexOf('/') + 1);
  return `archives/${Math.floor(at.getTime() / 1000)}.${file}`;
}

/**
 * The CA's folder under accounts/: the host[:port] of the directory URL with ":" turned into "_"
 * (cmd/accounts_storage.go; v5's sanitizeHost also turns "/" and "\" into "_", which a host never has).
 * Taken verbatim like Go's url.Parse: case kept, default ports kept, IPv6 brackets kept, userinfo dropped.
 * "https://127.0.0.1:14000/dir" → "127.0.0.1_14000"; "https://[::1]:14000/dir" → "[__1]_14000".
 */
export function serverFolderName(serverUrl: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(serverUrl);
  if (!m || !URL.canParse(serverUrl)) {
    throw new InvalidInputError(
      `${JSON.stringify(serverUrl)} is not an absolute ACME directory URL`,
      serverUrl,
    );
  }
  const authority = m[1] ?? '';
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  try {
    host = decodeURIComponent(host); // Go unescapes %XX in the host
  } catch {
    // keep it as written
  }
  const folder = host.replace(/[:/\\]/g, '_');
  if (!isSafeSegment(folder)) {
    throw new InvalidInputError(`the server URL ${JSON.stringify(serverUrl)} has no usable host`, serverUrl);
  }
  return folder;
}

/**
 * A certificate's file name as lego v4 makes it (cmd/certs_storage.go, sanitizedDomain): ":" → "-"
 * (IPv6 addresses), "*" → "_" (wildcards), then IDNA ToASCII with Go's lenient Punycode profile: a
 * label with non-ASCII characters becomes "xn--" + RFC 3492 punycode, case kept, no mapping; ASCII
 * labels stay as they are. "*.example.com" → "_.example.com"; "2001:db8::1" → "2001-db8--1";
 * "bücher.example" → "xn--bcher-kva.example". v5 additionally drops every character other than
 * letters, digits, "-", "_", "." and "@", which changes nothing for a valid DNS name or IP address.
 */
export function sanitizeDomainForFile(domain: string): string {
  const replaced = domain.replaceAll(':', '-').replaceAll('*', '_');
  const name = replaced
    .split('.')
    .map((label) => (/^[\x00-\x7f]*$/.test(label) ? label : `xn--${punycodeEncode(label)}`))
    .join('.');
  if (!isSafeSegment(name)) {
    throw new InvalidInputError(`${JSON.stringify(domain)} cannot name a certificate file`, domain);
  }
  return name;
}

function isSafeSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !/[/\\\x00]/.test(s);
}
