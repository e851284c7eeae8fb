import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { SRC, sourceFiles } from '../support/source-files.ts';

// No import circle anywhere in src/, counting `import type` and dynamic import() too: a circle makes
// load order matter and keeps two files from being understood (or moved) one without the other.

// `import … from '…'`, `import type … from '…'`, `export … from '…'` (one or many lines), a bare
// `import '…'`, and `import('…')`. Only relative specifiers: packages cannot import src back.
const SPECIFIER =
  /\bfrom\s*(['"])(\.{1,2}\/[^'"]+)\1|\bimport\s*(['"])(\.{1,2}\/[^'"]+)\3|\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\5\s*\)/g;

/** The src file a relative specifier names, or undefined when it names none (package.json, a file outside src). */
function target(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && !relative(SRC, candidate).startsWith('..') && existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** Every src file and the src files it imports, in any of the ways above. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for await (const file of sourceFiles(SRC)) {
    const edges = new Set<string>();
    for (const m of (await readFile(file, 'utf8')).matchAll(SPECIFIER)) {
      const to = target(file, (m[2] ?? m[4] ?? m[6])!);
      if (to !== undefined) edges.add(to);
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Strongly connected components with more than one file, or one file importing itself (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One way round a component, e.g. "a.ts → b.ts → a.ts", so the message shows an import to cut. */
function loopThrough(component: string[], graph: Map<string, Set<string>>): string[] {
  const inside = new Set(component);
  const start = component[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x: string | undefined = v; x !== undefined && x !== start; x = cameFrom.get(x)) path.push(x);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

test('no import cycle in src/ (import type and dynamic import() included)', async () => {
  const graph = await importGraph();
  assert.ok(graph.size > 100, `the source files were read (${graph.size})`);
  const name = (file: string): string => relative(SRC, file).split(sep).join('/');
  const found = cycles(graph).map(
    (c) => `${c.map(name).join(', ')}\n    e.g. ${loopThrough(c, graph).map(name).join(' → ')}`,
  );
  assert.equal(
    found.length,
    0,
    `import cycles in src/ (each: its files, then one way round):\n  ${found.join('\n  ')}`,
  );
});

test('the cycle finder finds a cycle, a self-import, and nothing in a chain', () => {
  const g = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)] as const));
  assert.deepEqual(cycles(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] })), [['a', 'b', 'c']]);
  assert.deepEqual(cycles(g({ a: ['a'], b: [] })), [['a']]);
  assert.deepEqual(cycles(g({ a: ['b'], b: ['c'], c: [] })), []);
  const graph = g({ a: ['b'], b: ['c', 'a'], c: ['a'] });
  assert.deepEqual(loopThrough(['a', 'b', 'c'], graph), ['a', 'b', 'a']);
});
