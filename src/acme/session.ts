import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';
import type { AcmeHttp, AcmeResponse } from '../protocol/signed-request.ts';
import type { PollPolicy } from './polling.ts';

/**
 * What orders, authorizations, challenges and downloads need from the client that made them: its
 * transport, clock, logger and polling policy. AcmeClient has all of it; these files depend on this
 * narrow shape instead of on client.ts, so acme/ has no import circle.
 */
export interface ClientContext {
  readonly directoryUrl: string;
  readonly http: AcmeHttp;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollPolicy: PollPolicy;
}

/**
 * What an order and everything below it need from the account: signed requests as the account (kid),
 * its thumbprint (key authorizations) and its client. Account has all of it.
 */
export interface AccountSession {
  readonly client: ClientContext;
  /** The account URL (the JWS kid). */
  readonly url: string;
  /** RFC 7638 thumbprint of the account key. */
  readonly thumbprint: string;
  /** Signed POST as the account; payload undefined is a POST-as-GET. */
  request(
    url: string,
    payload: unknown,
    signal?: AbortSignal,
    opts?: { accept?: string },
  ): Promise<AcmeResponse>;
}
