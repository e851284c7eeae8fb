import type { KeyObject } from 'node:crypto';
import { decodeEabKey, type ExternalAccountBinding, signEab } from '../crypto/eab.ts';
import { type AccountKeyAlgorithm, accountAlgorithm, generateAccountKey } from '../crypto/keys.ts';
import { BadServerResponseError, InvalidInputError } from '../errors/base.ts';
import { AcmeProblemError, withProblemDetails } from '../errors/problem.ts';
import type { Clock } from '../internal/clock.ts';
import { systemClock } from '../internal/clock.ts';
import { type Logger, silentLogger } from '../internal/logger.ts';
import { caQuirks, resolveDirectoryUrl } from '../protocol/ca-presets.ts';
import { AcmeHttp, type RetryPolicy } from '../protocol/signed-request.ts';
import { HttpTransport, type TransportOptions } from '../protocol/transport.ts';
import { parseAccount } from '../protocol/wire-parse.ts';
import type { AccountWire, DirectoryWire } from '../protocol/wire-types.ts';
import { Account } from './account.ts';
import { AccountCredentials, type AccountCredentialsJson } from './account-credentials.ts';
import { normalizeContacts } from './contacts.ts';
import { defaultPollPolicy, type PollPolicy } from './polling.ts';
import { fetchRenewalInfo, type RenewalInfo } from './renewal-info.ts';
import { type RevocationReason, revokeCertificate } from './revocation.ts';

// What CAs answer for a binding they do not accept: RFC 8555 §7.3.4 says unauthorized; some say malformed,
// or externalAccountRequired as if none had been sent.
const BINDING_REFUSALS = new Set(
  ['unauthorized', 'malformed', 'externalAccountRequired'].map((t) => `urn:ietf:params:acme:error:${t}`),
);

/** A newAccount refusal that names the binding as the likely cause; any other error as it is. */
function bindingRefusal(err: unknown): unknown {
  return err instanceof AcmeProblemError && BINDING_REFUSALS.has(err.type)
    ? withProblemDetails(err, { externalAccountBinding: true })
    : err;
}

export interface AcmeClientOptions extends TransportOptions {
  logger?: Logger;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  polling?: Partial<PollPolicy>;
}

export interface CreateAccountOptions {
  /** Account key; a new one of `algorithm` is generated when absent. */
  key?: KeyObject;
  algorithm?: AccountKeyAlgorithm;
  /** Email addresses, with or without "mailto:". */
  contact?: string | readonly string[];
  /** Agreement to the CA's terms of service (directory meta.termsOfService); required when the CA has terms. */
  acceptTos?: boolean;
  externalAccountBinding?: ExternalAccountBinding;
  signal?: AbortSignal;
}

/**
 * Entry point to one CA: `new AcmeClient('letsencrypt-staging')` or any directory URL. Owns the HTTP
 * transport, nonce pool and retry policy shared by every account, order and challenge made from it.
 */
export class AcmeClient {
  readonly directoryUrl: string;
  readonly http: AcmeHttp;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollPolicy: PollPolicy;

  constructor(directory: string, opts: AcmeClientOptions = {}) {
    this.directoryUrl = resolveDirectoryUrl(directory);
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.pollPolicy = { ...defaultPollPolicy, ...opts.polling };
    this.http = new AcmeHttp(this.directoryUrl, {
      // A CA reached over https never gets a request out of TLS, whatever URL it hands out (docs/transport.md).
      transport: new HttpTransport(opts, {
        httpsOnly: this.directoryUrl.startsWith('https:'),
        ...(opts.logger ? { logger: opts.logger } : {}),
      }),
      clock: this.clock,
      logger: this.logger,
      retry: opts.retry ?? {},
    });
  }

  /** The CA's directory: resource URLs and meta (terms, EAB requirement, profiles). */
  directory(signal?: AbortSignal): Promise<DirectoryWire> {
    return this.http.directory(signal);
  }

