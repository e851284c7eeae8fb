import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedError, ServerInternalError } from '../../../src/errors/problem.ts';
import { retryDelay } from '../../../src/server/retry-delay.ts';

const policy = { minMs: 60_000, maxMs: 86_400_000, random: () => 0.5 };
const NOW = Date.parse('2026-11-23T12:00:00Z');
const rateLimited = (detail: string, retryAfter?: Date) =>
  new RateLimitedError(
    { type: 'urn:ietf:params:acme:error:rateLimited', detail, status: 429 },
    retryAfter ? { retryAfter } : {},
  );

test('B8: a name the CA paused waits the longest backoff at once, and says why', () => {
  const error = rateLimited(
    'Your account is temporarily prevented from requesting certificates for b8.example.com; visit https://portal.ca.example/sfe/v1/unpause?jwt=x to unpause',
  );
  const d = retryDelay(error, 1, NOW, policy);
  assert.equal(d.delayMs, policy.maxMs);
  assert.match(d.why ?? '', /paused/);
});

test('B1: a Retry-After longer than the backoff is honoured, capped at the longest backoff', () => {
  const inAnHour = rateLimited('too many orders', new Date(NOW + 3_600_000));
  assert.deepEqual(retryDelay(inAnHour, 1, NOW, policy), {
    delayMs: 3_600_000,
    why: 'the CA asked to wait (Retry-After)',
  });
  const inAYear = rateLimited('too many orders', new Date(NOW + 365 * 86_400_000));
  assert.equal(retryDelay(inAYear, 1, NOW, policy).delayMs, policy.maxMs);
});

test('other failures back off exponentially; a Retry-After shorter than the backoff changes nothing', () => {
  const plain = new Error('connection refused');
  const first = retryDelay(plain, 1, NOW, policy).delayMs;
  const third = retryDelay(plain, 3, NOW, policy).delayMs;
  assert.ok(first >= policy.minMs / 2 && first <= policy.minMs, String(first));
  assert.ok(third > first * 3, `${third} vs ${first}`);
  const soon = new ServerInternalError(
    { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'x' },
    { retryAfter: new Date(NOW + 1000) },
  );
  assert.equal(retryDelay(soon, 1, NOW, policy).why, undefined);
});
