import type { Secret } from './secret.ts';

/**
 * Cuts secret values out of text that came from elsewhere (an API that echoes a token, a hook's
 * stderr). Values shorter than `minLength` are left alone: cutting them would mangle ordinary words.
 */
export function redactSecrets(
  text: string,
  secrets: Iterable<string | Secret | undefined>,
  minLength = 6,
): string {
  let out = text;
  for (const s of secrets) {
    const value = typeof s === 'string' ? s : s?.reveal();
    if (value && value.length >= minLength) out = out.split(value).join('[redacted]');
  }
  return out;
}
