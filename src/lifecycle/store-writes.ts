import type { Lease, Store } from '../storage/store.ts';

/** One file to write: as Store.put's arguments. */
export interface StoreWrite {
  key: string;
  value: Uint8Array | string;
  private?: boolean;
}

/**
 * Optional capability of a store (FileStore has it): write several keys in ordered groups, each key
 * atomically, every key of a group in place before any key of the next group, the group's members in
 * any order or at once. Found with canPutAll().
 */
export interface GroupedWrites {
  putAll(groups: readonly (readonly StoreWrite[])[], opts: { lease?: Lease }): Promise<void>;
}

export function canPutAll(store: Store): store is Store & GroupedWrites {
  return typeof (store as Partial<GroupedWrites>).putAll === 'function';
}

/**
 * Writes `groups` in order: a crash never leaves a key of a later group written while a key of an earlier
 * one is not. A store with putAll() writes each group's files at once; others get one put after another.
 */
export async function putGroups(
  store: Store,
  groups: readonly (readonly StoreWrite[])[],
  lease: Lease,
): Promise<void> {
  if (canPutAll(store)) return store.putAll(groups, { lease });
  for (const group of groups) {
    for (const w of group)
      await store.put(w.key, w.value, { lease, ...(w.private ? { private: true } : {}) });
  }
}
