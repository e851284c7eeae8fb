import type { Authorization } from '../acme/authorization.ts';
import type { Challenge } from '../acme/challenge.ts';
import type { Identifier } from '../crypto/identifier.ts';
import type { ChallengeType } from '../protocol/wire-types.ts';

/** What a solver gets for one identifier: the challenge to satisfy and the authorization it belongs to. */
export interface ChallengeContext {
  readonly identifier: Identifier;
  readonly challenge: Challenge;
  readonly authorization: Authorization;
}

/**
 * Makes one kind of challenge proof visible to the CA, for any number of identifiers.
 *
 * - `present` MUST make the proof available (or fail) and SHOULD return quickly; several presents
 *   for different identifiers may run at once.
 * - `wait`, when defined, is called for every identifier after ALL presents finished, and resolves once
 *   the proof is visible from outside (DNS propagation); it MUST honour its signal.
 * - `cleanup` is ALWAYS called for every identifier whose present was started, also when present
 *   failed or the flow was aborted; it MUST NOT assume present succeeded and MUST NOT throw for a
 *   proof that is already gone.
 */
export interface Solver {
  readonly type: ChallengeType;
  present(ctx: ChallengeContext, signal: AbortSignal): Promise<void>;
  wait?(ctx: ChallengeContext, signal: AbortSignal): Promise<void>;
  cleanup(ctx: ChallengeContext, signal: AbortSignal): Promise<void>;
  /** When defined, the solver is used only for identifiers it accepts (e.g. one DNS provider per zone). */
  handles?(identifier: Identifier): boolean;
  /**
   * Set when the solver holds one proof per name at a time (a DNS service with one TXT value per name,
   * such as DuckDNS): its challenges are then solved one after another (present, wait, respond, the
   * authorization validated, cleanup), `intervalMs` apart, instead of all at once.
   */
  readonly sequential?: { readonly intervalMs: number } | undefined;
}

/** Whether a challenge type can prove this identifier at all (RFC 8555 §7.1.3, RFC 8738 §7). */
export function challengeFits(type: string, identifier: Identifier): boolean {
  if (identifier.value.startsWith('*.')) return type === 'dns-01';
  if (identifier.type === 'ip') return type === 'http-01' || type === 'tls-alpn-01';
  return true;
}
