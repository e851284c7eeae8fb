import { isIP, isIPv4 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { canonicalIp, type Identifier } from '../crypto/identifier.ts';
import { InvalidInputError } from '../errors/base.ts';

/** Let's Encrypt accepts at most 100 identifiers in one order. */
export const DEFAULT_MAX_NAMES = 100;

export interface NormalizeOptions {
  /** Most identifiers allowed after duplicates are dropped; default 100. */
  maxNames?: number;
}

type Fail = (reason: string) => never;

/** Lists this module produced: a name is normalised once, and the list is carried from there on. */
const normalizedLists = new WeakSet<readonly Identifier[]>();

/**
 * Validates and normalises the names of one certificate before anything touches the network:
 * trimmed, lower case, IDN to punycode (RFC 5891), IP addresses canonical (RFC 8738 §3),
 * duplicates dropped keeping the first occurrence. A plain string that is an IP address becomes
 * `{ type: 'ip' }`. One trailing dot is stripped: `example.com.` is the absolute form of the same
 * name (RFC 1034 §3.1) and the CA sees it without the dot. Single-label names (`localhost`) are
 * accepted: whether to issue for them is the CA's call. Throws InvalidInputError naming the value.
 */
export function normalizeIdentifiers(
  input: readonly (string | Identifier)[],
  options: NormalizeOptions = {},
): readonly Identifier[] {
  // Already normalised (the CLI's names on their way to the order): checked once, not at every layer.
  if (
    normalizedLists.has(input as readonly Identifier[]) &&
    input.length <= (options.maxNames ?? DEFAULT_MAX_NAMES)
  )
    return input as readonly Identifier[];
  if (!Array.isArray(input) || input.length === 0) {
    throw new InvalidInputError('no names given: give at least one domain name or IP address', input);
  }
  const max = options.maxNames ?? DEFAULT_MAX_NAMES;
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const entry of input as readonly unknown[]) {
    const id = normalizeOne(entry);
    const key = `${id.type}:${id.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(id);
    }
  }
  if (out.length > max) {
    throw new InvalidInputError(
      `${out.length} names given, but at most ${max} fit in one order; split them across certificates`,
      out.length,
    );
  }
  Object.freeze(out);
  normalizedLists.add(out);
  return out;
}

/** True for a DNS identifier whose leftmost label is `*` (RFC 8555 §7.1.3). */
export function isWildcard(id: Identifier): boolean {
  return id.type === 'dns' && id.value.startsWith('*.');
}

/** Display form: the ASCII value, with the Unicode form in parentheses when they differ. */
export function identifierLabel(id: Identifier): string {
  if (id.type === 'ip') return id.value;
  const unicode = domainToUnicode(id.value);
  return unicode !== '' && unicode !== id.value ? `${id.value} (${unicode})` : id.value;
}

/** Set equality, independent of order and repetition; DNS values compare case-insensitively. */
export function identifiersEqual(a: readonly Identifier[], b: readonly Identifier[]): boolean {
  const key = (id: Identifier) => `${id.type}:${id.type === 'dns' ? id.value.toLowerCase() : id.value}`;
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((k) => right.has(k));
}

/** Checks, before any order, that every identifier can be proven with one of the offered challenge types. */
export function checkChallengeTypes(ids: readonly Identifier[], offered: readonly string[]): void {
  const has = (type: string) => offered.includes(type);
  const list = offered.length > 0 ? offered.map((t) => JSON.stringify(t)).join(', ') : 'none';
  for (const id of ids) {
    if (isWildcard(id) && !has('dns-01')) {
      throw new InvalidInputError(
        `wildcard ${id.value} needs dns-01; http-01 and tls-alpn-01 cannot validate wildcards, RFC 8555 §7.1.3 (offered: ${list})`,
        id.value,
      );
    }
    // RFC 8738 §7: dns-01 MUST NOT be used to validate IP identifiers.
    if (id.type === 'ip' && !has('http-01') && !has('tls-alpn-01')) {
      throw new InvalidInputError(
        `IP address ${id.value} needs http-01 or tls-alpn-01; dns-01 cannot validate IP addresses, RFC 8738 §7 (offered: ${list})`,
        id.value,
      );
    }
    if (id.type === 'dns' && !['http-01', 'dns-01', 'tls-alpn-01'].some(has)) {
      throw new InvalidInputError(
        `${id.value} needs http-01, dns-01 or tls-alpn-01 (offered: ${list})`,
        id.value,
      );
    }
  }
}

function normalizeOne(entry: unknown): Identifier {
  if (typeof entry === 'string') return parseName(entry, undefined);
  if (entry !== null && typeof entry === 'object') {
    const { type, value } = entry as { type?: unknown; value?: unknown };
    if (typeof value !== 'string') {
      throw new InvalidInputError(
        `invalid identifier ${quote(String(value))}: value must be a string`,
        entry,
      );
    }
    if (type === 'dns' || type === 'ip') return parseName(value, type);
    throw new InvalidInputError(
      `invalid identifier ${quote(value)}: type ${quote(String(type))} is not "dns" or "ip"`,
      entry,
    );
  }
  throw new InvalidInputError(`invalid name ${quote(String(entry))}: expected a string`, entry);
}

function parseName(raw: string, type: 'dns' | 'ip' | undefined): Identifier {
  const fail: Fail = (reason) => {
    throw new InvalidInputError(
      `invalid ${type === 'ip' ? 'IP address' : 'name'} ${quote(raw)}: ${reason}`,
      raw,
    );
  };
  const text = raw.trim();
  if (text === '') fail('the name is empty');
  const ip = parseIp(text, fail);
  if (ip !== undefined) {
    if (type === 'dns') fail('IP addresses are identifiers of type ip, RFC 8738');
    return { type: 'ip', value: ip };
  }
  if (type === 'ip') fail('not an IPv4 or IPv6 address');
  return { type: 'dns', value: parseDns(text, fail) };
}

/**
 * Canonical text of an IP address, or undefined when `text` is no IP address. RFC 8738 §3 asks for
 * RFC 5952 §4 text, which `canonicalIp` (shared with the CSR and certificate code, so names compare
 * equal) gives; an IPv4-mapped address is therefore written `::ffff:c000:201`, not `::ffff:192.0.2.1`.
 */
function parseIp(text: string, fail: Fail): string | undefined {
  const bracketed = /^\[(.*)\]$/s.exec(text);
  const inner = bracketed ? bracketed[1]! : text;
  const zone = inner.indexOf('%');
  if (zone >= 0 && ipVersion(inner.slice(0, zone)) === 6) {
    fail('zone ids like %eth0 only mean something on one machine; a certificate cannot name them');
  }
  const version = ipVersion(inner);
  if (bracketed && version === 4) fail('brackets are only for IPv6 addresses');
  if (version === 0) {
    if (bracketed || (inner.includes(':') && /^[0-9a-f:.]+$/i.test(inner))) fail('not a valid IPv6 address');
    return undefined;
  }
  return canonicalIp(inner) ?? fail('not an IP address in a form a certificate can hold');
}

/** isIP(), but only text with a colon is tried as IPv6: Node's IPv6 pattern costs ~6 ms on first use. */
function ipVersion(text: string): number {
  return text.includes(':') ? isIP(text) : isIPv4(text) ? 4 : 0;
}

function parseDns(text: string, fail: Fail): string {
  let name = text.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1); // exactly one: "a.example.." keeps an empty label
  if (name === '') fail('"." is the DNS root, not a host name');
  let prefix = '';
  if (name.startsWith('*.')) {
    prefix = '*.';
    name = name.slice(2);
  }
  checkCharacters(name, fail); // before IDNA: domainToASCII silently drops "\n", soft hyphens, text after "/"
  if (numericLabel(name.split('.').at(-1) ?? '')) fail(NUMERIC_TLD);
  const ascii = domainToASCII(name);
  if (ascii === '') fail(whyNotIdna(name));
  const labels = ascii.split('.');
  for (const label of labels) checkLabel(label, fail);
  if (numericLabel(labels.at(-1) ?? '')) fail(NUMERIC_TLD); // e.g. full-width digits mapped to ASCII
  if (prefix !== '' && labels.length < 2) {
    fail('the part after "*." needs at least two labels, like *.example.com');
  }
  const value = prefix + ascii;
  if (value.length > 253) fail(`${value.length} octets long; a name holds at most 253 (RFC 1035 §2.3.4)`);
  return value;
}

const NUMERIC_TLD =
  'the last label is numeric; no top-level domain is (RFC 3696 §2), and an IPv4 address must be written a.b.c.d';

function numericLabel(label: string): boolean {
  return /^(?:[0-9]+|0x[0-9a-f]*)$/.test(label);
}

function checkCharacters(name: string, fail: Fail): void {
  for (const ch of name) {
    if (ch === ',') fail('one name per entry; give each name separately');
    if (ch === '*') fail('"*" is only allowed as the whole leftmost label, like *.example.com');
    if (/\s/u.test(ch)) fail('whitespace inside a name');
    if (/[\p{Cc}\p{Cf}]/u.test(ch)) fail(`contains the invisible or control character ${quote(ch)}`);
    if (ch === '_') fail('"_" is not allowed in host names (RFC 1123 §2.1), and CAs refuse it');
    if (ch === '/' || ch === ':') fail(`contains ${quote(ch)}; give a host name, not a URL or a path`);
    if (ch < '\u0080' && !/[a-z0-9.-]/.test(ch)) {
      fail(`contains ${quote(ch)}; labels hold only a-z, 0-9 and "-" (RFC 1123 §2.1)`);
    }
  }
}

function checkLabel(label: string, fail: Fail): void {
  if (label === '') fail('empty label (a leading dot or two dots in a row)');
  if (label.length > 63) {
    fail(`label ${quote(label)} is ${label.length} octets long; at most 63 are allowed (RFC 1035 §2.3.4)`);
  }
  if (!/^[a-z0-9-]+$/.test(label)) fail(`label ${quote(label)} holds characters other than a-z, 0-9 and "-"`);
  if (label.startsWith('-') || label.endsWith('-')) {
    fail(`label ${quote(label)} starts or ends with "-" (RFC 1123 §2.1)`);
  }
  if (label.startsWith('xn--')) {
    // RFC 5891 §5.4: an A-label must decode and re-encode to itself.
    const unicode = domainToUnicode(label);
    if (unicode === '' || domainToASCII(unicode) !== label)
      fail(`label ${quote(label)} is not valid punycode`);
  } else if (label.slice(2, 4) === '--') {
    fail(
      `label ${quote(label)} has "--" in the third and fourth places, reserved for IDNA (RFC 5891 §4.2.3.1)`,
    );
  }
}

function whyNotIdna(name: string): string {
  for (const label of name.split('.')) {
    if (domainToASCII(label) !== '') continue;
    return label.startsWith('xn--')
      ? `label ${quote(label)} is not valid punycode (RFC 5891 §5.4)`
      : `label ${quote(label)} is not a valid internationalised label (RFC 5891)`;
  }
  return 'not a valid internationalised domain name (RFC 5891)';
}

/** JSON-quoted and shortened, with invisible characters escaped, so the message shows exactly what was given. */
function quote(s: string): string {
  const short = s.length > 300 ? `${s.slice(0, 300)}…` : s;
  return JSON.stringify(short).replace(
    /[\p{Cf}\u2028\u2029]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
