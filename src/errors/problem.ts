import { AcmekitError } from './base.ts';
import type { AcmeProblemErrorCode } from './codes.ts';

export interface ProblemIdentifier {
  type: string;
  value: string;
}

/** RFC 7807 problem document as ACME sends it (RFC 8555 §6.7), already checked for shape. */
export interface ProblemDocument {
  type: string;
  detail?: string;
  status?: number;
  instance?: string;
  identifier?: ProblemIdentifier;
  subproblems?: ProblemDocument[];
}

export interface ProblemDetails {
  /** HTTP status of the response that carried the problem. */
  httpStatus?: number;
  url?: string;
  /** From Retry-After, when the server sent one. */
  retryAfter?: Date;
  /** Link rel="terms-of-service" or similar links relevant to the problem. */
  links?: Readonly<Record<string, string[]>>;
  /** The refused request carried an external account binding (see `AcmeProblemError.externalAccountBinding`). */
  externalAccountBinding?: boolean;
  cause?: unknown;
}

const ACME_PREFIX = 'urn:ietf:params:acme:error:';

/** Strips control characters (ANSI escapes, CR, LF) so a hostile detail cannot rewrite a terminal. */
export function sanitizeText(text: string, max = 2000): string {
  const clean = text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** An error the CA reported as a problem document. Subclasses exist for every RFC 8555 type. */
export class AcmeProblemError extends AcmekitError {
  /** ERR_ACME_PROBLEM for a type acmekit does not know, else the code of the type's subclass. */
  declare readonly code: AcmeProblemErrorCode;
  /** Full type URI, e.g. urn:ietf:params:acme:error:badNonce. */
  readonly type: string;
  readonly detail: string;
  readonly status: number | undefined;
  readonly instance: string | undefined;
  readonly identifier: ProblemIdentifier | undefined;
  readonly subproblems: readonly AcmeProblemError[];
  readonly url: string | undefined;
  readonly retryAfter: Date | undefined;
  readonly links: Readonly<Record<string, string[]>>;
  /**
   * True when the refused request was a newAccount with an external account binding: with
   * unauthorized, malformed or externalAccountRequired, the binding's key id or HMAC key is then
   * the likely cause (wrong, already used, or from another CA account).
   */
  readonly externalAccountBinding: boolean;

  constructor(
    problem: ProblemDocument,
    details: ProblemDetails = {},
    code: AcmeProblemErrorCode = 'ERR_ACME_PROBLEM',
  ) {
    const detail = sanitizeText(problem.detail ?? '');
    const status = problem.status ?? details.httpStatus;
    const who = problem.identifier ? ` (${problem.identifier.value})` : '';
    const shortType = problem.type.startsWith(ACME_PREFIX)
      ? problem.type.slice(ACME_PREFIX.length)
      : problem.type;
    super(code, `${shortType}${who}: ${detail || 'no detail given'}`, { cause: details.cause });
    this.type = problem.type;
    this.detail = detail;
    this.status = status;
    this.instance = problem.instance;
    this.identifier = problem.identifier;
    this.subproblems = (problem.subproblems ?? []).map((p) => problemToError(p, {}));
    this.url = details.url;
    this.retryAfter = details.retryAfter;
    this.links = details.links ?? {};
    this.externalAccountBinding = details.externalAccountBinding === true;
  }

  /**
   * The message plus one line per subproblem, then the page the CA points to (RFC 8555 §7.3.3: the
   * `instance` of userActionRequired is where the user must go) and its terms of service link.
   */
  describe(): string {
    const lines = [this.message, ...this.subproblems.map((s) => `  - ${s.message}`)];
    if (this.instance) lines.push(`  see ${sanitizeText(this.instance, 500)}`);
    const tos = this.links['terms-of-service']?.[0];
    if (tos) lines.push(`  terms of service: ${sanitizeText(tos, 500)}`);
    return lines.join('\n');
  }
}

function define(name: string, code: AcmeProblemErrorCode) {
  const cls = class extends AcmeProblemError {
    constructor(problem: ProblemDocument, details?: ProblemDetails) {
      super(problem, details, code);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

// RFC 8555 §6.7, plus RFC 9773 (alreadyReplaced) and the ACME profiles draft (invalidProfile).
export const AccountDoesNotExistError = define('AccountDoesNotExistError', 'ERR_ACME_ACCOUNT_DOES_NOT_EXIST');
export const AlreadyReplacedError = define('AlreadyReplacedError', 'ERR_ACME_ALREADY_REPLACED');
export const AlreadyRevokedError = define('AlreadyRevokedError', 'ERR_ACME_ALREADY_REVOKED');
export const BadCsrError = define('BadCsrError', 'ERR_ACME_BAD_CSR');
export const BadNonceError = define('BadNonceError', 'ERR_ACME_BAD_NONCE');
export const BadPublicKeyError = define('BadPublicKeyError', 'ERR_ACME_BAD_PUBLIC_KEY');
export const BadRevocationReasonError = define('BadRevocationReasonError', 'ERR_ACME_BAD_REVOCATION_REASON');
export const BadSignatureAlgorithmError = define(
  'BadSignatureAlgorithmError',
  'ERR_ACME_BAD_SIGNATURE_ALGORITHM',
);
export const CaaError = define('CaaError', 'ERR_ACME_CAA');
export const CompoundError = define('CompoundError', 'ERR_ACME_COMPOUND');
export const ConnectionError = define('ConnectionError', 'ERR_ACME_CONNECTION');
export const DnsError = define('DnsError', 'ERR_ACME_DNS');
export const ExternalAccountRequiredError = define(
  'ExternalAccountRequiredError',
  'ERR_ACME_EXTERNAL_ACCOUNT_REQUIRED',
);
export const IncorrectResponseError = define('IncorrectResponseError', 'ERR_ACME_INCORRECT_RESPONSE');
export const InvalidContactError = define('InvalidContactError', 'ERR_ACME_INVALID_CONTACT');
export const InvalidProfileError = define('InvalidProfileError', 'ERR_ACME_INVALID_PROFILE');
export const MalformedError = define('MalformedError', 'ERR_ACME_MALFORMED');
export const OrderNotReadyError = define('OrderNotReadyError', 'ERR_ACME_ORDER_NOT_READY');
export const RateLimitedError = define('RateLimitedError', 'ERR_ACME_RATE_LIMITED');
export const RejectedIdentifierError = define('RejectedIdentifierError', 'ERR_ACME_REJECTED_IDENTIFIER');
export const ServerInternalError = define('ServerInternalError', 'ERR_ACME_SERVER_INTERNAL');
export const TlsError = define('TlsError', 'ERR_ACME_TLS');
export const UnauthorizedError = define('UnauthorizedError', 'ERR_ACME_UNAUTHORIZED');
export const UnsupportedContactError = define('UnsupportedContactError', 'ERR_ACME_UNSUPPORTED_CONTACT');
export const UnsupportedIdentifierError = define(
  'UnsupportedIdentifierError',
  'ERR_ACME_UNSUPPORTED_IDENTIFIER',
);
export const UserActionRequiredError = define('UserActionRequiredError', 'ERR_ACME_USER_ACTION_REQUIRED');

const BY_TYPE: Record<string, ReturnType<typeof define>> = {
  accountDoesNotExist: AccountDoesNotExistError,
  alreadyReplaced: AlreadyReplacedError,
  alreadyRevoked: AlreadyRevokedError,
  badCSR: BadCsrError,
  badNonce: BadNonceError,
  badPublicKey: BadPublicKeyError,
  badRevocationReason: BadRevocationReasonError,
  badSignatureAlgorithm: BadSignatureAlgorithmError,
  caa: CaaError,
  compound: CompoundError,
  connection: ConnectionError,
  dns: DnsError,
  externalAccountRequired: ExternalAccountRequiredError,
  incorrectResponse: IncorrectResponseError,
  invalidContact: InvalidContactError,
  invalidProfile: InvalidProfileError,
  malformed: MalformedError,
  orderNotReady: OrderNotReadyError,
  rateLimited: RateLimitedError,
  rejectedIdentifier: RejectedIdentifierError,
  serverInternal: ServerInternalError,
  tls: TlsError,
  unauthorized: UnauthorizedError,
  unsupportedContact: UnsupportedContactError,
  unsupportedIdentifier: UnsupportedIdentifierError,
  userActionRequired: UserActionRequiredError,
};

/** Every ACME problem short type acmekit knows, with its error class. */
export const problemClasses: Readonly<Record<string, ReturnType<typeof define>>> = BY_TYPE;

/** The typed error for a problem document; unknown types give a plain AcmeProblemError. */
export function problemToError(problem: ProblemDocument, details: ProblemDetails): AcmeProblemError {
  const short = problem.type.startsWith(ACME_PREFIX) ? problem.type.slice(ACME_PREFIX.length) : undefined;
  const cls = short !== undefined && Object.hasOwn(BY_TYPE, short) ? BY_TYPE[short] : undefined;
  return cls ? new cls(problem, details) : new AcmeProblemError(problem, details);
}

/** The same problem as a new error with more details, the original as its cause. */
export function withProblemDetails(
  err: AcmeProblemError,
  extra: Pick<ProblemDetails, 'externalAccountBinding'>,
): AcmeProblemError {
  const document = (e: AcmeProblemError): ProblemDocument => ({
    type: e.type,
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.instance !== undefined ? { instance: e.instance } : {}),
    ...(e.identifier ? { identifier: e.identifier } : {}),
    ...(e.subproblems.length > 0 ? { subproblems: e.subproblems.map(document) } : {}),
  });
  return problemToError(document(err), {
    ...(err.url !== undefined ? { url: err.url } : {}),
    ...(err.retryAfter ? { retryAfter: err.retryAfter } : {}),
    links: err.links,
    cause: err,
    ...extra,
  });
}
