import { type CertificateKeyType, certificateKeyTypes } from '../../crypto/keys.ts';
import { CorruptFileError } from '../../errors/storage.ts';
import type { ChallengeType } from '../../protocol/wire-types.ts';
import { formatLegoJson, isObject, parseJsonObject } from './json-file.ts';

/**
 * The per-certificate metadata file, certificates/<name>.json.
 *
 * lego v4 writes certificate.Resource (certificate/certificates.go) with Go's json.MarshalIndent:
 *   { "domain": "<main domain>", "certUrl": "<URL>", "certStableUrl": "<URL>" }
 * (the PEM fields are `json:"-"`). Old lego versions also wrote "accountRef"; lego v5
 * (cmd/internal/storage/) writes "id" and "domains" instead of "domain", and may add "origin".
 * acmekit keeps lego's fields, keeps every field it does not know (so a lego upgrade loses nothing),
 * and adds an "acmekit" object remembering how the certificate was obtained, so `renew` can replay it
 * without the original flags (like certbot's renewal configs). Go's decoder ignores unknown fields,
 * so lego still reads the file.
 */

/** How the challenges were answered; enough to answer them again. */
export interface ChallengeReplay {
  type: ChallengeType;
  /** http-01 with --http.webroot. */
  webroot?: string;
  /** http-01 listener address (--http.port), e.g. ":80". */
  httpAddress?: string;
  /** tls-alpn-01 listener address (--tls.port), e.g. ":443". */
  tlsAddress?: string;
  /** --http.delay / --tls.delay: wait this long after the answer is in place before the CA is asked to check. */
  delayMs?: number;
  /** dns-01: which provider serves which names, and how propagation is checked. Credentials are never stored. */
  dns?: DnsReplay;
}

export interface DnsReplay {
  /** One entry per provider; `domains` absent means every name. */
  providers: { provider: string; domains?: string[] }[];
  resolvers?: string[];
  /** --dns.zone: the zone of every record, for a zone public DNS cannot tell. */
  zone?: string;
  /** Only sleep this long instead of checking propagation. */
  propagationWaitMs?: number;
  /** Tell the CA without checking propagation. */
  propagationDisabled?: boolean;
  /** With resolvers: check the authoritative nameservers instead of them (--dns.propagation.disable-rns). */
  propagationAuthoritative?: boolean;
  /** Deadline of one DNS query. */
  queryTimeoutMs?: number;
}

/** Kept for callers that know the challenge settings under this name. */
export type ChallengeRecord = ChallengeReplay;

export interface PendingOrder {
  orderUrl: string;
  /** RFC 3339 time the order was created. */
  since: string;
}

export interface RenewalAttempt {
  /** RFC 3339 time of the attempt. */
  at: string;
  /** The last failure's message; absent after a success. */
  error?: string;
  /** Failures in a row since the last success. */
  failures: number;
}

/** What acmekit remembers about how a certificate was obtained ("acmekit" in the .json). */
export interface AcmekitCertificateState {
  version: 1;
  /** Every name on the certificate, main domain first, as ordered. */
  identifiers: string[];
  /** The ACME directory URL. */
  server: string;
  email?: string;
  keyType: CertificateKeyType;
  challenge: ChallengeReplay;
  profile?: string;
  preferredChain?: string;
  mustStaple?: boolean;
  /** True when the user's CSR was used: there is no key of ours to reuse, renew needs the CSR again. */
  csr?: boolean;
  /** --disable-cn: the CSR carries no common name, the names are in the subject alternative names only. */
  noCommonName?: boolean;
  /** --not-before / --not-after as asked for (RFC 3339), sent with every order for this certificate. */
  orderNotBefore?: string;
  orderNotAfter?: string;
  /** RFC 3339 validity of the stored certificate; absent until the first certificate is saved. */
  notBefore?: string;
  notAfter?: string;
  /** Hex serial number of the leaf certificate; absent until the first certificate is saved. */
  serial?: string;
  /** The issuer's common name, for `list`. */
  issuer?: string;
  /** RFC 9773 certificate identifier (base64url(AKI) "." base64url(serial)). */
  ariCertId?: string;
  lastRenewalAttempt?: RenewalAttempt;
  /** An order in progress (set before the first challenge, cleared once the certificate is saved), so a crashed run resumes it. */
  pending?: PendingOrder;
  /** Fields inside "acmekit" this version does not know, kept for the next write. */
  extra?: Record<string, unknown>;
}

