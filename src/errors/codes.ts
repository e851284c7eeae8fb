/**
 * Every code an AcmekitError can carry, as a runtime list (docs/errors.md and its test come from it).
 * A code never changes once released; new ones are added here.
 */

/** The codes of the AcmeProblemError classes: one per ACME problem type, and ERR_ACME_PROBLEM for the rest. */
export const acmeProblemCodes = [
  'ERR_ACME_PROBLEM',
  'ERR_ACME_ACCOUNT_DOES_NOT_EXIST',
  'ERR_ACME_ALREADY_REPLACED',
  'ERR_ACME_ALREADY_REVOKED',
  'ERR_ACME_BAD_CSR',
  'ERR_ACME_BAD_NONCE',
  'ERR_ACME_BAD_PUBLIC_KEY',
  'ERR_ACME_BAD_REVOCATION_REASON',
  'ERR_ACME_BAD_SIGNATURE_ALGORITHM',
  'ERR_ACME_CAA',
  'ERR_ACME_COMPOUND',
  'ERR_ACME_CONNECTION',
  'ERR_ACME_DNS',
  'ERR_ACME_EXTERNAL_ACCOUNT_REQUIRED',
  'ERR_ACME_INCORRECT_RESPONSE',
  'ERR_ACME_INVALID_CONTACT',
  'ERR_ACME_INVALID_PROFILE',
  'ERR_ACME_MALFORMED',
  'ERR_ACME_ORDER_NOT_READY',
  'ERR_ACME_RATE_LIMITED',
  'ERR_ACME_REJECTED_IDENTIFIER',
  'ERR_ACME_SERVER_INTERNAL',
  'ERR_ACME_TLS',
  'ERR_ACME_UNAUTHORIZED',
  'ERR_ACME_UNSUPPORTED_CONTACT',
  'ERR_ACME_UNSUPPORTED_IDENTIFIER',
  'ERR_ACME_USER_ACTION_REQUIRED',
] as const;

export const errorCodes = [
  'ERR_INVALID_INPUT',
  'ERR_BAD_SERVER_RESPONSE',
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_ABORTED',
  'ERR_CERTIFICATE_MISMATCH',
  'ERR_SOLVER',
  'ERR_DNS_PROVIDER',
  'ERR_DNS_PROPAGATION',
  'ERR_STORAGE',
  'ERR_CORRUPT_FILE',
  'ERR_LOCK_TIMEOUT',
  'ERR_FENCED',
  'ERR_AUTHORIZATION_FAILED',
  'ERR_HOOK',
  'ERR_PFX',
  'ERR_ON_DEMAND_REFUSED',
  'ERR_USAGE',
  'ERR_ACCOUNT_UNUSABLE',
  ...acmeProblemCodes,
] as const;

export type AcmeProblemErrorCode = (typeof acmeProblemCodes)[number];
/** The `code` of an AcmekitError: stable, safe to switch on; the list is docs/errors.md. */
export type AcmekitErrorCode = (typeof errorCodes)[number];
