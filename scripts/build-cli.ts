/**
 * Bundles the CLI for the package's `bin` (run by `npm run build` after tsc):
 *
 *   dist/bin/acmekit.cjs       src/cli/bin.ts: the launcher; answers --version itself, and runs the
 *                              main bundle through the compile cache (src/internal/compile-cache.ts)
 *   dist/bin/acmekit-main.cjs  src/cli/main.ts and every module of ours it can load
 *
 * Why (bench/README.md has the figures): Node 20 loads ES modules one file at a time (resolve,
 * read, compile, link), which cost the CLI tens of ms for ~70 files, and starting the ES module
 * loader at all costs ~12 ms; CommonJS in two files needs neither. Inside the bundle, each module
 * of ours still runs only when first imported (esbuild keeps `import()` lazy), and with CommonJS
 * output node: built-ins are required at that moment too, not all at start-up.
 *
 * npm packages stay outside (they are dependencies, and pg and @redis/client are optional peers) and
 * are loaded with `import()` only when used, so yaml, @peculiar/asn1-*, the proxy agent, pg and
 * @redis/client cost nothing on the paths that do not need them. The launcher compiles the main bundle
 * with node:vm to use V8's code cache, and a vm script has no `import()` of its own on Node 20 (only
 * behind --experimental-vm-modules): so each `import("pkg")` of the main bundle is rewritten into
 * `__acmekitImport("pkg")`, a function the launcher passes in that runs Node's own `import()`. The
 * rewrite is checked against esbuild's list of the bundle's external dynamic imports.
 * The library itself is not bundled: dist/*.js from tsc is what `import 'acmekit'` gets.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { BUNDLE_HEAD, BUNDLE_TAIL } from '../src/internal/compile-cache.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { version: string };

/** src/internal/version.ts imports package.json for its version: give the bundle that field only. */
const versionOnly: Plugin = {
  name: 'package-json-version-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, () => ({
      contents: JSON.stringify({ version: pkg.version }),
      loader: 'json',
    }));
  },
};

/** main.ts is the other bundle: the launcher never bundles it (its `import('./main.ts')` is for tsx only). */
const mainIsSeparate: Plugin = {
  name: 'main-is-separate',
  setup(b) {
    b.onResolve({ filter: /^\.\/main\.ts$/ }, () => ({ path: `./${MAIN_BUNDLE}`, external: true }));
  },
};

const MAIN_BUNDLE = 'acmekit-main.cjs';

/** `import("pkg")` → `__acmekitImport("pkg")`, exactly as often as esbuild says the bundle imports pkg. */
function routeDynamicImports(
  text: string,
  imports: { path: string; kind: string; external?: boolean }[],
): string {
  const expected = new Map<string, number>();
  for (const i of imports) {
    if (i.kind === 'dynamic-import' && i.external) expected.set(i.path, (expected.get(i.path) ?? 0) + 1);
  }
  let out = text;
  for (const [path, count] of expected) {
    const call = `import(${JSON.stringify(path)})`;
    const found = out.split(call).length - 1;
    if (found !== count) throw new Error(`${MAIN_BUNDLE}: expected ${count} × ${call}, found ${found}`);
    out = out.replaceAll(call, `__acmekitImport(${JSON.stringify(path)})`);
  }
  if (/\bimport\(/.test(out))
    throw new Error(`${MAIN_BUNDLE}: an import() is left that the launcher cannot serve`);
  return out;
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.19',
  packages: 'external',
  // AcmekitError sets `name` from new.target.name; the bundler must not rename classes (Foo → Foo2).
  keepNames: true,
  // Smaller text parses faster; identifiers stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [versionOnly],
};

const mainFile = `${root}dist/bin/${MAIN_BUNDLE}`;
const main = await build({
  ...common,
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: mainFile,
  write: false,
  metafile: true,
});
const mainOutput = main.outputFiles[0]!;
const mainImports = Object.values(main.metafile.outputs)[0]?.imports ?? [];
await mkdir(dirname(mainFile), { recursive: true });
// The launcher compiles the file as it is: one function expression (see BUNDLE_HEAD).
const mainText = `${BUNDLE_HEAD}${routeDynamicImports(mainOutput.text, mainImports)}${BUNDLE_TAIL}`;
// One character above U+00FF would make V8 keep the whole source as two-byte text (twice the memory),
// and the launcher's cache key hashes it as Latin-1.
const wide = /[^\u0000-\u00ff]/.exec(mainText);
if (wide)
  throw new Error(
    `${MAIN_BUNDLE}: ${JSON.stringify(mainText.slice(wide.index - 40, wide.index + 40))} has a character above U+00FF`,
  );
await writeFile(mainFile, mainText);
await build({
  ...common,
  entryPoints: [`${root}src/cli/bin.ts`],
  outfile: `${root}dist/bin/acmekit.cjs`,
  // Only the launcher's `import(specifier)` (for the main bundle's npm packages) stays a real import().
  define: { ACMEKIT_MAIN_BUNDLE: JSON.stringify(MAIN_BUNDLE) },
  plugins: [versionOnly, mainIsSeparate],
});
await chmod(`${root}dist/bin/acmekit.cjs`, 0o755);
