import { InvalidInputError } from '../errors/base.ts';
import { isoTime } from '../internal/iso-time.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Below this lifetime a certificate renews at half its life instead of two thirds. */
const SHORT_LIFETIME_MS = 10 * DAY;
/** The lifetime rule adds up to this share of the lifetime, so a fleet does not renew in lockstep. */
const JITTER_SHARE = 0.05;
/** Let's Encrypt integration guide: retry a failed renewal after 1 min, 10 min, 100 min, then daily. */
const BACKOFF_STEPS_MS = [MINUTE, 10 * MINUTE, 100 * MINUTE, DAY] as const;

export interface RenewalDecisionInput {
  now: Date;
  notBefore: Date;
  notAfter: Date;
  /**
   * The CA's suggested window (RFC 9773). The caller validates it first (`fetchRenewalInfo` does):
   * an unparsable window or one whose end is not after its start is never passed in; when it is,
   * this function throws InvalidInputError instead of guessing.
   */
  ari?: { windowStart: Date; windowEnd: Date; explanationUrl?: string } | undefined;
  /** `--days` / `--renew-days`: renew when fewer than this many days remain; overrides ARI and lifetime. */
  renewDays?: number | undefined;
  /** Uniform in [0, 1); picks the time inside the ARI window and the lifetime jitter. */
  random: () => number;
  /** The persisted count of consecutive failed attempts and when the last one happened. */
  lastFailure?: { at: Date; failures: number } | undefined;
}

export type RenewalSource = 'ari' | 'lifetime' | 'days' | 'expired' | 'backoff';

export interface RenewalDecision {
  /** `renewAt <= now`. */
  due: boolean;
  /** When to attempt; never before `now` (a due decision says `now`), so a sleep is never negative. */
  renewAt: Date;
  /** For people: why this time, e.g. "one third of the 90-day lifetime left". */
  reason: string;
  source: RenewalSource;
  ariWindow?: { start: Date; end: Date };
  explanationUrl?: string;
}

/** Delay before the next attempt after `failures` consecutive failures (0 → none). */
export function retryBackoffMs(failures: number): number {
  if (!Number.isInteger(failures) || failures < 0) {
    throw new InvalidInputError(`failure count must be a whole number ≥ 0, got ${failures}`, failures);
  }
  if (failures === 0) return 0;
  return BACKOFF_STEPS_MS[Math.min(failures, BACKOFF_STEPS_MS.length) - 1]!;
}

/**
 * When to renew one certificate. Pure: the same input gives the same answer; it reads no clock and
 * no randomness of its own. Order of rules: expired → `renewDays` → ARI window → share of lifetime;
 * then the persisted failure backoff may push the time later; when the backoff would outlast the
 * certificate only its first 1-minute step applies. `renewAt` is never before `now`.
 */
export function renewalDecision(input: RenewalDecisionInput): RenewalDecision {
  const now = time(input.now, 'now');
  const notBefore = time(input.notBefore, 'notBefore');
  const notAfter = time(input.notAfter, 'notAfter');
  const lifetime = notAfter - notBefore;
  if (lifetime <= 0) {
    throw new InvalidInputError('certificate notAfter must be later than notBefore', input.notAfter);
  }
  const ari = input.ari && validWindow(input.ari);
  const extras = {
    ...(ari ? { ariWindow: { start: new Date(ari.start), end: new Date(ari.end) } } : {}),
    ...(input.ari?.explanationUrl ? { explanationUrl: input.ari.explanationUrl } : {}),
  };
  const base = baseDecision(input, { now, notBefore, notAfter, lifetime, ari });
  let { at, reason, source } = base;

  const failures = input.lastFailure?.failures ?? 0;
  if (input.lastFailure && failures > 0) {
    // A failure stamped in the future (clock stepped back) counts from now, so the wait stays bounded.
    const last = Math.min(time(input.lastFailure.at, 'lastFailure.at'), now);
    const step = retryBackoffMs(failures);
    const plural = failures === 1 ? 'attempt' : 'attempts';
    const after = `${failures} failed ${plural}, the last at ${iso(last)}`;
    const unbacked = Math.max(at, now); // backoff only matters when it ends later than this
    if (last + step < notAfter && last + step > unbacked) {
      at = last + step;
      source = 'backoff';
      reason = `${after}: backing off ${duration(step)} (${reason})`;
    } else if (last + step >= notAfter && last + MINUTE > unbacked) {
      // The full backoff would outlast the certificate: keep only the first step so a tight loop
      // still cannot hammer the CA.
      at = last + MINUTE;
      source = 'backoff';
      reason = `${after}: the certificate expires before the ${duration(step, true)} backoff ends, so retrying a minute after the last failure (${reason})`;
    }
  }
  const renewAt = Math.max(at, now);
  return { due: renewAt <= now, renewAt: new Date(renewAt), reason, source, ...extras };
}

