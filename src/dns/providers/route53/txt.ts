/**
 * Route 53 stores a TXT value as it appears in a zone file: one or more quoted character-strings of at
 * most 255 bytes, with `"` and `\` escaped by a backslash, and non-printable bytes as `\ddd`.
 */
export function quoteTxt(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return '""';
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) {
    let text = '';
    for (const b of bytes.subarray(i, i + 255)) {
      if (b === 0x22 || b === 0x5c) text += `\\${String.fromCharCode(b)}`;
      else if (b < 0x20 || b > 0x7e) text += `\\${b.toString(8).padStart(3, '0')}`;
      else text += String.fromCharCode(b);
    }
    parts.push(`"${text}"`);
  }
  return parts.join(' ');
}

/** The value a stored record holds: its character-strings joined, escapes undone. Unquoted text is taken as is. */
export function unquoteTxt(stored: string): string {
  const text = stored.trim();
  if (!text.startsWith('"')) return text;
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      i++;
      continue;
    }
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const digits = /^\d{3}/.exec(text.slice(i + 1));
        if (digits) {
          out.push(Number.parseInt(digits[0], 8) & 0xff);
          i += 4;
        } else {
          out.push(...Buffer.from(text[i + 1]!, 'utf8'));
          i += 2;
        }
      } else {
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        out.push(...Buffer.from(ch, 'utf8'));
        i += ch.length;
      }
    }
    i++;
  }
  return Buffer.from(out).toString('utf8');
}

/** A name as Route 53 lists it ("\052.example.com.") compared in the form we send: octal escapes undone, lower case, trailing dot. */
export function normaliseName(name: string): string {
  const plain = name
    .replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)))
    .toLowerCase();
  return plain.endsWith('.') ? plain : `${plain}.`;
}
