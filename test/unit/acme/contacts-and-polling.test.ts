import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeContacts } from '../../../src/acme/contacts.ts';
import { defaultPollPolicy, pollUntil } from '../../../src/acme/polling.ts';
import { InvalidInputError, TimeoutError } from '../../../src/errors/base.ts';
import type { Clock } from '../../../src/internal/clock.ts';

function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

test('contacts: bare addresses gain mailto:, duplicates drop, bad ones name the value', () => {
  assert.deepEqual(normalizeContacts(['a@example.com', 'mailto:a@example.com', ' b@example.org ']), [
    'mailto:a@example.com',
    'mailto:b@example.org',
  ]);
  for (const bad of [
    'http://x.example',
    'a@b@c.example',
    'a@example.com\r\nBcc: x@y.z',
    'nobody',
    'a@localhost',
    'mailto:a@example.com?cc=b@example.com',
  ]) {
    assert.throws(
      () => normalizeContacts(bad),
      (err: unknown) => err instanceof InvalidInputError && err.message.includes(JSON.stringify(bad.trim())),
    );
  }
});

test('A4: polling: the first poll is quick, later ones back off, none is a fixed 5 s', async () => {
  const clock = fakeClock();
  let calls = 0;
  await pollUntil(
    'x',
    async () => ({ value: ++calls, retryAfterMs: undefined }),
    (v) => v >= 6,
    {
      policy: defaultPollPolicy,
      clock,
      random: () => 0.5,
    },
  );
  assert.equal(clock.sleeps[0], defaultPollPolicy.firstDelayMs);
  for (let i = 1; i < clock.sleeps.length; i++) assert.ok(clock.sleeps[i]! >= clock.sleeps[i - 1]!);
  assert.ok(!clock.sleeps.includes(5000));
});

test('polling: Retry-After wins, clamped to the policy bounds', async () => {
  const clock = fakeClock();
  const answers = [2000, 10_000_000, 0];
  let i = 0;
  await pollUntil(
    'x',
    async () => ({ value: i, retryAfterMs: answers[i++] }),
    (v) => v >= 3,
    {
      policy: defaultPollPolicy,
      clock,
    },
  );
  assert.deepEqual(clock.sleeps.slice(1), [
    2000,
    defaultPollPolicy.maxRetryAfterMs,
    defaultPollPolicy.minRetryAfterMs,
  ]);
});

test('A4: polling: gives up with TimeoutError at the deadline', async () => {
  const clock = fakeClock();
  await assert.rejects(
    pollUntil(
      'order x',
      async () => ({ value: 'pending', retryAfterMs: undefined }),
      () => false,
      {
        policy: { ...defaultPollPolicy, timeoutMs: 60_000 },
        clock,
      },
    ),
    (err: unknown) => err instanceof TimeoutError && /order x/.test(err.message),
  );
  assert.ok(clock.now() <= 60_000 + defaultPollPolicy.maxDelayMs);
});
