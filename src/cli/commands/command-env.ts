import type { Output } from '../output.ts';

/** What every command gets besides its options: where to print, and the environment it runs in. */
export interface CommandEnv {
  out: Output;
  env: NodeJS.ProcessEnv;
}
