import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as errors from '../../../src/errors/index.ts';
import { problemClasses } from '../../../src/errors/problem.ts';

// docs/errors.md against the code: the classes come from what acmekit/errors exports, the codes from
// `errorCodes` (the runtime list behind the AcmekitErrorCode type), so neither list can drift.

const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

interface Row {
  code: string;
  className: string;
  cells: string[];
}
const rows: Row[] = [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| `(\w+)` \|(.*)\|\s*$/gm)].map((m) => ({
  code: m[1]!,
  className: m[2]!,
  cells: m[3]!.split(' | ').map((c) => c.trim()),
}));

type ErrorClass = new (...args: never[]) => errors.AcmekitError;

/** The exported classes below AcmekitError, by name. */
const classes = new Map<string, ErrorClass>();
for (const [name, value] of Object.entries(errors)) {
  if (typeof value === 'function' && value.prototype instanceof errors.AcmekitError) {
    classes.set(name, value as ErrorClass);
  }
}

/** An instance of an exported class, to read the code it carries. */
function sample(name: string, cls: ErrorClass): errors.AcmekitError {
  if (cls === errors.AcmeProblemError || cls.prototype instanceof errors.AcmeProblemError) {
    return new (cls as unknown as typeof errors.AcmeProblemError)({ type: 'urn:x' });
  }
  if (cls === errors.HookError) {
    const result = { exitCode: 1, signal: null, timedOut: false, stdout: '', stderr: '', durationMs: 1 };
    return new errors.HookError('deploy hook', 'true', result);
  }
  // Every other constructor takes strings first; a class that does not gets its own case above.
  const Ctor = cls as unknown as new (a: string, b: string) => errors.AcmekitError;
  const instance = new Ctor('m', 'u');
  assert.equal(instance.name, name);
  return instance;
}

test('docs/errors.md has one row for every code in errorCodes, and no row for any other code', () => {
  const documented = rows.map((r) => r.code).sort();
  assert.deepEqual(documented, [...errors.errorCodes].sort());
});

test('docs/errors.md names no code that does not exist', () => {
  const known = new Set<string>(errors.errorCodes);
  // ERR_UNKNOWN is the stand-in of the CLI's --json output and of the server metrics for an error
  // without a code; the page says it is not an acmekit code.
  known.add('ERR_UNKNOWN');
  const unknown = [...new Set(doc.match(/\bERR_[A-Z0-9_]+/g))].filter((c) => !known.has(c));
  assert.deepEqual(unknown, []);
});

test('every error class acmekit/errors exports has a row with the code its errors carry', () => {
  const codes = new Set<string>(errors.errorCodes);
  const actual = [...classes].map(([name, cls]) => {
    const { code } = sample(name, cls);
    assert.ok(codes.has(code), `${name}: ${code} is missing from errorCodes`);
    return `${name} ${code}`;
  });
  const documented = rows.map((r) => `${r.className} ${r.code}`);
  assert.deepEqual(documented.sort(), actual.sort());
  assert.match(doc, /`AcmekitError`/);
});

test('every row says what the error means and what to do', () => {
  for (const r of rows) {
    const [meaning, whatToDo] = r.cells.slice(-2);
    assert.ok(r.cells.length >= 2 && meaning && whatToDo, `${r.code}: meaning and what to do`);
  }
});

test('every ACME problem class is exported, and its row names its ACME type', () => {
  const byClass = new Map(rows.map((r) => [r.className, r]));
  for (const [type, cls] of Object.entries(problemClasses)) {
    assert.equal(classes.get(cls.name), cls, `${cls.name} is not exported by acmekit/errors`);
    assert.equal(byClass.get(cls.name)?.cells[0], type, `${cls.name}: ACME type column`);
  }
});
