import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../../src/errors/base.ts';
import {
  type RenewalDecisionInput,
  renewalDecision,
  retryBackoffMs,
} from '../../../src/lifecycle/renewal-decision.ts';

const S = 1000;
const MIN = 60 * S;
const DAY = 86_400 * S;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(ms);

/** Deterministic PRNG (mulberry32) so the sampling tests are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const noRandom = () => assert.fail('random() must not be consulted here');

type Extra = Partial<RenewalDecisionInput>;
function cert(life: number, now: number, x: Extra = {}, from = T0): RenewalDecisionInput {
  return { now: at(now), notBefore: at(from), notAfter: at(from + life), random: () => 0, ...x };
}

const failed = (when: number, failures: number): Extra => ({ lastFailure: { at: at(when), failures } });

/** Where renewAt falls as a share of the lifetime. */
const share = (lifetime: number, r: { renewAt: Date }) => (r.renewAt.getTime() - T0) / lifetime;

describe('renewalDecision: lifetime rule', () => {
  it('90-day certificate: one third left, plus up to 5 % of lifetime of jitter', () => {
    const life = 90 * DAY;
    const early = renewalDecision(cert(life, T0 + DAY, { random: () => 0 }));
    const { renewAt, due, source, reason } = early;
    assert.deepEqual([renewAt.getTime(), due, source], [T0 + 60 * DAY, false, 'lifetime']);
    assert.equal(reason, 'one third of the 90-day lifetime left');
    const late = renewalDecision(cert(life, T0 + DAY, { random: () => 0.999999 }));
    assert.ok(late.renewAt.getTime() <= T0 + 64.5 * DAY && late.renewAt.getTime() > T0 + 64 * DAY);
    const now = renewalDecision(cert(life, T0 + 70 * DAY));
    assert.deepEqual([now.due, now.renewAt.getTime()], [true, T0 + 70 * DAY], 'a due decision says now');
  });

  it('6-day certificate (shorter than 10 days): one half left', () => {
    const life = 6 * DAY;
    const r = renewalDecision(cert(life, T0 + DAY));
    assert.equal(r.renewAt.getTime(), T0 + 3 * DAY);
    assert.equal(r.reason, 'one half of the 6-day lifetime left');
    assert.equal(renewalDecision(cert(life, T0 + 3.5 * DAY, { random: () => 0.99 })).due, true);
  });

  it('the 10-day boundary: exactly 10 days uses the third, anything shorter the half', () => {
    assert.equal(share(10 * DAY, renewalDecision(cert(10 * DAY, T0))), 2 / 3);
    assert.ok(Math.abs(share(10 * DAY - 1, renewalDecision(cert(10 * DAY - 1, T0))) - 0.5) < 1e-6);
  });

  it('A18: a 120-second certificate renews between 50 % and ~55 % of its lifetime, spread by jitter', () => {
    const life = 120 * S;
    const random = seeded(18);
    const shares = Array.from({ length: 2000 }, () =>
      share(life, renewalDecision(cert(life, T0, { random }))),
    );
    assert.ok(
      shares.every((s) => s >= 0.5 && s <= 0.55),
      `${Math.min(...shares)}..${Math.max(...shares)}`,
    );
    assert.ok(Math.min(...shares) < 0.505 && Math.max(...shares) > 0.545, 'jitter uses its whole range');
    assert.equal(renewalDecision(cert(life, T0)).reason, 'one half of the 120-second lifetime left');
  });

  it('is pure: the same input gives the same answer, whatever the real clock says', () => {
    const input = cert(90 * DAY, T0 + 5 * DAY, { random: () => 0.42 });
    assert.deepEqual(renewalDecision(input), renewalDecision(input));
    const future = Date.parse('2040-01-01T00:00:00Z');
    const r = renewalDecision(cert(90 * DAY, future + DAY, { random: () => 0.42 }, future));
    assert.equal(r.renewAt.getTime(), future + 60 * DAY + 0.42 * 0.05 * 90 * DAY);
  });
});

