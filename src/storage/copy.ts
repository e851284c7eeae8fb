import { stat } from 'node:fs/promises';
import { throwIfAborted } from '../internal/abort.ts';
import { FileStore } from './file-store.ts';
import type { Store } from './store.ts';

/** A store that remembers which keys were put with `{ private: true }` (PostgresStore, RedisStore). */
export interface PrivateFlagReader {
  /** True for a key stored as private, false for a public one, undefined when it is missing. */
  isPrivate(key: string, signal?: AbortSignal): Promise<boolean | undefined>;
}

export function hasPrivateFlag(store: Store): store is Store & PrivateFlagReader {
  return typeof (store as Partial<PrivateFlagReader>).isPrivate === 'function';
}

export interface CopyStoreOptions {
  /** Copy only keys starting with this; default every key. */
  prefix?: string;
  /** For a source that cannot tell (a MemoryStore): which keys are secret. Default: every key is. */
  isPrivate?: (key: string) => boolean;
  /** Told after each key, e.g. to print progress. */
  onKey?: (key: string, isPrivate: boolean) => void;
  signal?: AbortSignal;
}

/**
 * Copies every key (under `prefix`) from one store to another, keeping each value's bytes and whether
 * it is private: from a FileStore by the file's mode (0600 = private), from a PostgresStore or
 * RedisStore by the flag they keep. One key at a time, so memory stays flat; keys already in `to` are
 * overwritten, keys only in `to` are left alone. Run it while nothing else writes to `from`.
 * Resolves the number of keys copied.
 */
export async function copyStore(from: Store, to: Store, opts: CopyStoreOptions = {}): Promise<number> {
  const { signal } = opts;
  let copied = 0;
  for (const key of await from.list(opts.prefix ?? '', signal)) {
    throwIfAborted(signal);
    const value = await from.get(key, signal);
    if (value === undefined) continue; // deleted since list(): nothing to copy
    const isPrivate = await privateFlag(from, key, opts);
    await to.put(key, value, isPrivate ? { private: true, signal } : { signal });
    opts.onKey?.(key, isPrivate);
    copied++;
  }
  return copied;
}

async function privateFlag(from: Store, key: string, opts: CopyStoreOptions): Promise<boolean> {
  if (hasPrivateFlag(from)) {
    const known = await from.isPrivate(key, opts.signal);
    if (known !== undefined) return known;
  }
  if (from instanceof FileStore) {
    const st = await stat(from.pathOf(key)).catch(() => undefined);
    // Readable by group or others means it was written as public (0644); anything else stays secret.
    if (st) return (st.mode & 0o044) === 0;
  }
  // Unknown: secret is the safe guess (a certificate that ends up 0600 still works).
  return opts.isPrivate?.(key) ?? true;
}
