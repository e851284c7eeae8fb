// acmekit: the ACME (RFC 8555) client library. Named exports only.

export { Account, type NewOrderOptions } from './acme/account.ts';
export { AccountCredentials, type AccountCredentialsJson } from './acme/account-credentials.ts';
export { Authorization } from './acme/authorization.ts';
export type { CertificateChain } from './acme/certificate-download.ts';
export { Challenge } from './acme/challenge.ts';
export { AcmeClient, type AcmeClientOptions, type CreateAccountOptions } from './acme/client.ts';
export { normalizeContacts } from './acme/contacts.ts';
export {
  checkChallengeTypes,
  identifiersEqual,
  isWildcard,
  normalizeIdentifiers,
} from './acme/identifiers.ts';
export { Order } from './acme/order.ts';
export { defaultPollPolicy, type PollPolicy } from './acme/polling.ts';
export type { RenewalInfo } from './acme/renewal-info.ts';
export { type RevocationReason, revocationReasons } from './acme/revocation.ts';
export {
  ariCertificateId,
  type ParsedCertificate,
  parseCertificateChain,
  verifyChainMatches,
} from './crypto/certificate.ts';
export { buildCsr, type ParsedCsr, parseCsr } from './crypto/csr.ts';
export type { ExternalAccountBinding } from './crypto/eab.ts';
export type { Identifier } from './crypto/identifier.ts';
export { jwkThumbprint } from './crypto/jwk.ts';
export {
  type AccountKeyAlgorithm,
  type CertificateKeyType,
  certificateKeyTypes,
  exportPrivateKeyPem,
  generateAccountKey,
  generateKeyType,
  importPrivateKey,
  keyTypeOf,
} from './crypto/keys.ts';
export { buildTlsAlpnCertificate } from './crypto/tls-alpn-cert.ts';
export * from './errors/index.ts';
export { writeFileAtomic } from './internal/atomic-write.ts';
export type { Clock } from './internal/clock.ts';
export type { Logger } from './internal/logger.ts';
export { type ObtainOptions, type ObtainResult, obtainCertificate } from './lifecycle/obtain.ts';
export { type CaPreset, caPresets, resolveDirectoryUrl } from './protocol/ca-presets.ts';
export { defaultRetryPolicy, type RetryPolicy } from './protocol/signed-request.ts';
export type {
  AccountStatus,
  AuthorizationStatus,
  ChallengeStatus,
  ChallengeType,
  DirectoryWire,
  OrderStatus,
} from './protocol/wire-types.ts';
export { Dns01Solver, type Dns01SolverOptions } from './solvers/dns01.ts';
export { type Http01ListenerOptions, Http01ListenerSolver } from './solvers/http01-listener.ts';
export { type ChallengeContext, challengeFits, type Solver } from './solvers/solver.ts';
export { TlsAlpn01ListenerSolver, type TlsAlpn01Options } from './solvers/tls-alpn01.ts';
