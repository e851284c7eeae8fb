import assert from 'node:assert/strict';
import { CorruptFileError } from '../../src/errors/storage.ts';

/** An assert.throws/rejects validator: a CorruptFileError for `path` that names it (and matches `pattern`). */
export function corruptFile(path: string, pattern?: RegExp) {
  return (err: unknown): true => {
    assert.ok(err instanceof CorruptFileError, String(err));
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}
