/**
 * The one way a time is written for people, in CLI lines, progress lines and messages: ISO 8601 in
 * UTC, as `Date.prototype.toISOString` gives it (`2031-12-07T10:00:00.000Z`), the same text the JSON
 * output holds. Never `Date.prototype.toString` (local time zone, English day names).
 */
export function isoTime(value: Date | number | string): string {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}
