import { AcmekitError } from './base.ts';

export type DnsOperation = 'present' | 'cleanup' | 'findZone' | 'configure';

/**
 * A DNS provider could not add or remove a record (bad credentials, zone not found, API error).
 * The message starts with the provider's code and never carries request headers, bodies or tokens.
 */
export class DnsProviderError extends AcmekitError {
  readonly provider: string;
  readonly operation: DnsOperation;
  /** The API's HTTP status or the DNS RCODE name, when there was one. */
  readonly status: number | string | undefined;
  constructor(
    provider: string,
    operation: DnsOperation,
    message: string,
    options: { status?: number | string; cause?: unknown } = {},
  ) {
    super('ERR_DNS_PROVIDER', `${provider}: ${operation}: ${message}`, { cause: options.cause });
    this.provider = provider;
    this.operation = operation;
    this.status = options.status;
  }
}

/** What one nameserver answered for the challenge name during the last propagation check. */
export interface NameserverAnswer {
  readonly nameserver: string;
  /** The TXT values it returned, or the error text when it did not answer. */
  readonly values: readonly string[];
  readonly error?: string;
}

/** A TXT record did not become visible on every nameserver in time, or the zone could not be found. */
export class DnsPropagationError extends AcmekitError {
  readonly fqdn: string;
  readonly value: string;
  readonly answers: readonly NameserverAnswer[];
  constructor(fqdn: string, value: string, answers: readonly NameserverAnswer[], message: string) {
    super('ERR_DNS_PROPAGATION', message);
    this.fqdn = fqdn;
    this.value = value;
    this.answers = answers;
  }
}
