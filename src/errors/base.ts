import type { AcmekitErrorCode } from './codes.ts';

/** Root of every error acmekit throws; `code` is stable and safe to switch on. */
export class AcmekitError extends Error {
  readonly code: AcmekitErrorCode;
  constructor(code: AcmekitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A value given by the caller is unusable; raised before any request is sent. */
export class InvalidInputError extends AcmekitError {
  /** The offending value, when it is safe to show (never a secret). */
  readonly value: unknown;
  constructor(message: string, value?: unknown, options?: { cause?: unknown }) {
    super('ERR_INVALID_INPUT', message, options);
    this.value = value;
  }
}

/** The CA answered with something the RFC does not allow (bad JSON, missing Location, unknown status...). */
export class BadServerResponseError extends AcmekitError {
  readonly url: string | undefined;
  readonly status: number | undefined;
  /**
   * The answer at the directory URL is no ACME directory (a 404, a web page, JSON of another shape, a
   * redirect): the URL given as the server is wrong, rather than the CA misbehaving. `url` is that URL.
   */
  readonly notAcmeDirectory: boolean;
  constructor(
    message: string,
    details: { url?: string; status?: number; cause?: unknown; notAcmeDirectory?: boolean } = {},
  ) {
    super('ERR_BAD_SERVER_RESPONSE', message, { cause: details.cause });
    this.url = details.url;
    this.status = details.status;
    this.notAcmeDirectory = details.notAcmeDirectory === true;
  }
}

/** The connection failed or broke (refused, reset, TLS failure) after the bounded retries. */
export class NetworkError extends AcmekitError {
  readonly url: string;
  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super('ERR_NETWORK', message, options);
    this.url = url;
  }
}

/** A request or a whole operation ran past its deadline. */
export class TimeoutError extends AcmekitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends AcmekitError {
  constructor(reason?: unknown) {
    super(
      'ERR_ABORTED',
      reason instanceof Error ? `aborted: ${reason.message}` : 'the operation was aborted',
      {
        cause: reason,
      },
    );
  }
}

/** The issued certificate does not fit the order: wrong key, wrong names, unparsable chain. */
export class CertificateMismatchError extends AcmekitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CERTIFICATE_MISMATCH', message, options);
  }
}

/** A challenge solver could not make its proof visible (port in use, file not writable...). */
export class SolverError extends AcmekitError {
  readonly challengeType: string;
  readonly identifier: string;
  constructor(challengeType: string, identifier: string, message: string, options?: { cause?: unknown }) {
    super('ERR_SOLVER', `${challengeType} for ${identifier}: ${message}`, options);
    this.challengeType = challengeType;
    this.identifier = identifier;
  }
}
