import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as errors from '../../../src/errors/index.ts';

test('docs/errors.md lists every error class with its code, and nothing else', async () => {
  const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \|/gm)) documented.set(m[2]!, m[1]!);

  const actual = new Map<string, string>();
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error) || name === 'AcmekitError')
      continue;
    const instance =
      value.prototype instanceof errors.AcmeProblemError || value === errors.AcmeProblemError
        ? new (value as typeof errors.AcmeProblemError)({ type: 'urn:x' })
        : value === errors.SolverError
          ? new errors.SolverError('http-01', 'x', 'y')
          : value === errors.AuthorizationFailedError
            ? new errors.AuthorizationFailedError('x', undefined, undefined)
            : new (value as new (m: string, u?: unknown) => errors.AcmekitError)('m', 'u');
    actual.set(name, (instance as errors.AcmekitError).code);
  }
  assert.deepEqual([...documented.entries()].sort(), [...actual.entries()].sort());
});