export interface CertificateRecord {
  /** lego's "domain": the main domain (v5 files: the first of "domains", else "id"). */
  domain: string;
  certUrl: string;
  certStableUrl: string;
  /** Undefined for a file written by lego alone. */
  acmekit?: AcmekitCertificateState | undefined;
  /** Top-level fields acmekit does not know (lego's "accountRef", v5's "id"/"domains"...), written back unchanged. */
  extra?: Record<string, unknown>;
}

const LEGO_FIELDS = ['domain', 'certUrl', 'certStableUrl', 'acmekit'];
const STATE_FIELDS = (
  'version identifiers server email keyType challenge profile preferredChain mustStaple csr ' +
  'noCommonName orderNotBefore orderNotAfter notBefore notAfter serial issuer ariCertId ' +
  'lastRenewalAttempt pending'
).split(' ');
const CHALLENGE_TYPES: readonly string[] = ['http-01', 'dns-01', 'tls-alpn-01'];

/** The .json text: lego's fields first, unknown fields kept, then "acmekit" (Go's MarshalIndent style). */
export function encodeCertificateRecord(record: CertificateRecord): string {
  const out: Record<string, unknown> = {
    domain: record.domain,
    certUrl: record.certUrl,
    certStableUrl: record.certStableUrl,
  };
  for (const [k, v] of Object.entries(record.extra ?? {})) if (!LEGO_FIELDS.includes(k)) out[k] = v;
  const s = record.acmekit;
  if (s) {
    const a: Record<string, unknown> = {
      version: s.version,
      identifiers: [...s.identifiers],
      server: s.server,
      email: s.email,
      keyType: s.keyType,
      challenge: { ...s.challenge },
      profile: s.profile,
      preferredChain: s.preferredChain,
      mustStaple: s.mustStaple,
      csr: s.csr,
      noCommonName: s.noCommonName,
      orderNotBefore: s.orderNotBefore,
      orderNotAfter: s.orderNotAfter,
      notBefore: s.notBefore,
      notAfter: s.notAfter,
      serial: s.serial,
      issuer: s.issuer,
      ariCertId: s.ariCertId,
      lastRenewalAttempt: s.lastRenewalAttempt && { ...s.lastRenewalAttempt },
      pending: s.pending && { ...s.pending },
    };
    for (const [k, v] of Object.entries(s.extra ?? {})) if (!STATE_FIELDS.includes(k)) a[k] = v;
    out.acmekit = a; // JSON.stringify drops the undefined members
  }
  return formatLegoJson(out);
}

/**
 * Reads a .json written by lego v4/v5 or acmekit. A lego-only file gives `acmekit: undefined`.
 * Broken JSON, wrong types or an unusable "acmekit" part throw CorruptFileError naming `path`.
 */
export function decodeCertificateRecord(bytes: Uint8Array | string, path: string): CertificateRecord {
  const obj = parseJsonObject(bytes, path);
  const { domain, certUrl = '', certStableUrl = '', acmekit, ...extra } = obj;
  const domains = extra.domains;
  const main =
    domain ?? (Array.isArray(domains) && typeof domains[0] === 'string' ? domains[0] : undefined) ?? extra.id;
  if (typeof main !== 'string' || main === '') throw new CorruptFileError(path, 'no "domain"');
  if (typeof certUrl !== 'string') throw new CorruptFileError(path, '"certUrl" is not a string');
  if (typeof certStableUrl !== 'string') throw new CorruptFileError(path, '"certStableUrl" is not a string');
  const record: CertificateRecord = { domain: main, certUrl, certStableUrl, acmekit: undefined };
  if (Object.keys(extra).length > 0) record.extra = extra;
  if (acmekit !== undefined && acmekit !== null) record.acmekit = decodeState(acmekit, path);
  return record;
}

