// acmekit/storage: the Store contract and the stores that need no database. PostgreSQL and Redis
// live in their own entries (acmekit/storage/postgres, acmekit/storage/redis) so their drivers stay optional.

export { type CopyStoreOptions, compareStores, copyStore, type StoreComparison } from './copy.ts';
export { FileStore, type FileStoreOptions } from './file-store.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.ts';
export {
  isWatchable,
  type Lease,
  type LeaseHolder,
  type LockOptions,
  type PutOptions,
  type Store,
  type StoreWatchHandler,
  type WatchableStore,
} from './store.ts';
