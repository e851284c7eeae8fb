import { InvalidInputError } from '../errors/base.ts';

/**
 * Account contacts as mailto: URLs (RFC 8555 §7.3). A bare address gets "mailto:" added; other
 * schemes, several "@", header injection characters and hfields (?cc=) are refused before sending.
 */
export function normalizeContacts(input: string | readonly string[] | undefined): string[] {
  const list = input === undefined ? [] : typeof input === 'string' ? [input] : [...input];
  const out: string[] = [];
  for (const raw of list) {
    const value = raw.trim();
    if (value === '') continue;
    const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(value);
    if (hasScheme && !value.toLowerCase().startsWith('mailto:')) {
      throw new InvalidInputError(
        `contact ${JSON.stringify(value)} must be an email address (mailto:), not another scheme`,
        value,
      );
    }
    const address = hasScheme ? value.slice('mailto:'.length) : value;
    if (/[\r\n\0,;<>?\s]/.test(address)) {
      throw new InvalidInputError(
        `contact ${JSON.stringify(value)} contains characters not allowed in an email address`,
        value,
      );
    }
    const parts = address.split('@');
    if (parts.length !== 2 || parts[0] === '' || !/^[^@]+\.[^@.]+$/.test(parts[1] ?? '')) {
      throw new InvalidInputError(
        `contact ${JSON.stringify(value)} is not an email address like user@example.com`,
        value,
      );
    }
    const url = `mailto:${address}`;
    if (!out.includes(url)) out.push(url);
  }
  return out;
}