function decodeState(v: unknown, path: string): AcmekitCertificateState {
  const bad = (what: string): never => {
    throw new CorruptFileError(path, `"acmekit${what && `.${what}`}" is missing or invalid`);
  };
  if (!isObject(v)) return bad('');
  if (typeof v.version === 'number' && v.version > 1) {
    throw new CorruptFileError(
      path,
      `written by a newer acmekit (record version ${v.version}); upgrade acmekit`,
    );
  }
  if (v.version !== 1) bad('version');
  const ids = v.identifiers;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string' && i !== '')) {
    bad('identifiers');
  }
  const keyType = v.keyType;
  if (typeof keyType !== 'string' || !(certificateKeyTypes as readonly string[]).includes(keyType))
    bad('keyType');
  const state: AcmekitCertificateState = {
    version: 1,
    identifiers: [...(ids as string[])],
    server: optional(v, 'server', 'string', bad) ?? bad('server'),
    keyType: keyType as CertificateKeyType,
    challenge: decodeChallenge(v.challenge, bad),
  };
  for (const k of ['email', 'profile', 'preferredChain', 'serial', 'issuer', 'ariCertId'] as const) {
    const x = optional(v, k, 'string', bad);
    if (x !== undefined) state[k] = x;
  }
  for (const k of ['notBefore', 'notAfter', 'orderNotBefore', 'orderNotAfter'] as const) {
    const x = optional(v, k, 'date', bad);
    if (x !== undefined) state[k] = x;
  }
  for (const k of ['mustStaple', 'csr', 'noCommonName'] as const) {
    const x = optional(v, k, 'boolean', bad);
    if (x !== undefined) state[k] = x;
  }
  const last = v.lastRenewalAttempt;
  if (last !== undefined && last !== null) {
    if (!isObject(last)) return bad('lastRenewalAttempt');
    const failures = last.failures;
    if (typeof failures !== 'number' || !Number.isInteger(failures) || failures < 0) {
      bad('lastRenewalAttempt.failures');
    }
    const at = optional(last, 'at', 'date', (k) => bad(`lastRenewalAttempt.${k}`));
    state.lastRenewalAttempt = { at: at ?? bad('lastRenewalAttempt.at'), failures: failures as number };
    const error = optional(last, 'error', 'string', (k) => bad(`lastRenewalAttempt.${k}`));
    if (error !== undefined) state.lastRenewalAttempt.error = error;
  }
  const pending = v.pending;
  if (pending !== undefined && pending !== null) {
    if (!isObject(pending)) return bad('pending');
    const orderUrl = optional(pending, 'orderUrl', 'string', (k) => bad(`pending.${k}`));
    const since = optional(pending, 'since', 'date', (k) => bad(`pending.${k}`));
    state.pending = { orderUrl: orderUrl ?? bad('pending.orderUrl'), since: since ?? bad('pending.since') };
  }
  const extra = Object.fromEntries(Object.entries(v).filter(([k]) => !STATE_FIELDS.includes(k)));
  if (Object.keys(extra).length > 0) state.extra = extra;
  return state;
}

/** A field that may be absent (or null); present with the wrong type (or an unparsable date) is corrupt. */
function optional<T extends 'string' | 'boolean' | 'date'>(
  o: Record<string, unknown>,
  k: string,
  type: T,
  bad: (what: string) => never,
): (T extends 'boolean' ? boolean : string) | undefined {
  const x = o[k];
  if (x === undefined || x === null) return undefined;
  const ok =
    type === 'date'
      ? typeof x === 'string' && !Number.isNaN(Date.parse(x))
      : typeof x === (type === 'boolean' ? 'boolean' : 'string');
  return ok ? (x as T extends 'boolean' ? boolean : string) : bad(k);
}

function decodeChallenge(v: unknown, bad: (what: string) => never): ChallengeReplay {
  if (!isObject(v) || typeof v.type !== 'string' || !CHALLENGE_TYPES.includes(v.type)) {
    return bad('challenge.type');
  }
  for (const k of ['webroot', 'httpAddress', 'tlsAddress'])
    optional(v, k, 'string', (w) => bad(`challenge.${w}`));
  if (v.delayMs !== undefined && (typeof v.delayMs !== 'number' || !(v.delayMs >= 0)))
    bad('challenge.delayMs');
  if (v.dns !== undefined) decodeDnsReplay(v.dns, bad);
  return { ...v, type: v.type as ChallengeType } as ChallengeReplay;
}

function decodeDnsReplay(d: unknown, bad: (what: string) => never): void {
  const strings = (x: unknown): boolean => Array.isArray(x) && x.every((y) => typeof y === 'string');
  if (!isObject(d) || !Array.isArray(d.providers) || d.providers.length === 0) bad('challenge.dns.providers');
  for (const p of (d as { providers: unknown[] }).providers) {
    if (!isObject(p) || typeof p.provider !== 'string') bad('challenge.dns.providers');
    if (p.domains !== undefined && !strings(p.domains)) bad('challenge.dns.providers.domains');
  }
  const o = d as Record<string, unknown>;
  if (o.resolvers !== undefined && !strings(o.resolvers)) bad('challenge.dns.resolvers');
  if (o.zone !== undefined && typeof o.zone !== 'string') bad('challenge.dns.zone');
  for (const k of ['propagationWaitMs', 'queryTimeoutMs']) {
    if (o[k] !== undefined && (typeof o[k] !== 'number' || (o[k] as number) < 0)) bad(`challenge.dns.${k}`);
  }
  for (const k of ['propagationDisabled', 'propagationAuthoritative']) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') bad(`challenge.dns.${k}`);
  }
}
