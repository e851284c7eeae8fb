import { isoTime } from '../internal/iso-time.ts';
import type { Logger } from '../internal/logger.ts';
import { mark } from '../internal/timing.ts';
import type { Output } from './output.ts';
import { formatElapsed } from './status-line.ts';

const RANKS = { error: 0, warn: 1, info: 2, debug: 3 } as const;

/**
 * The library's events on stderr, one line each. Without --log-level: warnings, and info events as
 * progress when stderr is a terminal. With it: every event at that level and above, terminal or not;
 * debug adds each request (method, URL, status), retries and nonce events.
 *
 * Waits (events with `wait` / `waitDone`, see `loggedWait`): on a terminal they drive the status line
 * (what, for which names, since when) instead of printing lines; elsewhere they print plain lines at
 * their level like any event.
 */
export function progressLogger(out: Output): Logger {
  const level = out.logLevel;
  const rank = level === undefined ? RANKS.info : RANKS[level];
  const event =
    (at: keyof typeof RANKS) =>
    (obj: object, msg = ''): void => {
      const o = obj as Record<string, unknown>;
      if (at === 'info' && RANKS.info <= rank) mark(msg || 'info');
      if (out.live && (typeof o.wait === 'string' || typeof o.waitDone === 'string')) {
        statusOf(out, o, msg);
        return;
      }
      if (RANKS[at] > rank) return;
      if (at === 'debug') out.log(`debug: ${msg} ${debugDetail(obj)}`.trimEnd());
      else if (at === 'warn') out.warn(`${msg} ${progressDetail(obj)}`.trim());
      else if (at === 'info') {
        const line = `  ${waitLine(o, msg) ?? `${msg} ${progressDetail(obj)}`.trimEnd()}`;
        if (level === undefined) out.progress(line);
        else out.log(line);
      }
    };
  return { debug: event('debug'), info: event('info'), warn: event('warn'), error: () => {} };
}

/** The status line's part: a wait begins or ends. */
function statusOf(out: Output, o: Record<string, unknown>, msg: string): void {
  const waitFor = formatValue(o.waitFor) ?? '';
  if (typeof o.wait === 'string') {
    const delay = typeof o.delayMs === 'number' ? o.delayMs : undefined;
    out.waitStarted(`${o.wait} ${waitFor}`, `${msg}${reasonOf(o)}`, waitFor, delay);
  } else out.waitEnded(`${String(o.waitDone)} ${waitFor}`);
}

/** The plain line of a wait's event: "waiting for the CA to validate: a.example (HTTP 503), 5 s". */
function waitLine(o: Record<string, unknown>, msg: string): string | undefined {
  const waitFor = formatValue(o.waitFor);
  if (typeof o.wait === 'string') {
    const delay = typeof o.delayMs === 'number' ? `, ${formatElapsed(o.delayMs + 999)}` : '';
    return `${msg}${reasonOf(o)}: ${waitFor}${delay}`;
  }
  if (typeof o.waitDone === 'string' && typeof o.elapsedMs === 'number') {
    return `${msg}: ${waitFor} after ${formatElapsed(o.elapsedMs)}${o.failed ? ' (failed)' : ''}`;
  }
  return undefined;
}

/** Why a retry waits: the HTTP status or the connection error code. */
function reasonOf(o: Record<string, unknown>): string {
  if (typeof o.status === 'number') return ` (HTTP ${o.status})`;
  if (typeof o.code === 'string') return ` (${formatValue(o.code)})`;
  return '';
}

// Lines show plain values only, never objects (a request body, a key), and never a field whose
// name suggests a secret; URLs lose any user:password@ part. The library never logs secrets; this is
// the second fence.
const SECRET_FIELD = /secret|token|password|passwd|hmac|key|credential|authorization|signature|nonce/i;

/**
 * A log field as a line shows it: a time in ISO 8601 UTC (never `Date.toString()`), a list joined by
 * commas, a string without control characters or URL credentials, cut at 300 characters; undefined for
 * objects and empty values, which lines leave out.
 */
export function formatValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((x) => ['string', 'number', 'boolean'].includes(typeof x) || x instanceof Date)) {
    return undefined;
  }
  const text = values
    .map((x) => (x instanceof Date ? isoTime(x) : String(x)))
    .join(',')
    .replace(/\/\/[^/@\s]*@/g, '//')
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function debugDetail(obj: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_FIELD.test(k)) continue;
    const text = formatValue(v);
    if (text !== undefined) parts.push(`${k}=${text}`);
  }
  return parts.join(' ');
}

function progressDetail(obj: object): string {
  const o = obj as Record<string, unknown>;
  return ['order', 'status', 'delay', 'notAfter', 'fqdn', 'zone', 'to']
    .map((k) => [k, formatValue(o[k])] as const)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
