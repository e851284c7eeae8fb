import { InvalidInputError } from '../errors/base.ts';
import type { ProviderEnv } from './env.ts';

/**
 * A provider's API base URL from `variable` (or `fallback`): http(s) only, no user name or password in
 * it (credentials go in their own variables, which are never printed), no trailing slash.
 */
export function apiUrlSetting(env: ProviderEnv, code: string, variable: string, fallback: string): string {
  const raw = env.string(variable) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(
      `${code}: ${variable} must be an http(s) URL, got ${JSON.stringify(raw)}`,
      raw,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidInputError(
      `${code}: ${variable} must be an http(s) URL, got ${JSON.stringify(raw)}`,
      raw,
    );
  if (url.username || url.password)
    throw new InvalidInputError(`${code}: ${variable} must not carry a user name or password`, variable);
  return raw.replace(/\/+$/, '');
}
