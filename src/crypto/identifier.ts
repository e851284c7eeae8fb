import { InvalidInputError } from '../errors/base.ts';

/** One name in an order, CSR or certificate (RFC 8555 §9.7.7; IP per RFC 8738). */
export type Identifier = { readonly type: 'dns' | 'ip'; readonly value: string };

/**
 * The canonical text of an IP address (dotted quad, or RFC 5952 compressed lower-case IPv6),
 * or undefined when `text` is not a plain IP address (no zone id, no prefix length).
 */
export function canonicalIp(text: string): string | undefined {
  // Dotted quad only: no leading zeros (octal in some parsers), no short forms like 127.1.
  if (/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) {
    return text.split('.').every((n) => Number(n) <= 255) ? text : undefined;
  }
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  try {
    // The WHATWG URL serializer writes IPv6 the RFC 5952 way (lower case, longest zero run as ::).
    const host = new URL(`http://[${text}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The 4 or 16 bytes of an IP address, as SAN iPAddress carries it (RFC 5280 §4.2.1.6). */
export function ipToBytes(text: string): Buffer | undefined {
  const ip = canonicalIp(text);
  if (ip === undefined) return undefined;
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** Canonical text for 4 or 16 SAN iPAddress bytes; undefined for any other length (e.g. name constraints). */
export function ipFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return undefined;
  const b = Buffer.from(bytes);
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  return canonicalIp(groups.join(':'));
}

/** Checks and normalises the identifiers written into a CSR or certificate. */
export function checkIdentifiers(identifiers: readonly Identifier[]): Identifier[] {
  if (identifiers.length === 0) throw new InvalidInputError('at least one identifier is needed');
  return dedupeIdentifiers(
    identifiers.map((id) => {
      if (id.type === 'ip') {
        const ip = canonicalIp(id.value);
        if (ip === undefined) throw new InvalidInputError(`not an IP address: ${id.value}`, id.value);
        return { type: 'ip', value: ip };
      }
      // dNSName is an IA5String: IDNs must already be punycode (RFC 5280 §4.2.1.6).
      if (id.type !== 'dns' || !/^[\x21-\x7e]{1,253}$/.test(id.value)) {
        throw new InvalidInputError(`not a usable DNS name: ${JSON.stringify(id.value)}`, id.value);
      }
      return { type: 'dns', value: id.value.toLowerCase() };
    }),
  );
}

/** Drops repeated identifiers (same type and value), keeping the first. */
export function dedupeIdentifiers(ids: readonly Identifier[]): Identifier[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = `${id.type}:${id.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
