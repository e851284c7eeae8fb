import { canPutAll, type Lease, type Store, type StoreWrite } from '../storage/store.ts';

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
