/**
 * Parses Link header fields (RFC 8288 §3) into rel → absolute URLs, in the order they appear.
 * ACME uses rel="up" (issuer chain, authorization), "alternate" (other chains, RFC 8555 §7.4.2),
 * "index" (directory) and "terms-of-service". Several fields and several links per field are
 * accepted; a URL may contain commas inside `<...>`; `rel` may be quoted or not and may list several
 * types (`rel="up index"`). Relative URLs resolve against `baseUrl`, the URL of the request
 * (RFC 8288 §3.2). Malformed links are skipped, never thrown on.
 *
 * The result has a null prototype, so a hostile rel such as `__proto__` or `constructor` is just a key.
 */
export function parseLinkHeader(
  values: string | readonly string[] | undefined,
  baseUrl: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  const fields = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  for (const field of fields) {
    if (typeof field !== 'string') continue;
    for (const { target, rels } of parseField(field)) {
      let url: string;
      try {
        url = (URL.canParse(target) ? new URL(target) : new URL(target, baseUrl)).href;
      } catch {
        continue;
      }
      for (const rel of rels) {
        const list = out[rel] ?? [];
        if (!list.includes(url)) list.push(url);
        out[rel] = list;
      }
    }
  }
  return out;
}

interface RawLink {
  target: string;
  rels: string[];
}

const WS = ' \t';

function parseField(s: string): RawLink[] {
  const links: RawLink[] = [];
  let i = 0;
  while (i < s.length) {
    i = skip(s, i, `${WS},`); // empty list elements are allowed (RFC 9110 §5.6.1)
    if (i >= s.length) break;
    if (s[i] !== '<') {
      i = nextComma(s, i);
      continue;
    }
    const end = s.indexOf('>', i + 1);
    if (end < 0) break;
    const target = s.slice(i + 1, end).trim();
    i = end + 1;
    let rel: string | undefined;
    for (;;) {
      i = skip(s, i, WS);
      if (s[i] !== ';') break;
      i = skip(s, i + 1, WS);
      const name = readWhile(s, i, (c) => /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(c));
      i = skip(s, i + name.length, WS);
      let value: string | undefined;
      if (s[i] === '=') {
        i = skip(s, i + 1, WS);
        if (s[i] === '"') {
          [value, i] = readQuoted(s, i);
        } else {
          value = readWhile(s, i, (c) => !`;,"${WS}`.includes(c));
          i += value.length;
        }
      }
      // RFC 8288 §3.3: only the first rel parameter counts.
      if (rel === undefined && value !== undefined && name.toLowerCase() === 'rel') rel = value;
    }
    if (i > s.length) break; // unterminated quoted string
    if (i < s.length && s[i] !== ',') {
      i = nextComma(s, i); // garbage after the parameters: drop this link
      continue;
    }
    if (target !== '' && rel !== undefined) links.push({ target, rels: splitRel(rel) });
  }
  return links;
}

/** Relation types are whitespace separated; registered ones compare case-insensitively (RFC 8288 §2.1.1). */
function splitRel(rel: string): string[] {
  return rel
    .split(/[ \t]+/)
    .filter((r) => r !== '')
    .map((r) => (r.includes(':') ? r : r.toLowerCase()));
}

function skip(s: string, i: number, chars: string): number {
  let j = i;
  while (j < s.length && chars.includes(s[j]!)) j++;
  return j;
}

function readWhile(s: string, i: number, ok: (c: string) => boolean): string {
  let j = i;
  while (j < s.length && ok(s[j]!)) j++;
  return s.slice(i, j);
}

/** A quoted-string starting at s[i] === '"' (RFC 9110 §5.6.4): its value and the index after it (> length if unclosed). */
function readQuoted(s: string, i: number): [string, number] {
  let value = '';
  let j = i + 1;
  while (j < s.length && s[j] !== '"') {
    if (s[j] === '\\' && j + 1 < s.length) j++;
    value += s[j];
    j++;
  }
  return [value, j + 1];
}

/** Index of the next comma that is outside `<...>` and quoted strings (or the end). */
function nextComma(s: string, i: number): number {
  let j = i;
  while (j < s.length && s[j] !== ',') {
    if (s[j] === '"') j = readQuoted(s, j)[1];
    else if (s[j] === '<') j = s.indexOf('>', j) < 0 ? s.length : s.indexOf('>', j) + 1;
    else j++;
  }
  return j;
}