describe('renewalDecision: ARI window', () => {
  const life = 90 * DAY;
  const start = T0 + 60 * DAY;
  const end = T0 + 62 * DAY;
  const ari = { windowStart: at(start), windowEnd: at(end), explanationUrl: 'https://ca.example/why' };

  it('B9(b): picks a time uniformly inside the window (20 000 samples, 20 buckets)', () => {
    const random = seeded(9773);
    const buckets = new Array<number>(20).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const r = renewalDecision(cert(life, T0 + DAY, { ari, random }));
      const t = r.renewAt.getTime();
      assert.ok(t >= start && t <= end, new Date(t).toISOString());
      assert.equal(r.due, false);
      buckets[Math.min(19, Math.floor(((t - start) / (end - start)) * 20))]! += 1;
    }
    const expected = n / 20;
    for (const b of buckets) assert.ok(Math.abs(b - expected) < expected * 0.12, `bucket ${b}`);
    const chi2 = buckets.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 43.8, `chi² ${chi2} (19 degrees of freedom, p = 0.001)`); // uniform, not just bounded
  });

  it('maps random() linearly onto the window and explains itself', () => {
    const r = renewalDecision(cert(life, T0 + DAY, { ari, random: () => 0.5 }));
    assert.equal(r.renewAt.getTime(), start + DAY);
    assert.equal(r.source, 'ari');
    assert.equal(r.reason, 'ARI window 2026-04-30T00:00:00.000Z–2026-05-02T00:00:00.000Z');
    assert.deepEqual(r.ariWindow, { start: at(start), end: at(end) });
    assert.equal(r.explanationUrl, 'https://ca.example/why');
    for (const bad of [-1, 1.5, Number.NaN]) {
      const t = renewalDecision(cert(life, T0 + DAY, { ari, random: () => bad })).renewAt.getTime();
      assert.ok(t >= start && t <= end, `random() = ${bad} stays inside`);
    }
  });

  it('B9(a)/C12: a window entirely in the past means due now, never a negative sleep', () => {
    const past = { windowStart: at(T0 + 2 * DAY), windowEnd: at(T0 + 3 * DAY) };
    const now = T0 + 10 * DAY;
    const r = renewalDecision(cert(life, now, { ari: past, random: noRandom }));
    assert.equal(r.due, true);
    assert.equal(r.renewAt.getTime(), now);
    assert.match(r.reason, /has passed/);
  });

  it('an open window whose chosen time has passed is due now', () => {
    const now = start + DAY;
    const random = seeded(1);
    for (let i = 0; i < 200; i++) {
      const r = renewalDecision(cert(life, now, { ari, random }));
      assert.ok(r.renewAt.getTime() >= now, 'never before now');
      assert.equal(r.due, r.renewAt.getTime() === now);
    }
  });

  it('the caller validates the window: end not after start is refused, not guessed at', () => {
    // fetchRenewalInfo already rejects such windows (RFC 9773 §4.2), so this is a programming error.
    for (const w of [
      { windowStart: at(end), windowEnd: at(start) },
      { windowStart: at(start), windowEnd: at(start) },
      { windowStart: new Date('nope'), windowEnd: at(end) },
    ]) {
      assert.throws(() => renewalDecision(cert(life, T0, { ari: w })), InvalidInputError);
    }
  });
});

describe('renewalDecision: expired and renewDays', () => {
  const life = 90 * DAY;

  it('an expired certificate is due now, whatever ARI says', () => {
    const future = { windowStart: at(T0 + 100 * DAY), windowEnd: at(T0 + 101 * DAY) };
    const now = T0 + 91 * DAY;
    const r = renewalDecision(cert(life, now, { ari: future, renewDays: 30 }));
    assert.deepEqual([r.due, r.source, r.renewAt.getTime()], [true, 'expired', now]);
    assert.equal(r.reason, 'expired at 2026-05-30T00:00:00.000Z');
  });

  it('renewDays overrides ARI and the lifetime rule, without jitter', () => {
    const ari = { windowStart: at(T0 + 60 * DAY), windowEnd: at(T0 + 62 * DAY) };
    const r = renewalDecision(cert(life, T0 + DAY, { ari, renewDays: 30, random: noRandom }));
    assert.deepEqual([r.renewAt.getTime(), r.source], [T0 + 60 * DAY, 'days']);
    assert.equal(r.reason, 'set to renew when 30 days remain');
    assert.ok(r.ariWindow, 'the ARI window is still reported');
    assert.equal(renewalDecision(cert(life, T0 + 61 * DAY, { renewDays: 30 })).due, true);
    const half = renewalDecision(cert(life, T0 + DAY, { renewDays: 0.5 }));
    assert.equal(half.renewAt.getTime(), T0 + 89.5 * DAY);
  });

  it('renewDays must be more than 0; one at least as long as the lifetime means renew now', () => {
    for (const days of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => renewalDecision(cert(life, T0, { renewDays: days })), InvalidInputError, `${days}`);
    }
    for (const days of [90, 365]) {
      const d = renewalDecision(cert(life, T0, { renewDays: days }));
      assert.equal(d.due, true);
      assert.match(d.reason, /more than the 90-day lifetime/);
    }
    const short = renewalDecision(cert(6 * DAY, T0, { renewDays: 7 }));
    assert.equal(short.due, true);
    assert.match(short.reason, /6-day lifetime/);
  });

  it('refuses certificate dates that make no sense', () => {
    assert.throws(() => renewalDecision(cert(0, T0)), InvalidInputError);
    assert.throws(() => renewalDecision(cert(-DAY, T0)), InvalidInputError);
    assert.throws(() => renewalDecision({ ...cert(DAY, T0), now: new Date(Number.NaN) }), InvalidInputError);
  });
});