interface Times {
  now: number;
  notBefore: number;
  notAfter: number;
  lifetime: number;
  ari: { start: number; end: number } | undefined;
}

function baseDecision(
  input: RenewalDecisionInput,
  t: Times,
): { at: number; reason: string; source: RenewalSource } {
  if (t.now >= t.notAfter) {
    return { at: t.now, reason: `expired at ${iso(t.notAfter)}`, source: 'expired' };
  }
  if (input.renewDays !== undefined) {
    const days = input.renewDays;
    if (!Number.isFinite(days) || days <= 0) {
      throw new InvalidInputError(`renew days must be more than 0, got ${days}`, days);
    }
    if (days * DAY >= t.lifetime) {
      // As lego does: a threshold longer than the whole lifetime simply means "renew now".
      return {
        at: t.now,
        reason: `set to renew when ${days} days remain, more than the ${duration(t.lifetime, true)} lifetime`,
        source: 'days',
      };
    }
    return {
      at: t.notAfter - days * DAY,
      reason: `set to renew when ${days} ${days === 1 ? 'day remains' : 'days remain'}`,
      source: 'days',
    };
  }
  if (t.ari) {
    const { start, end } = t.ari;
    const window = `ARI window ${iso(start)}–${iso(end)}`;
    if (end <= t.now) return { at: t.now, reason: `${window} has passed`, source: 'ari' };
    const at = start + unit(input.random) * (end - start);
    return { at, reason: at <= t.now ? `${window} is open` : window, source: 'ari' };
  }
  const short = t.lifetime < SHORT_LIFETIME_MS;
  const share = short ? 1 / 2 : 1 / 3;
  const jitter = unit(input.random) * JITTER_SHARE * t.lifetime;
  // Never at or past expiry, whatever the jitter.
  const at = Math.min(t.notAfter - t.lifetime * share + jitter, t.notAfter - 1);
  const left = short ? 'one half' : 'one third';
  return { at, reason: `${left} of the ${duration(t.lifetime, true)} lifetime left`, source: 'lifetime' };
}

function validWindow(ari: NonNullable<RenewalDecisionInput['ari']>): { start: number; end: number } {
  const start = time(ari.windowStart, 'ari.windowStart');
  const end = time(ari.windowEnd, 'ari.windowEnd');
  if (end <= start) {
    throw new InvalidInputError(
      'ARI window must end after it starts (validate renewal info before deciding)',
      ari,
    );
  }
  return { start, end };
}

function time(d: Date, name: string): number {
  const ms = d instanceof Date ? d.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidInputError(`${name} must be a valid Date`, d);
  return ms;
}

/** `random()` clamped into [0, 1], so a careless source cannot leave the window. */
function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
}

function iso(ms: number): string {
  return isoTime(ms);
}

/** "90 days" or, as an adjective, "90-day": whole units, the largest that reads naturally. */
function duration(ms: number, adjective = false): string {
  const [n, name] =
    ms >= 2 * DAY
      ? [ms / DAY, 'day']
      : ms >= 2 * HOUR
        ? [ms / HOUR, 'hour']
        : ms >= 10 * MINUTE
          ? [ms / MINUTE, 'minute']
          : [ms / 1000, 'second'];
  const count = Math.round(n);
  if (adjective) return `${count}-${name}`;
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}
