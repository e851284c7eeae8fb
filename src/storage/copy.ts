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
  /** Copy exactly these keys (e.g. what `compareStores` found missing or different) instead of listing `from`. */
  keys?: readonly string[];
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
  for (const key of opts.keys ?? (await from.list(opts.prefix ?? '', signal))) {
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

/** How `to` stands against `from`, key by key (every key of `from` under the prefix, in order). */
export interface StoreComparison {
  /** In `from` only. */
  missing: string[];
  /** The same bytes in both, and the same private flag where both stores can tell. */
  same: string[];
  /** In both, with other bytes or another private flag: copying would replace them. */
  different: string[];
}

/**
 * Compares every key of `from` (under `prefix`) with `to`, reading one value pair at a time, so that
 * a copy can be refused before it writes anything. Keys only in `to` are not looked at.
 */
export async function compareStores(
  from: Store,
  to: Store,
  opts: Pick<CopyStoreOptions, 'prefix' | 'signal'> = {},
): Promise<StoreComparison> {
  const { signal } = opts;
  const result: StoreComparison = { missing: [], same: [], different: [] };
  for (const key of await from.list(opts.prefix ?? '', signal)) {
    throwIfAborted(signal);
    const [source, target] = await Promise.all([from.get(key, signal), to.get(key, signal)]);
    if (source === undefined) continue; // deleted since list()
    if (target === undefined) {
      result.missing.push(key);
      continue;
    }
    const [a, b] = await Promise.all([
      knownPrivateFlag(from, key, signal),
      knownPrivateFlag(to, key, signal),
    ]);
    const sameFlag = a === undefined || b === undefined || a === b;
    (sameFlag && Buffer.from(source).equals(target) ? result.same : result.different).push(key);
  }
  return result;
}

async function privateFlag(from: Store, key: string, opts: CopyStoreOptions): Promise<boolean> {
  // Unknown: secret is the safe guess (a certificate that ends up 0600 still works).
  return (await knownPrivateFlag(from, key, opts.signal)) ?? opts.isPrivate?.(key) ?? true;
}

/** Whether `key` is stored as private, when the store can tell; undefined when it cannot or the key is missing. */
async function knownPrivateFlag(
  store: Store,
  key: string,
  signal?: AbortSignal,
): Promise<boolean | undefined> {
  if (hasPrivateFlag(store)) return store.isPrivate(key, signal);
  if (store instanceof FileStore) {
    const st = await stat(store.pathOf(key)).catch(() => undefined);
    // Readable by group or others means it was written as public (0644); anything else stays secret.
    if (st) return (st.mode & 0o044) === 0;
  }
  return undefined;
}
