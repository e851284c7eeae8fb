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

const SECRET_NAME = /TOKEN|SECRET|PASSW|API_?KEY|PRIVATE|HMAC|CREDENTIAL|AUTH/i;

/**
 * Cuts the values of this process's secret-looking variables (DNS API tokens, passwords...) out of
 * text; `*_PATH` variables name files, not secrets, and stay.
 */
export function redactEnvironmentSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const secretVars = Object.entries(env).filter(
    ([name]) => SECRET_NAME.test(name) && !name.endsWith('_PATH'),
  );
  return redactSecrets(
    text,
    secretVars.map(([, value]) => value),
  );
}
