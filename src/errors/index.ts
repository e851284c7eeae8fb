export { AuthorizationFailedError } from './authorization.ts';
export * from './base.ts';
export { type DnsOperation, DnsPropagationError, DnsProviderError, type NameserverAnswer } from './dns.ts';
export * from './problem.ts';
export { CorruptFileError, FencedWriteError, LockTimeoutError, StorageError } from './storage.ts';
