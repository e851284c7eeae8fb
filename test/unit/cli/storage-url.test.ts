import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Options } from '../../../src/cli/options.ts';
import { applyDefaults, applyEnvironment, parseArgs } from '../../../src/cli/parse-args.ts';
import { parseStorageUrl, storageFrom } from '../../../src/cli/storage-url.ts';
import { UsageError } from '../../../src/errors/usage.ts';

test('--storage reads file:DIR, file:///dir, a plain folder, postgres(ql):// and redis(s)://', () => {
  assert.deepEqual(parseStorageUrl('file:rel/dir', '--storage'), { kind: 'file', dir: resolve('rel/dir') });
  assert.deepEqual(parseStorageUrl('file:///srv/acme', '--storage'), { kind: 'file', dir: '/srv/acme' });
  assert.deepEqual(parseStorageUrl('/srv/acme', '--storage'), { kind: 'file', dir: '/srv/acme' });
  for (const url of [
    'postgres://u:p@h/db',
    'postgresql://h/db?sslmode=require',
    'postgres:///db?host=/run/pg',
  ]) {
    assert.deepEqual(parseStorageUrl(url, '--storage'), { kind: 'postgres', url });
  }
  for (const url of ['redis://:p@h:6379/0', 'rediss://h']) {
    assert.deepEqual(parseStorageUrl(url, '--storage'), { kind: 'redis', url });
  }
});

test('an unknown scheme or a broken URL is a usage error that never shows the password', () => {
  for (const url of ['mysql://u:s3cret@h/db', 'postgres://u:s3cret@[::1', 'file:', 'file://host/x']) {
    assert.throws(
      () => parseStorageUrl(url, '--storage'),
      (err: unknown) => err instanceof UsageError && !err.message.includes('s3cret'),
      url,
    );
  }
});

function options(argv: string[], env: NodeJS.ProcessEnv = {}): Options {
  const parsed = parseArgs(argv);
  applyEnvironment(parsed, env);
  applyDefaults(parsed);
  return new Options(parsed);
}

test('--path and --storage together must name the same folder; ACMEKIT_STORAGE counts as --storage', () => {
  assert.deepEqual(storageFrom(options(['list'])), { kind: 'file', dir: resolve('.lego') });
  assert.deepEqual(storageFrom(options(['list', '--path', '/a'])), { kind: 'file', dir: '/a' });
  assert.deepEqual(storageFrom(options(['list', '--path', '/a', '--storage', 'file:/a'])), {
    kind: 'file',
    dir: '/a',
  });
  assert.throws(
    () => storageFrom(options(['list', '--path', '/a', '--storage', 'redis://:s3cret@h'])),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === '--path /a and --storage redis://:***@h name different storage; keep one',
  );
  assert.throws(
    () => storageFrom(options(['list'], { LEGO_PATH: '/b', ACMEKIT_STORAGE: 'postgres://h/db' })),
    /environment variable LEGO_PATH \/b and environment variable ACMEKIT_STORAGE postgres:\/\/h\/db name different storage/,
  );
  assert.deepEqual(storageFrom(options(['list'], { ACMEKIT_STORAGE: 'postgres://h/db' })), {
    kind: 'postgres',
    url: 'postgres://h/db',
  });
});
