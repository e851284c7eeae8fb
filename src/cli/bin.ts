#!/usr/bin/env node
// The `acmekit` binary. The published one is this file bundled by scripts/build-cli.ts into
// dist/bin/acmekit.cjs, with main.ts and everything it loads in one more file next to it.
import { mark } from '../internal/timing.ts';

mark('launcher');

// No top-level await: the bundle is CommonJS, which needs no ES module loader (~12 ms at start-up on Node 20).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  // Answers before the rest of the CLI is loaded (cron wrappers call it often).
  void import('../internal/version.ts').then(({ ACMEKIT_VERSION }) => {
    process.stdout.write(`acmekit ${ACMEKIT_VERSION}\n`);
  });
} else {
  // Node ≥ 22.1 has a compile cache; on older ones even looking for it would load node:module, and
  // with it the ES module loader (~3 ms).
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const cache = major > 22 || (major === 22 && minor >= 1);
  void (cache ? import('../internal/compile-cache.ts') : Promise.resolve(undefined))
    .then((m) => m?.enableCompileCache()) // before main.ts and all it loads
    .then(() => import('./main.ts'))
    .then(async ({ main }) => {
      process.exitCode = await main(argv);
      mark('main returned');
    });
}
