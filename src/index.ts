// acmekit: the ACME (RFC 8555) client library. Named exports only.

export { Account, accountStatusRefused, type NewOrderOptions } from './acme/account.ts';
export { AccountCredentials, type AccountCredentialsJson } from './acme/account-credentials.ts';
export { Authorization } from './acme/authorization.ts';
export type { CertificateChain } from './acme/certificate-download.ts';
export { Challenge } from './acme/challenge.ts';
export { AcmeClient, type AcmeClientOptions, type CreateAccountOptions } from './acme/client.ts';
export { Order } from './acme/order.ts';
export type { PollPolicy } from './acme/polling.ts';
export type { RenewalInfo } from './acme/renewal-info.ts';
export { type RevocationReason, revocationReasons } from './acme/revocation.ts';
export type { AccountSession, ClientContext } from './acme/session.ts';
export { buildCsr } from './crypto/csr.ts';
export type { ExternalAccountBinding } from './crypto/eab.ts';
export type { Identifier } from './crypto/identifier.ts';
// Keys for the step-by-step flow: generateKeyType makes the certificate key order.finalize's CSR needs,
// exportPrivateKeyPem saves it as lego and certbot do (PKCS#8 PEM), importPrivateKey reads it back to
// reuse it, generateAccountKey makes the key of createAccount({ key }) and rolloverKey.
export {
  type AccountKeyAlgorithm,
  type CertificateKeyType,
  exportPrivateKeyPem,
  generateAccountKey,
  generateKeyType,
  importPrivateKey,
} from './crypto/keys.ts';
export { PrivateKeyPem } from './crypto/private-key-pem.ts';
export * from './errors/index.ts';
export type { Clock } from './internal/clock.ts';
export type { Logger } from './internal/logger.ts';
export { type ObtainOptions, type ObtainResult, obtainCertificate } from './lifecycle/obtain.ts';
export { type CaPreset, caPresets } from './protocol/ca-presets.ts';
export type { RetryPolicy } from './protocol/signed-request.ts';
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
export type { ChallengeContext, Solver } from './solvers/solver.ts';
export { TlsAlpn01ListenerSolver, type TlsAlpn01Options } from './solvers/tls-alpn01.ts';
