import { AcmekitError } from '../errors/base.ts';
import { StorageError } from '../errors/storage.ts';
import { abortError } from '../internal/abort.ts';

/**
 * Turns a database driver's failure into a StorageError naming the backend, the key and what to do;
 * aborts stay aborts and our own errors pass through. `scrub` removes secrets (a password from the
 * connection URL) from the driver's message: it is the only part of the error we did not write.
 */
export function backendFailure(
  backend: string,
  what: string,
  err: unknown,
  scrub: (text: string) => string,
  signal?: AbortSignal,
  fix?: string,
): Error {
  if (signal?.aborted) return abortError(signal.reason);
  if (err instanceof AcmekitError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const detail = err instanceof Error ? err.message || err.name : String(err);
  const hint = fix
    ? `; ${fix}`
    : isConnectionProblem(err)
      ? `; is ${backend} running and reachable? (calls work again once it is back)`
      : '';
  return new StorageError(
    `${backend} ${what}`,
    `${scrub(detail)}${typeof code === 'string' && !detail.includes(code) ? ` (${code})` : ''}${hint}`,
    // The cause is kept for debugging only when it cannot carry the secret in its message.
    scrub(detail) === detail ? { cause: err } : {},
  );
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown: the server is going down
  '57P02',
  '57P03', // cannot_connect_now: starting up or shutting down
  '08000',
  '08003',
  '08006',
]);

function isConnectionProblem(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  const text = `${String(e?.name)} ${String(e?.message)}`;
  return /connection|socket|closed|offline|terminat|ECONNREFUSED|ECONNRESET/i.test(text);
}

/** A scrubber for the password (raw and percent-decoded) of a connection URL, if it has one. */
export function urlScrubber(url: string | undefined): (text: string) => string {
  const secrets = new Set<string>();
  if (url) {
    try {
      const { password } = new URL(url);
      if (password) {
        secrets.add(password);
        secrets.add(decodeURIComponent(password));
      }
    } catch {
      // Not a URL: the drivers will say so; there is no password to find.
    }
  }
  if (secrets.size === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}

/** "postgres://user:***@host:5432/db": a connection URL fit for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
