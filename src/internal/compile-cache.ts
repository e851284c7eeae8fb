import { lstatSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Node ≥ 22.1 can keep V8's compiled code on disk, so later runs of the CLI skip compiling it (~10 ms);
 * it covers the modules loaded after this call. Not in Node's default folder under the shared temp
 * folder: acmekit often runs as root, and compiled code another local user planted there would run as
 * root. So the cache lives in the home folder of the account this process runs as (from the user
 * database, not $HOME, which sudo may keep from the calling user), and only if that account owns it.
 * NODE_COMPILE_CACHE set by the user wins (Node then enabled it at start-up). Node 20 has no cache.
 */
export function enableCompileCache(): void {
  const enable = (nodeModule as { enableCompileCache?: (directory: string) => unknown }).enableCompileCache;
  if (enable === undefined || process.env.NODE_COMPILE_CACHE) return;
  try {
    const home = userInfo().homedir;
    if (lstatSync(home).uid !== process.geteuid?.()) return;
    enable(join(home, '.cache', 'acmekit', 'compile-cache')); // never throws; a failure means no cache
  } catch {
    // no user database entry or no home folder: run without the cache
  }
}
