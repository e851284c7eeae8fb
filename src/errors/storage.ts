import { AcmekitError } from './base.ts';

/** Reading or writing the store failed (disk full, read-only, permissions); `path` names what failed. */
export class StorageError extends AcmekitError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A stored file exists but cannot be read as what it should be (corrupt JSON, bad PEM). Nothing was overwritten. */
export class CorruptFileError extends AcmekitError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(
      'ERR_CORRUPT_FILE',
      `${path}: ${message}; fix or remove the file, nothing was overwritten`,
      options,
    );
    this.path = path;
  }
}

/** The lock was not obtained in time; `holder` says who has it. */
export class LockTimeoutError extends AcmekitError {
  readonly lockName: string;
  constructor(lockName: string, holder: string | undefined) {
    super(
      'ERR_LOCK_TIMEOUT',
      `${lockName} is locked${holder ? ` by ${holder}` : ''}; another acmekit is working on it, try again later`,
    );
    this.lockName = lockName;
  }
}

/** A write under a lease that is no longer the newest grant: someone else took over, the write was refused. */
export class FencedWriteError extends AcmekitError {
  readonly lockName: string;
  constructor(lockName: string, fence: number) {
    super(
      'ERR_FENCED',
      `the lease on ${lockName} (fence ${fence}) was lost to a newer holder; the write was refused`,
    );
    this.lockName = lockName;
  }
}
