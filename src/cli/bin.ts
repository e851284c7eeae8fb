#!/usr/bin/env node
// The `acmekit` binary. The published one is this file bundled by scripts/build-cli.ts into
// dist/bin/acmekit.cjs, with main.ts and everything it loads in one more file next to it.
import { mark } from '../internal/timing.ts';

mark('launcher');

/** The main bundle's file name next to this one; defined by scripts/build-cli.ts, absent when run from source. */
declare const ACMEKIT_MAIN_BUNDLE: string | undefined;

interface Main {
  main(argv: readonly string[]): Promise<number>;
}

/**
 * The bundled CLI runs its main bundle through the compile cache (src/internal/compile-cache.ts); from
 * source (tsx), main.ts is imported as usual.
 */
async function loadMain(): Promise<{ main: Main['main']; saveCache?: () => void }> {
  if (typeof ACMEKIT_MAIN_BUNDLE !== 'string') return import('./main.ts');
  const cache = await import('../internal/compile-cache.ts');
  const { ACMEKIT_VERSION } = await import('../internal/version.ts');
  const root = cache.compileCacheRoot();
  const folder = root === undefined ? undefined : cache.versionFolder(root, ACMEKIT_VERSION);
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (folder && (major > 22 || (major === 22 && minor >= 1))) cache.enableNodeCompileCache(folder);
  const loaded = cache.loadBundle(`${__dirname}/${ACMEKIT_MAIN_BUNDLE}`, {
    folder,
    variant: cache.cacheVariant(argv),
    require,
    // Node's own import(), from this file (the main bundle is compiled by vm, which has none).
    importPackage: (specifier) => import(specifier),
  });
  return { main: (loaded.exports as unknown as Main).main, saveCache: loaded.saveCache };
}

// A reader that went away (`acmekit list | head -1`) is no error: what is left to print is dropped, the
// command finishes as it would have (an issuance is not cut short) and exits with its own status, without
// a stack trace. Any other stream error still ends the process as before.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

// No top-level await: the bundle is CommonJS, which needs no ES module loader (~12 ms at start-up on Node 20).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  // Answers before the rest of the CLI is loaded (cron wrappers call it often).
  void import('../internal/version.ts').then(({ ACMEKIT_VERSION }) => {
    process.stdout.write(`acmekit ${ACMEKIT_VERSION}\n`);
  });
} else {
  void loadMain().then(async ({ main, saveCache }) => {
    process.exitCode = await main(argv);
    mark('main returned');
    saveCache?.();
  });
}