  /**
   * Registers an account, or returns the existing one for this key (RFC 8555 §7.3: the CA answers
   * 200 with the existing account). Terms and EAB requirements are checked before sending.
   */
  async createAccount(opts: CreateAccountOptions = {}): Promise<Account> {
    const contact = normalizeContacts(opts.contact);
    if (opts.key) accountAlgorithm(opts.key);
    if (opts.externalAccountBinding) decodeEabKey(opts.externalAccountBinding);
    const dir = await this.directory(opts.signal);
    const quirks = caQuirks[this.directoryUrl] ?? {};
    if (dir.meta?.termsOfService && opts.acceptTos !== true) {
      throw new InvalidInputError(
        `the CA requires agreeing to its terms of service (${dir.meta.termsOfService}); read them, then pass acceptTos: true (--accept-tos)`,
      );
    }
    if ((dir.meta?.externalAccountRequired || quirks.eabRequired) && !opts.externalAccountBinding) {
      throw new InvalidInputError(
        'this CA requires external account binding: pass the EAB key id and HMAC key from your CA account (--eab --eab.kid --eab.hmac)',
      );
    }
    if (opts.algorithm === 'EdDSA' && this.directoryUrl.includes('letsencrypt.org')) {
      throw new InvalidInputError(
        "Let's Encrypt does not accept EdDSA account keys; use ES256, ES384 or RS256",
      );
    }
    const key = opts.key ?? (await generateAccountKey(opts.algorithm ?? 'ES256'));
    const payload: Record<string, unknown> = { termsOfServiceAgreed: opts.acceptTos === true };
    if (contact.length > 0) payload.contact = contact;
    if (opts.externalAccountBinding) {
      payload.externalAccountBinding = signEab(opts.externalAccountBinding, key, dir.newAccount);
    }
    const res = await this.http.post(dir.newAccount, payload, { key }, opts.signal).catch((err: unknown) => {
      throw opts.externalAccountBinding ? bindingRefusal(err) : err;
    });
    if (!res.location) {
      throw new BadServerResponseError('newAccount answered without a Location header (the account URL)', {
        url: dir.newAccount,
        status: res.status,
      });
    }
    this.logger.info({ account: res.location, created: res.status === 201 }, 'account ready');
    return new Account(this, res.location, key, parseAccount(res.json(), res.location));
  }

  /** Finds the account registered with this key (RFC 8555 §7.3.1); AccountDoesNotExistError if none. */
  async findAccount(key: KeyObject, signal?: AbortSignal): Promise<Account> {
    accountAlgorithm(key);
    const dir = await this.directory(signal);
    const res = await this.http.post(dir.newAccount, { onlyReturnExisting: true }, { key }, signal);
    if (!res.location) {
      throw new BadServerResponseError('newAccount answered without a Location header', {
        url: dir.newAccount,
      });
    }
    return new Account(this, res.location, key, parseAccount(res.json(), res.location));
  }

  /**
   * An account from saved credentials, without a request. The directory URL must match this client's.
   * `state` is the last known account object (e.g. the one saved with the credentials); without it the
   * account's status is undefined until `refresh()`.
   */
  account(
    credentials: AccountCredentials | AccountCredentialsJson | string,
    state?: Partial<AccountWire>,
  ): Account {
    const creds =
      credentials instanceof AccountCredentials ? credentials : AccountCredentials.fromJSON(credentials);
    if (creds.directoryUrl !== this.directoryUrl) {
      throw new InvalidInputError(
        `these credentials belong to ${creds.directoryUrl}, not ${this.directoryUrl}; accounts exist per CA`,
      );
    }
    return new Account(this, creds.accountUrl, creds.key, { ...state });
  }

  /** Revokes with the certificate's own private key, no account needed (RFC 8555 §7.6). */
  async revokeWithCertificateKey(
    certificatePem: string,
    certificateKey: KeyObject,
    opts: { reason?: RevocationReason; signal?: AbortSignal } = {},
  ): Promise<void> {
    await revokeCertificate(this, certificatePem, { key: certificateKey }, opts);
  }

  /** ACME Renewal Information for a certificate (RFC 9773), or undefined when the CA has no ARI. */
  renewalInfo(certificatePem: string, signal?: AbortSignal): Promise<RenewalInfo | undefined> {
    return fetchRenewalInfo(this, certificatePem, signal);
  }

  /** Frees sockets so the process can exit. */
  close(): void {
    this.http.close();
  }
}
