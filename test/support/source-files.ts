import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's src/ folder. */
export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every .ts file below `dir`, depth first. */
export async function* sourceFiles(dir: string = SRC): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}
