import type { KeyObject } from 'node:crypto';
import type { Identifier } from '../crypto/identifier.ts';
import { jwkThumbprint, publicJwk } from '../crypto/jwk.ts';
import { signJws } from '../crypto/jws.ts';
import { accountAlgorithm } from '../crypto/keys.ts';
import { BadServerResponseError, InvalidInputError } from '../errors/base.ts';
import { AcmeProblemError, AlreadyReplacedError } from '../errors/problem.ts';
import type { AcmeResponse } from '../protocol/signed-request.ts';
import { parseAccount, parseOrder } from '../protocol/wire-parse.ts';
import type { AccountStatus, AccountWire } from '../protocol/wire-types.ts';
import { AccountCredentials } from './account-credentials.ts';
import { normalizeContacts } from './contacts.ts';
import { normalizeIdentifiers } from './identifiers.ts';
import { Order } from './order.ts';
import { type RevocationReason, revokeCertificate } from './revocation.ts';
import type { AccountSession, ClientContext } from './session.ts';

export interface NewOrderOptions {
  /** DNS names (wildcards allowed) and IP addresses; normalised and checked before sending. */
  identifiers: readonly (string | Identifier)[];
  notBefore?: Date;
  notAfter?: Date;
  /** A profile the CA lists in its directory meta (ACME profiles draft). */
  profile?: string;
  /** ARI certificate id of the certificate this order replaces (RFC 9773 §5). */
  replaces?: string;
  signal?: AbortSignal;
}

/**
 * A registered ACME account (RFC 8555 §7.1.2): its URL (the kid), its key, and its last known state.
 * Its client is the AcmeClient it came from (typed by what orders and challenges need of it).
 */
export class Account implements AccountSession {
  readonly client: ClientContext;
  readonly url: string;
  #key: KeyObject;
  #thumbprint: string;
  #state: Partial<AccountWire>;

  /** `state`: the last known account object; without a status, `status` is undefined until refresh(). */
  constructor(client: ClientContext, url: string, key: KeyObject, state: Partial<AccountWire> = {}) {
    accountAlgorithm(key);
    this.client = client;
    this.url = url;
    this.#key = key;
    this.#thumbprint = jwkThumbprint(key);
    this.#state = state;
  }

  /**
   * The last known account object: after createAccount, findAccount, refresh, update or deactivate,
   * every field the CA sent (RFC 8555's status, contact, termsOfServiceAgreed, orders, and the CA's own,
   * such as Let's Encrypt's createdAt and initialIp, as sent); empty for an account made from
   * credentials alone. The account's URL is `url`.
   */
  get state(): Readonly<Partial<AccountWire>> {
    return this.#state;
  }
  /** The last known status; undefined when it was never fetched (refresh() fetches it). */
  get status(): AccountStatus | undefined {
    return this.#state.status;
  }
  get contact(): readonly string[] {
    return this.#state.contact ?? [];
  }
  /** RFC 7638 thumbprint of the account key, the second half of every key authorization. */
  get thumbprint(): string {
    return this.#thumbprint;
  }
  get key(): KeyObject {
    return this.#key;
  }

