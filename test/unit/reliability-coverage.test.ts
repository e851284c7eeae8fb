import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

// test/RELIABILITY-COVERAGE.md maps each RELIABILITY.md row to the tests that cover it. This keeps it
// honest: a listed test must exist under that name, in that file, with the row's ID in its name. The
// checklist itself lives next to the repository (../shared/RELIABILITY.md), which CI does not clone:
// when it is there, every row of it must be listed too.

const ROOT = new URL('../../', import.meta.url);
const COVERAGE = new URL('test/RELIABILITY-COVERAGE.md', ROOT);
const CHECKLIST = new URL('../shared/RELIABILITY.md', ROOT);
const STATUSES = ['covered', 'partial', 'missing', 'n/a'] as const;
const ID = /^[A-G]\d{1,2}$/;

interface Line {
  id: string;
  status: string;
  file: string;
  name: string;
  lineNo: number;
}

function coverageLines(): Line[] {
  const out: Line[] = [];
  readFileSync(COVERAGE, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!/^\| [A-G]\d{1,2} \|/.test(text)) return;
      const cells = text.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
      assert.equal(cells.length, 4, `line ${i + 1}: four columns (ID, status, file, name or reason)`);
      const [id, status, file, name] = cells as [string, string, string, string];
      out.push({ id, status, file, name, lineNo: i + 1 });
    });
  return out;
}

/** The first argument of every test(), it() and describe() in a file, as written in the source. */
function testNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/\b(?:test|it|describe)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*?)\1/gs)) {
    names.add(m[2]!);
  }
  return names;
}

test('RELIABILITY-COVERAGE.md: every test it names exists in its file and carries the row ID', () => {
  const lines = coverageLines();
  assert.ok(lines.length > 60, 'the table was read');
  const sources = new Map<string, Set<string>>();
  const statusOf = new Map<string, string>();
  for (const l of lines) {
    const where = `line ${l.lineNo} (${l.id})`;
    assert.match(l.id, ID, where);
    assert.ok((STATUSES as readonly string[]).includes(l.status), `${where}: status ${l.status}`);
    const earlier = statusOf.get(l.id);
    assert.ok(earlier === undefined || earlier === l.status, `${where}: one status per row`);
    statusOf.set(l.id, l.status);
    if (l.status === 'missing' || l.status === 'n/a') {
      assert.equal(l.file, '—', `${where}: no test file for a ${l.status} row`);
      assert.ok(l.name.length > 20, `${where}: says why`);
      continue;
    }
    assert.ok(existsSync(new URL(l.file, ROOT)), `${where}: ${l.file} exists`);
    if (!sources.has(l.file)) sources.set(l.file, testNames(readFileSync(new URL(l.file, ROOT), 'utf8')));
    assert.ok(sources.get(l.file)!.has(l.name), `${where}: ${l.file} has a test named "${l.name}"`);
    assert.match(
      l.name,
      new RegExp(`\\b${l.id}\\b`),
      `${where}: the test name carries ${l.id}, readable in the output`,
    );
  }
  const seen = new Set(lines.map((l) => `${l.id} ${l.file} ${l.name}`));
  assert.equal(seen.size, lines.length, 'no line is listed twice');
});

test('RELIABILITY-COVERAGE.md lists every row of RELIABILITY.md (when the checklist is next to the repository)', (t) => {
  if (!existsSync(CHECKLIST)) {
    t.skip('../shared/RELIABILITY.md is not next to the repository (CI clones the repository only)');
    return;
  }
  const rows = [...readFileSync(CHECKLIST, 'utf8').matchAll(/^\| ([A-G]\d{1,2}) \|/gm)].map((m) => m[1]!);
  assert.ok(rows.length > 60, 'the checklist was read');
  const listed = new Set(coverageLines().map((l) => l.id));
  assert.deepEqual(
    rows.filter((r) => !listed.has(r)),
    [],
    'rows of the checklist missing from the coverage file',
  );
  assert.deepEqual(
    [...listed].filter((id) => !rows.includes(id)),
    [],
    'IDs in the coverage file that the checklist does not have',
  );
  const counts = new Map<string, number>();
  for (const id of listed) {
    const status = coverageLines().find((l) => l.id === id)!.status;
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  t.diagnostic(`rows: ${rows.length}; ${[...counts].map(([s, n]) => `${s} ${n}`).join(', ')}`);
});
