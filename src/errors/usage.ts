import { AcmekitError } from './base.ts';

/** The command line or config is wrong; exit code 2 and a hint, nothing sent or written. */
export class UsageError extends AcmekitError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}
