export { AccountUnusableError, type AccountUnusableReason } from './account.ts';
export { AuthorizationFailedError } from './authorization.ts';
export * from './base.ts';
export { type AcmekitErrorCode, type AcmeProblemErrorCode, acmeProblemCodes, errorCodes } from './codes.ts';
export { type DnsOperation, DnsPropagationError, DnsProviderError, type NameserverAnswer } from './dns.ts';
export { HookError } from './hook.ts';
export { PfxError } from './pfx.ts';
export {
  AccountDoesNotExistError,
  AcmeProblemError,
  AlreadyReplacedError,
  AlreadyRevokedError,
  BadCsrError,
  BadNonceError,
  BadPublicKeyError,
  BadRevocationReasonError,
  BadSignatureAlgorithmError,
  CaaError,
  CompoundError,
  ConnectionError,
  DnsError,
  ExternalAccountRequiredError,
  IncorrectResponseError,
  InvalidContactError,
  InvalidProfileError,
  MalformedError,
  OrderNotReadyError,
  type ProblemDetails,
  type ProblemDocument,
  type ProblemIdentifier,
  RateLimitedError,
  RejectedIdentifierError,
  ServerInternalError,
  TlsError,
  UnauthorizedError,
  UnsupportedContactError,
  UnsupportedIdentifierError,
  UserActionRequiredError,
} from './problem.ts';
export { OnDemandRefusedError } from './server.ts';
export { CorruptFileError, FencedWriteError, LockTimeoutError, StorageError } from './storage.ts';
export { UsageError } from './usage.ts';
