#!/usr/bin/env node
// The `acmekit` binary. The published one is this file bundled by scripts/build-cli.ts into
// dist/bin/acmekit.cjs, with main.ts and everything it loads in one more file next to it.
import * as nodeModule from 'node:module';
import { mark } from '../internal/timing.ts';

mark('launcher');

// Node ≥ 22.1 can keep V8's compiled code on disk (in the OS temp folder) so later runs skip
// compiling the CLI; it covers only modules loaded after this call, hence here. Node 20 lacks it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// No top-level await: the bundle is CommonJS, which needs no ES module loader (~12 ms at start-up on Node 20).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  // Answers before the rest of the CLI is loaded (cron wrappers call it often).
  void import('../internal/version.ts').then(({ ACMEKIT_VERSION }) => {
    process.stdout.write(`acmekit ${ACMEKIT_VERSION}\n`);
  });
} else {
  void import('./main.ts').then(async ({ main }) => {
    process.exitCode = await main(argv);
    mark('main returned');
  });
}
