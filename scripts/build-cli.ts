/**
 * Bundles the CLI for the package's `bin` (run by `npm run build` after tsc):
 *
 *   dist/bin/acmekit.cjs       src/cli/bin.ts: the launcher; answers --version itself
 *   dist/bin/acmekit-main.cjs  src/cli/main.ts and every module of ours it can load
 *
 * Why (bench/README.md has the figures): Node 20 loads ES modules one file at a time (resolve,
 * read, compile, link), which cost the CLI tens of ms for ~70 files, and starting the ES module
 * loader at all costs ~12 ms; CommonJS in two files needs neither. Inside the bundle, each module
 * of ours still runs only when first imported (esbuild keeps `import()` lazy), and with CommonJS
 * output node: built-ins are required at that moment too, not all at start-up.
 *
 * npm packages stay outside (they are dependencies) and are loaded with `import()` as before, so
 * yaml, @peculiar/asn1-* and the proxy agent still load only when used. The library itself is
 * not bundled: dist/*.js from tsc is what `import 'acmekit'` gets.
 */
import { chmod, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';

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

/** The launcher loads the main bundle with require(), so it never starts the ES module loader. */
const mainIsSeparate: Plugin = {
  name: 'main-is-separate',
  setup(b) {
    b.onResolve({ filter: /^\.\/main\.ts$/ }, () => ({ path: './acmekit-main.cjs', external: true }));
  },
};

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

await build({
  ...common,
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/bin/acmekit-main.cjs`,
});
await build({
  ...common,
  entryPoints: [`${root}src/cli/bin.ts`],
  outfile: `${root}dist/bin/acmekit.cjs`,
  // `import('./main.ts')` becomes `require('./acmekit-main.cjs')`; the launcher imports nothing else external.
  supported: { 'dynamic-import': false },
  plugins: [versionOnly, mainIsSeparate],
});
await chmod(`${root}dist/bin/acmekit.cjs`, 0o755);