describe('renewalDecision: backoff after failures', () => {
  it("retryBackoffMs follows Let's Encrypt's guide: 1 min, 10 min, 100 min, then a day", () => {
    const steps = [0, MIN, 10 * MIN, 100 * MIN, DAY, DAY, DAY];
    assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map(retryBackoffMs), steps);
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => retryBackoffMs(bad), InvalidInputError);
  });

  it('a due certificate waits out the backoff after the last failure', () => {
    const life = 90 * DAY;
    const now = T0 + 70 * DAY;
    const r = renewalDecision(cert(life, now, failed(now - 30 * S, 1)));
    assert.deepEqual([r.due, r.source, r.renewAt.getTime()], [false, 'backoff', now + 30 * S]);
    assert.match(r.reason, /^1 failed attempt, the last at .*: backing off 60 seconds \(one third of/);
    const three = renewalDecision(cert(life, now, failed(now - 60 * MIN, 3)));
    assert.equal(three.renewAt.getTime(), now + 40 * MIN);
    const over = renewalDecision(cert(life, now, failed(now - 2 * MIN, 1)));
    assert.deepEqual([over.due, over.source], [true, 'lifetime']);
  });

  it('G4: five cron runs a minute apart contact the CA only when the backoff allows', () => {
    const life = 90 * DAY;
    let lastFailure: { at: Date; failures: number } | undefined;
    const attempts: boolean[] = [];
    for (let run = 0; run < 5; run++) {
      const now = T0 + 70 * DAY + run * MIN;
      const { due } = renewalDecision(cert(life, now, { lastFailure }));
      attempts.push(due);
      if (due) lastFailure = { at: at(now), failures: (lastFailure?.failures ?? 0) + 1 }; // every attempt fails
    }
    assert.deepEqual(attempts, [true, true, false, false, false]);
  });

  it('backoff does not delay a renewal that is not due anyway', () => {
    const r = renewalDecision(cert(90 * DAY, T0 + DAY, failed(T0 + DAY, 4)));
    assert.deepEqual([r.source, r.renewAt.getTime()], ['lifetime', T0 + 60 * DAY]);
  });

  it('when the certificate expires before the backoff ends, only the first 1-minute step applies', () => {
    const life = 6 * DAY;
    const now = T0 + life - 2 * 3_600_000; // two hours left, a 1-day backoff would outlive it
    const soon = renewalDecision(cert(life, now, failed(now - 30 * S, 4)));
    assert.deepEqual([soon.due, soon.source, soon.renewAt.getTime()], [false, 'backoff', now + 30 * S]);
    assert.match(soon.reason, /expires before the 24-hour backoff ends/);
    const later = renewalDecision(cert(life, now, failed(now - 2 * MIN, 4)));
    assert.deepEqual([later.due, later.source], [true, 'lifetime']);
    const expired = T0 + life + DAY;
    const gone = renewalDecision(cert(life, expired, failed(expired - 10 * S, 9)));
    assert.deepEqual([gone.due, gone.source], [false, 'backoff']);
    const retry = renewalDecision(cert(life, expired, failed(expired - MIN, 9)));
    assert.deepEqual([retry.due, retry.source], [true, 'expired']);
  });
});

describe('renewalDecision: C12 clock skew of ±2 days', () => {
  const life = 90 * DAY;

  for (const skew of [-2 * DAY, 2 * DAY]) {
    it(`${skew > 0 ? '+' : '−'}2 days: decided from the certificate's own dates, never a negative sleep`, () => {
      // Just issued: the client's clock may even be before notBefore.
      const fresh = renewalDecision(cert(life, T0 + skew, { random: () => 0.5 }));
      assert.equal(fresh.due, false);
      assert.equal(fresh.renewAt.getTime(), T0 + 60 * DAY + 0.5 * 0.05 * life);
      // Near the renewal time: due or not, renewAt is never before the client's now.
      for (const real of [T0 + 59 * DAY, T0 + 61 * DAY, T0 + 89 * DAY, T0 + 91 * DAY]) {
        const now = real + skew;
        const r = renewalDecision(cert(life, now));
        assert.ok(r.renewAt.getTime() >= now);
        assert.equal(r.due, r.renewAt.getTime() === now);
      }
      // A failure stamped by a clock that was ahead is counted from now, so the wait stays bounded.
      const now = T0 + 70 * DAY;
      const future = renewalDecision(cert(life, now, failed(now + 2 * DAY, 1)));
      assert.equal(future.renewAt.getTime(), now + MIN);
    });
  }

  it('an ARI window that looks past because of skew renews now', () => {
    const now = T0 + 63 * DAY;
    const ari = { windowStart: at(T0 + 60 * DAY), windowEnd: at(T0 + 62 * DAY) };
    const r = renewalDecision(cert(life, now, { ari }));
    assert.deepEqual([r.due, r.renewAt.getTime()], [true, now]);
  });
});
