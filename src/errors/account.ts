import { AcmekitError } from './base.ts';

/** Why an account cannot be used: the CA does not know it (any more), or it was deactivated or revoked. */
export type AccountUnusableReason = 'unknown' | 'deactivated' | 'revoked';

/**
 * The account cannot be used: the CA no longer knows it (accountDoesNotExist, e.g. after a CA reset),
 * or it is deactivated or revoked (said by the CA, or marked so in its stored account object). The
 * message is one line and says how to register a new account; `cause` holds the CA's problem if any.
 */
export class AccountUnusableError extends AcmekitError {
  readonly accountUrl: string;
  readonly reason: AccountUnusableReason;
  constructor(
    message: string,
    accountUrl: string,
    reason: AccountUnusableReason = 'unknown',
    options?: { cause?: unknown },
  ) {
    super('ERR_ACCOUNT_UNUSABLE', message, options);
    this.accountUrl = accountUrl;
    this.reason = reason;
  }
}
