import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importPrivateKey } from '../crypto/keys.ts';
import { UsageError } from '../errors/usage.ts';

/**
 * The key in the file named by --private-key (unencrypted PEM). `check` may refuse a key that does not
 * fit its use (an account key of a type ACME does not sign with); every failure is a usage error that
 * names the file, never the key.
 */
export async function readPrivateKeyFile(path: string, check?: (key: KeyObject) => void): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read --private-key ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    const key = importPrivateKey(text);
    check?.(key);
    return key;
  } catch (err) {
    throw new UsageError(`--private-key ${path}: ${(err as Error).message}`);
  }
}
