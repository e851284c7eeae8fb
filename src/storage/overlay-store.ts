import { MemoryStore } from './memory-store.ts';
import { assertSafeKey, assertSafePrefix } from './safe-key.ts';
import type { GroupedWrites, Lease, LockOptions, PutOptions, Store, StoreWrite } from './store.ts';

/**
 * A store that reads through to another and keeps every write in memory: what a trial run (the CLI's
 * --dry-run) sees is the real folder or database, and what it does leaves that untouched. Deletes hide
 * the base's key; locks are this process's own.
 */
export class OverlayStore implements Store, GroupedWrites {
  readonly #base: Store;
  readonly #top = new MemoryStore();
  readonly #deleted = new Set<string>();

  constructor(base: Store) {
    this.#base = base;
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    if (this.#deleted.has(key)) return undefined;
    return (await this.#top.get(key, signal)) ?? this.#base.get(key, signal);
  }

  async put(key: string, value: Uint8Array | string, opts: PutOptions = {}): Promise<void> {
    await this.#top.put(key, value, opts);
    this.#deleted.delete(key);
  }

  async putAll(
    groups: readonly (readonly StoreWrite[])[],
    opts: { lease?: Lease | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    await this.#top.putAll(groups, opts);
    for (const group of groups) for (const w of group) this.#deleted.delete(w.key);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.#top.delete(key, signal);
    this.#deleted.add(key);
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    assertSafePrefix(prefix);
    const [below, above] = await Promise.all([
      this.#base.list(prefix, signal),
      this.#top.list(prefix, signal),
    ]);
    return [...new Set([...below, ...above])].filter((k) => !this.#deleted.has(k)).sort();
  }

  lock(name: string, opts: LockOptions): Promise<Lease> {
    return this.#top.lock(name, opts);
  }
}
