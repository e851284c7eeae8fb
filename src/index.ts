// acmekit: the ACME (RFC 8555) client library. Named exports only.
export { AcmeClient, type AcmeClientOptions, type CreateAccountOptions } from './acme/client.ts';
export { Account, type NewOrderOptions } from './acme/account.ts';
export { AccountCredentials, type AccountCredentialsJson } from './acme/account-credentials.ts';
export { Order } from './acme/order.ts';
export { Authorization } from './acme/authorization.ts';
export { Challenge } from './acme/challenge.ts';
export type { CertificateChain } from './acme/certificate-download.ts';
export type { ObtainOptions, ObtainResult } from './acme/obtain.ts';
export { type ChallengeContext, type Solver, type SolverType, challengeFits } from './acme/solver.ts';
export { normalizeIdentifiers, checkChallengeTypes, identifiersEqual, isWildcard } from './acme/identifiers.ts';
export { normalizeContacts } from './acme/contacts.ts';
export type { RenewalInfo } from './acme/renewal-info.ts';
export { revocationReasons, type RevocationReason } from './acme/revocation.ts';
export { defaultPollPolicy, type PollPolicy } from './acme/polling.ts';
export type { Identifier } from './crypto/identifier.ts';
export {
  type AccountKeyAlgorithm,
  type CertificateKeyType,
  certificateKeyTypes,
  generateAccountKey,
  generateKeyType,
  importPrivateKey,
  exportPrivateKeyPem,
  keyTypeOf,
} from './crypto/keys.ts';
export { jwkThumbprint } from './crypto/jwk.ts';
export type { ExternalAccountBinding } from './crypto/eab.ts';
export { caPresets, type CaPreset, resolveDirectoryUrl } from './protocol/ca-presets.ts';
export { defaultRetryPolicy, type RetryPolicy } from './protocol/signed-request.ts';
export type {
  AccountStatus,
  AuthorizationStatus,
  ChallengeStatus,
  ChallengeType,
  DirectoryWire,
  OrderStatus,
} from './protocol/wire-types.ts';
export { Http01ListenerSolver, type Http01ListenerOptions } from './solvers/http01-listener.ts';
export { TlsAlpn01ListenerSolver, type TlsAlpn01Options } from './solvers/tls-alpn01.ts';
export type { Clock } from './internal/clock.ts';
export type { Logger } from './internal/logger.ts';
export * from './errors/index.ts';
