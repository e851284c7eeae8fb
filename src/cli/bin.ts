#!/usr/bin/env node
// `--version` answers before the rest of the CLI is loaded (cron wrappers call it often).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const { ACMEKIT_VERSION } = await import('../internal/version.ts');
  process.stdout.write(`acmekit ${ACMEKIT_VERSION}\n`);
} else {
  const { main } = await import('./main.ts');
  process.exitCode = await main(argv);
}
