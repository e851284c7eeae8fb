import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { SRC, sourceFiles } from '../support/source-files.ts';

// docs/architecture.md: each folder imports only folders listed above it; internal and errors are leaves for everyone.
const LAYERS = ['crypto', 'protocol', 'acme', 'storage', 'dns', 'solvers', 'lifecycle', 'server', 'cli'];
const LEAVES = new Set(['internal', 'errors', 'types']);

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : '.';
}

test('no folder in src imports a layer below it (DESIGN.md layers)', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    if (from === '.' || LEAVES.has(from)) {
      if (LEAVES.has(from)) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'|import\('(\.{1,2}\/[^']+)'\)/g)) {
          const target = resolve(dirname(file), (m[1] ?? m[2])!);
          if (target.endsWith('package.json')) continue;
          const to = layerOf(target);
          if (!LEAVES.has(to)) violations.push(`${relative(SRC, file)} → ${to}`);
        }
      }
      continue;
    }
    const rank = LAYERS.indexOf(from);
    assert.ok(rank >= 0, `unknown folder src/${from}: add it to DESIGN.md and this test`);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'|import\('(\.{1,2}\/[^']+)'\)/g)) {
      const to = layerOf(resolve(dirname(file), (m[1] ?? m[2])!));
      if (to === from || LEAVES.has(to)) continue;
      if (to === '.' || LAYERS.indexOf(to) > rank) violations.push(`${relative(SRC, file)} → ${to}`);
    }
  }
  assert.deepEqual(violations, []);
});
