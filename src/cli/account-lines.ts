import { sanitizeText } from '../errors/problem.ts';

// How `accounts info|register|update|deactivate` print an account object: the RFC 8555 fields first,
// with names a person reads, then every other field the CA sent, in its order, under its own name.

const KNOWN: readonly [field: string, label: string][] = [
  ['status', 'status'],
  ['contact', 'contact'],
  ['orders', 'orders'],
  ['termsOfServiceAgreed', 'terms of service agreed'],
];

/** One value on one line: text as it is, a list of texts joined, anything else as JSON; control characters removed, long values cut. */
function shown(value: unknown): string {
  if (typeof value === 'string') return sanitizeText(value, 500);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return value.length === 0 ? 'none' : sanitizeText(value.join(', '), 500);
  }
  return sanitizeText(JSON.stringify(value) ?? String(value), 500);
}

/** `account URL`, then `  field: value` for each field the account object holds (contact shows `none` when empty). */
export function accountLines(url: string, object: Readonly<Record<string, unknown>>): string[] {
  const lines = [`account ${sanitizeText(url, 500)}`];
  for (const [field, label] of KNOWN) {
    const value = Object.hasOwn(object, field) ? object[field] : undefined;
    if (value !== undefined) lines.push(`  ${label}: ${shown(value)}`);
    else if (field === 'contact') lines.push('  contact: none');
  }
  for (const [field, value] of Object.entries(object)) {
    if (KNOWN.some(([k]) => k === field) || value === undefined) continue;
    lines.push(`  ${sanitizeText(field, 100)}: ${shown(value)}`);
  }
  return lines;
}
