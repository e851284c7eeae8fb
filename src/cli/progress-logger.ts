import type { Logger } from '../internal/logger.ts';
import { mark } from '../internal/timing.ts';
import type { Output } from './output.ts';

/**
 * The library's events on stderr, one line each. Without --log-level: warnings, and info events as
 * progress when stderr is a terminal. With it: every event at that level and above, terminal or not;
 * debug adds each request (method, URL, status), retries and nonce events.
 */
export function progressLogger(out: Output): Logger {
  const quiet = (): void => {};
  const level = out.logLevel;
  const rank = level === undefined ? 2 : ['error', 'warn', 'info', 'debug'].indexOf(level);
  return {
    debug:
      rank >= 3
        ? (obj: object, msg?: string) => out.log(`debug: ${msg ?? ''} ${debugDetail(obj)}`.trimEnd())
        : quiet,
    info:
      rank >= 2
        ? (obj: object, msg?: string) => {
            mark(msg ?? 'info');
            const line = `  ${msg ?? ''} ${progressDetail(obj)}`.trimEnd();
            if (level === undefined) out.progress(line);
            else out.log(line);
          }
        : quiet,
    warn:
      rank >= 1
        ? (obj: object, msg?: string) => out.warn(`${msg ?? ''} ${progressDetail(obj)}`.trim())
        : quiet,
    error: quiet,
  };
}

// Debug lines show plain values only, never objects (a request body, a key), and never a field whose
// name suggests a secret; URLs lose any user:password@ part. The library never logs secrets; this is
// the second fence.
const SECRET_FIELD = /secret|token|password|passwd|hmac|key|credential|authorization|signature|nonce/i;

function debugDetail(obj: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_FIELD.test(k) || v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    if (!values.every((x) => ['string', 'number', 'boolean'].includes(typeof x) || x instanceof Date))
      continue;
    const text = values
      .map((x) => (x instanceof Date ? x.toISOString() : String(x)))
      .join(',')
      .replace(/\/\/[^/@\s]*@/g, '//')
      .replace(/[\u0000-\u001f\u007f]+/g, ' ');
    parts.push(`${k}=${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
  return parts.join(' ');
}

function progressDetail(obj: object): string {
  const o = obj as Record<string, unknown>;
  const parts = ['order', 'status', 'delay', 'notAfter', 'fqdn', 'zone', 'to']
    .filter((k) => o[k] !== undefined)
    .map((k) => `${k}=${String(o[k])}`);
  return parts.join(' ');
}
