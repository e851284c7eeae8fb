import { AccountUnusableError } from '../errors/account.ts';
import { AuthorizationFailedError } from '../errors/authorization.ts';
import { InvalidInputError } from '../errors/base.ts';
import { AcmeProblemError } from '../errors/problem.ts';
import { LockTimeoutError } from '../errors/storage.ts';
import { UsageError } from '../errors/usage.ts';

/** Documented in docs/cli.md; scripts may switch on them. */
export const exitCodes = {
  ok: 0,
  /** Anything else: network, storage, an unexpected answer. */
  failure: 1,
  /** Bad flags, names, files or config; nothing was sent. */
  usage: 2,
  /** The CA refused: a problem document, a failed validation, or an account it no longer takes. */
  caRefused: 3,
  /** Several certificates were handled and at least one failed while others succeeded. */
  someFailed: 4,
  /** The certificate was written, but a hook failed. */
  hookFailed: 5,
  /** Another acmekit holds the lock on this path. */
  locked: 6,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof InvalidInputError) return exitCodes.usage;
  if (
    err instanceof AcmeProblemError ||
    err instanceof AuthorizationFailedError ||
    err instanceof AccountUnusableError
  ) {
    return exitCodes.caRefused;
  }
  if (err instanceof LockTimeoutError) return exitCodes.locked;
  if (err instanceof Error && (err as { code?: string }).code === 'ERR_HOOK') return exitCodes.hookFailed;
  return exitCodes.failure;
}
