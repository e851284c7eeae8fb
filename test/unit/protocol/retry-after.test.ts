import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clampDelay, parseRetryAfter } from '../../../src/protocol/retry-after.ts';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT

describe('parseRetryAfter', () => {
  it('reads delta-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(' 0 ', NOW), 0);
  });

  it('reads an IMF-fixdate as the time left until it', () => {
    assert.equal(parseRetryAfter('Wed, 15 Jan 2025 12:01:30 GMT', NOW), 90_000);
  });

  it('accepts the obsolete rfc850 and asctime date forms (RFC 9110 §5.6.7)', () => {
    assert.equal(parseRetryAfter('Wednesday, 15-Jan-25 12:00:10 GMT', NOW), 10_000);
    assert.equal(parseRetryAfter('Wed Jan 15 12:00:20 2025', NOW), 20_000);
    assert.equal(parseRetryAfter('Sat Feb  1 12:00:00 2025', NOW), 17 * 86_400_000);
  });

  it('reads a two-digit rfc850 year more than 50 years ahead as the past', () => {
    assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 0);
  });

  it('gives 0 for a negative number', () => {
    assert.equal(parseRetryAfter('-5', NOW), 0);
  });

  it('gives 0 for a date in the past', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 0);
  });

  it('keeps a huge number finite', () => {
    const ms = parseRetryAfter('9'.repeat(400), NOW);
    assert.ok(ms !== undefined && Number.isFinite(ms) && ms > 0);
  });

  it('gives undefined for an absent header', () => {
    assert.equal(parseRetryAfter(undefined, NOW), undefined);
  });

  for (const garbage of [
    '',
    'soon',
    '1.5',
    '1e3',
    '0x10',
    '10 seconds',
    'Wed, 31 Feb 2025 12:00:00 GMT',
    'Wed, 15 Jan 2025 25:00:00 GMT',
    'Wed, 15 Foo 2025 12:00:00 GMT',
    '2025-01-15T12:00:00Z',
    'x'.repeat(10_000),
  ]) {
    it(`gives undefined for garbage ${JSON.stringify(garbage.slice(0, 40))}`, () => {
      assert.equal(parseRetryAfter(garbage, NOW), undefined);
    });
  }
});

describe('clampDelay', () => {
  const bounds = { minMs: 60_000, maxMs: 86_400_000 };

  it('keeps a delay inside the bounds', () => {
    assert.equal(clampDelay(120_000, bounds), 120_000);
  });

  it('raises a short delay to the minimum', () => {
    assert.equal(clampDelay(1_000, bounds), 60_000);
    assert.equal(clampDelay(-5, bounds), 60_000);
  });

  it('lowers a long delay to the maximum', () => {
    assert.equal(clampDelay(10 * 365 * 86_400_000, bounds), 86_400_000);
    assert.equal(clampDelay(Number.POSITIVE_INFINITY, bounds), 86_400_000);
  });

  it('treats NaN as the minimum', () => {
    assert.equal(clampDelay(Number.NaN, bounds), 60_000);
  });

  it('never exceeds what setTimeout can wait', () => {
    assert.equal(clampDelay(1e15, { minMs: 0, maxMs: 1e15 }), 2_147_483_647);
  });
});
