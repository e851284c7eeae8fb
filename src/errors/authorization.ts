import { AcmekitError } from './base.ts';
import type { AcmeProblemError } from './problem.ts';

/** The CA could not validate an identifier; `problem` is the CA's own explanation when it gave one. */
export class AuthorizationFailedError extends AcmekitError {
  readonly identifier: string;
  readonly challengeType: string | undefined;
  readonly problem: AcmeProblemError | undefined;
  constructor(identifier: string, challengeType: string | undefined, problem: AcmeProblemError | undefined) {
    const how = challengeType ? ` by ${challengeType}` : '';
    const why = problem ? problem.message : 'the CA marked the authorization invalid without a reason';
    super('ERR_AUTHORIZATION_FAILED', `validation of ${identifier}${how} failed: ${why}`, { cause: problem });
    this.identifier = identifier;
    this.challengeType = challengeType;
    this.problem = problem;
  }
}
