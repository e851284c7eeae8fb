/**
 * The JSON objects of RFC 8555 §7.1, spelled as the RFC spells them. These are what the CA sends;
 * the objects users hold (Account, Order, ...) map them once.
 */
import type { ProblemDocument } from '../errors/problem.ts';

export type IdentifierWire = { readonly type: string; readonly value: string };

/** RFC 8555 §7.1.1, plus `renewalInfo` (RFC 9773 §3) and `meta.profiles` (ACME profiles draft). */
export interface DirectoryWire {
  readonly newNonce: string;
  readonly newAccount: string;
  readonly newOrder: string;
  readonly newAuthz?: string;
  readonly revokeCert?: string;
  readonly keyChange?: string;
  readonly renewalInfo?: string;
  readonly meta?: DirectoryMetaWire;
}

export interface DirectoryMetaWire {
  readonly termsOfService?: string;
  readonly website?: string;
  readonly caaIdentities?: readonly string[];
  readonly externalAccountRequired?: boolean;
  readonly profiles?: Readonly<Record<string, string>>;
}

export type AccountStatus = 'valid' | 'deactivated' | 'revoked';
export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';
/** The challenge types acmekit can answer (RFC 8555 §8.3, §8.4; RFC 8737). */
export type ChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';

/**
 * RFC 8555 §7.1.2, and every other field the CA sent, as it sent it: Let's Encrypt adds `createdAt`
 * and `initialIp`, Pebble and Boulder the account's public `key`. Only the RFC's fields are checked.
 */
export interface AccountWire {
  readonly status: AccountStatus;
  readonly contact?: readonly string[];
  readonly termsOfServiceAgreed?: boolean;
  readonly orders?: string;
  readonly [field: string]: unknown;
}

/** RFC 8555 §7.1.3, plus `profile` (profiles draft) and `replaces` (RFC 9773 §5). */
export interface OrderWire {
  readonly status: OrderStatus;
  readonly expires?: string;
  readonly identifiers: readonly IdentifierWire[];
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly error?: ProblemDocument;
  readonly authorizations: readonly string[];
  readonly finalize: string;
  readonly certificate?: string;
  readonly profile?: string;
  readonly replaces?: string;
}

/** RFC 8555 §7.1.4. */
export interface AuthorizationWire {
  readonly identifier: IdentifierWire;
  readonly status: AuthorizationStatus;
  readonly expires?: string;
  readonly challenges: readonly ChallengeWire[];
  readonly wildcard?: boolean;
}

/** RFC 8555 §8. `type` stays a string: a challenge type acmekit does not know must still parse. */
export interface ChallengeWire {
  readonly type: string;
  readonly url: string;
  readonly status: ChallengeStatus;
  readonly token?: string;
  readonly validated?: string;
  readonly error?: ProblemDocument;
}

/** RFC 9773 §4.2. */
export interface RenewalInfoWire {
  readonly suggestedWindow: { readonly start: string; readonly end: string };
  readonly explanationURL?: string;
}
