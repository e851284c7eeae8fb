/** Longest delay setTimeout honours; larger values fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 9110 §5.6.7: IMF-fixdate, plus the two obsolete forms recipients MUST accept.
const IMF_FIXDATE =
  /^(?:mon|tue|wed|thu|fri|sat|sun), (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
const RFC850_DATE =
  /^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
const ASCTIME_DATE = /^(?:mon|tue|wed|thu|fri|sat|sun) ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Delay in ms asked for by a Retry-After header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
 * A negative number or a date in the past gives 0; an absent or unreadable header gives undefined.
 * `now` is the current time in ms since the epoch (injectable for tests).
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  if (/^-?\d+$/.test(text)) {
    if (text.startsWith('-')) return 0;
    return Math.min(Number(text) * 1000, Number.MAX_SAFE_INTEGER);
  }
  if (text.length > 64) return undefined;
  const at = parseHttpDate(text.toLowerCase(), now);
  return at === undefined ? undefined : Math.max(0, at - now);
}

/**
 * Keeps a delay within [minMs, maxMs] (maxMs wins if they cross) and within what setTimeout can wait.
 * NaN gives minMs.
 */
export function clampDelay(ms: number, bounds: { minMs: number; maxMs: number }): number {
  const value = Number.isNaN(ms) ? bounds.minMs : ms;
  return Math.min(MAX_TIMER_MS, bounds.maxMs, Math.max(bounds.minMs, value));
}

/** ms since the epoch for an HTTP-date (already lower case), or undefined. */
function parseHttpDate(text: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(text);
  if (m) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the most recent such year in the past.
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    else if (year < thisYear - 50) year += 100;
    return utc(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME_DATE.exec(text);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return undefined;
}

function utc(year: number, mon: string, day: number, h: string, min: string, s: string): number | undefined {
  const month = MONTHS.indexOf(mon);
  const [hour, minute, second] = [Number(h), Number(min), Number(s)];
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  const at = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(at);
  // Rejects 31 Feb and the like, which Date.UTC would roll over into March.
  return check.getUTCMonth() === month && check.getUTCDate() === day ? at : undefined;
}

/** Retry-After of a response's headers (first value when repeated), as a delay in ms. */
export function retryAfterOf(
  headers: { 'retry-after'?: string | string[] | undefined },
  now: number,
): number | undefined {
  const h = headers['retry-after'];
  return parseRetryAfter(Array.isArray(h) ? h[0] : h, now);
}
