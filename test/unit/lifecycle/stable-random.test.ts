import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableRandom } from '../../../src/lifecycle/decide.ts';

test('stableRandom: the same certificate gets the same draws on every run', () => {
  const a = stableRandom('03a1 2026-01-01T00:00:00.000Z');
  const b = stableRandom('03a1 2026-01-01T00:00:00.000Z');
  const first = [a(), a(), a()];
  assert.deepEqual([b(), b(), b()], first);
  assert.notEqual(first[0], first[1], 'successive draws differ');
  assert.notEqual(stableRandom('03a2 2026-01-01T00:00:00.000Z')(), first[0], 'another serial, another time');
});

test('stableRandom: draws over many certificates stay in [0, 1) and spread evenly', () => {
  const draws = Array.from({ length: 4000 }, (_, i) => stableRandom(`serial-${i}`)());
  assert.ok(draws.every((d) => d >= 0 && d < 1));
  const quarters = [0, 0, 0, 0];
  for (const d of draws) quarters[Math.floor(d * 4)]! += 1;
  for (const q of quarters) assert.ok(q > 850 && q < 1150, `quarter count ${q} of 4000`);
});
