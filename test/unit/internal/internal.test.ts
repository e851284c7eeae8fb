import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { AbortedError } from '../../../src/errors/base.ts';
import {
  AcmeProblemError,
  problemClasses,
  problemToError,
  RateLimitedError,
} from '../../../src/errors/problem.ts';
import { writeFileAtomic } from '../../../src/internal/atomic-write.ts';
import { backoffDelay } from '../../../src/internal/backoff.ts';
import { systemClock } from '../../../src/internal/clock.ts';
import { Secret } from '../../../src/internal/secret.ts';

test('atomic write replaces the file whole, leaves no temp file, and keys get 0600 whatever the umask', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'key.pem');
  const old = process.umask(0);
  try {
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
  } finally {
    process.umask(old);
  }
  assert.equal(await readFile(path, 'utf8'), 'two');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'sub'))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(dir, 'sub')), ['key.pem']);
});

test('atomic write into a missing parent that is a file fails and leaves the target untouched', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'file'), 'x');
  await assert.rejects(writeFileAtomic(join(dir, 'file', 'key.pem'), 'y'));
  assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'x');
});

test('Secret prints redacted through String, JSON and inspect', () => {
  const s = new Secret('hunter2');
  assert.equal(`${s}`, '[redacted]');
  assert.equal(JSON.stringify({ s }), '{"s":"[redacted]"}');
  assert.ok(!inspect({ s }).includes('hunter2'));
  assert.equal(s.reveal(), 'hunter2');
});

test('backoff grows, is capped, and is never zero', () => {
  const opts = { baseMs: 100, maxMs: 1000, random: () => 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts)),
    [50, 100, 200, 400, 500, 500],
  );
  assert.equal(backoffDelay(3, { ...opts, random: () => 1 }), 400);
});

test('sleep honours an AbortSignal', async () => {
  const ac = new AbortController();
  const p = systemClock.sleep(60_000, ac.signal);
  ac.abort();
  await assert.rejects(p, AbortedError);
});

test('every RFC 8555 problem type maps to its own class with a stable code', () => {
  const seen = new Set<string>();
  for (const [short, cls] of Object.entries(problemClasses)) {
    const err = problemToError({ type: `urn:ietf:params:acme:error:${short}`, detail: 'd' }, {});
    assert.ok(err instanceof cls && err instanceof AcmeProblemError);
    assert.match(err.code, /^ERR_ACME_[A-Z_]+$/);
    assert.ok(!seen.has(err.code));
    seen.add(err.code);
  }
  assert.ok(
    problemToError({ type: 'urn:ietf:params:acme:error:rateLimited' }, {}) instanceof RateLimitedError,
  );
  assert.equal(problemToError({ type: 'urn:x:other' }, {}).code, 'ERR_ACME_PROBLEM');
});

test('problem details with ANSI escapes and newlines are sanitised before they reach a message', () => {
  const err = problemToError(
    { type: 'urn:ietf:params:acme:error:malformed', detail: 'bad\u001b[31m red\r\nline' },
    {},
  );
  assert.ok(!/[\u001b\r\n]/.test(err.message));
});