  /** Signed POST as this account (kid); payload undefined is a POST-as-GET. For resources acmekit does not wrap. */
  request(
    url: string,
    payload: unknown,
    signal?: AbortSignal,
    opts: { accept?: string } = {},
  ): Promise<AcmeResponse> {
    const headers: Record<string, string> = opts.accept ? { accept: opts.accept } : {};
    return this.client.http.post(url, payload, { key: this.#key, kid: this.url }, signal, headers);
  }

  /** Everything needed to use this account again later; save it as JSON (it holds the private key). */
  toCredentials(): AccountCredentials {
    return new AccountCredentials(this.client.directoryUrl, this.url, this.#key);
  }

  /**
   * Fetches the current account object with a POST-as-GET (RFC 8555 §6.3; Pebble refuses the older
   * empty update). A CA refuses every request of a deactivated or revoked account (§7.3.6), this one
   * too: `accountStatusRefused(err)` reads that status from its refusal.
   */
  async refresh(signal?: AbortSignal): Promise<this> {
    const res = await this.request(this.url, undefined, signal);
    this.#state = parseAccount(res.json(), this.url);
    return this;
  }

  /** Replaces the contact list (RFC 8555 §7.3.2); an empty list removes every contact. */
  async update(changes: { contact: string | readonly string[] }, signal?: AbortSignal): Promise<this> {
    const contact = normalizeContacts(changes.contact);
    const res = await this.request(this.url, { contact }, signal);
    this.#state = parseAccount(res.json(), this.url);
    return this;
  }

  /** Ends the account for good (RFC 8555 §7.3.6); the CA refuses its key afterwards. */
  async deactivate(signal?: AbortSignal): Promise<this> {
    const res = await this.request(this.url, { status: 'deactivated' }, signal);
    this.#state = parseAccount(res.json(), this.url);
    return this;
  }

  /**
   * Moves the account to a new key (RFC 8555 §7.3.5); the key type may change. The old key is
   * refused by the CA afterwards. Save toCredentials() again after this.
   */
  async rolloverKey(newKey: KeyObject, signal?: AbortSignal): Promise<this> {
    accountAlgorithm(newKey);
    const dir = await this.client.http.directory(signal);
    if (!dir.keyChange)
      throw new BadServerResponseError('this CA has no keyChange resource in its directory');
    const inner = signJws({
      key: newKey,
      url: dir.keyChange,
      identity: { jwk: true },
      payload: { account: this.url, oldKey: publicJwk(this.#key) },
    });
    await this.request(dir.keyChange, inner, signal);
    this.#key = newKey;
    this.#thumbprint = jwkThumbprint(newKey);
    return this;
  }

  /**
   * Creates an order (RFC 8555 §7.4). Identifiers are normalised first; a `replaces` the CA refuses
   * (409 alreadyReplaced, 403, 400) is dropped and the order sent again without it, as RFC 9773 §5 allows.
   */
  async newOrder(opts: NewOrderOptions): Promise<Order> {
    const identifiers = normalizeIdentifiers(opts.identifiers);
    const dir = await this.client.http.directory(opts.signal);
    if (opts.profile !== undefined) {
      const profiles = dir.meta?.profiles;
      if (!profiles || !Object.hasOwn(profiles, opts.profile)) {
        const known = profiles ? Object.keys(profiles).join(', ') : 'none';
        throw new InvalidInputError(
          `this CA does not offer the profile ${JSON.stringify(opts.profile)} (offered: ${known})`,
          opts.profile,
        );
      }
    }
    const payload: Record<string, unknown> = {
      identifiers: identifiers.map((i) => ({ type: i.type, value: i.value })),
    };
    if (opts.notBefore) payload.notBefore = opts.notBefore.toISOString();
    if (opts.notAfter) payload.notAfter = opts.notAfter.toISOString();
    if (opts.profile !== undefined) payload.profile = opts.profile;
    if (opts.replaces !== undefined) payload.replaces = opts.replaces;
    let res: AcmeResponse;
    try {
      res = await this.request(dir.newOrder, payload, opts.signal);
    } catch (err) {
      // Only problems that can be about `replaces` itself; invalidProfile, rejectedIdentifier... are final.
      const unrelated = [
        'invalidProfile',
        'rejectedIdentifier',
        'unsupportedIdentifier',
        'rateLimited',
        'caa',
      ];
      const refused =
        err instanceof AcmeProblemError &&
        (err instanceof AlreadyReplacedError ||
          ([400, 403].includes(err.status ?? 0) && !unrelated.some((t) => err.type.endsWith(`:${t}`))));
      if (opts.replaces === undefined || !refused) throw err;
      this.client.logger.warn(
        { replaces: opts.replaces, problem: err.message },
        'CA refused "replaces"; ordering without it',
      );
      delete payload.replaces;
      res = await this.request(dir.newOrder, payload, opts.signal);
    }
    if (!res.location)
      throw new BadServerResponseError('newOrder answered without a Location header', { url: dir.newOrder });
    return new Order(this, res.location, parseOrder(res.json(), res.location));
  }

  /** Loads an existing order by URL, e.g. to resume after a restart. */
  async order(url: string, signal?: AbortSignal): Promise<Order> {
    const res = await this.request(url, undefined, signal);
    return new Order(this, url, parseOrder(res.json(), url));
  }

  /** Revokes a certificate this account holds (RFC 8555 §7.6). */
  async revoke(
    certificatePem: string,
    opts: { reason?: RevocationReason; signal?: AbortSignal } = {},
  ): Promise<void> {
    await revokeCertificate(this.client, certificatePem, { key: this.#key, kid: this.url }, opts);
  }
}

/**
 * The status a CA's refusal gives the account that sent the request, when it says one: a CA refuses
 * every request of a deactivated or revoked account (RFC 8555 §7.3.6), a POST-as-GET of the account
 * and onlyReturnExisting included, with an `unauthorized` problem whose detail names the status
 * (Boulder: `Account is not valid, has status "deactivated"`; Pebble: `Account has been deactivated`,
 * `An account with the provided public key exists but is deactivated`). Undefined for any other error.
 */
export function accountStatusRefused(err: unknown): 'deactivated' | 'revoked' | undefined {
  if (!(err instanceof AcmeProblemError) || err.type !== 'urn:ietf:params:acme:error:unauthorized') {
    return undefined;
  }
  const detail = err.detail;
  if (!/\baccount\b/i.test(detail)) return undefined;
  if (/(?:has status\W+|has been |is )deactivated\b/i.test(detail)) return 'deactivated';
  if (/(?:has status\W+|has been )revoked\b/i.test(detail)) return 'revoked';
  return undefined;
}
