import type { KeyObject } from 'node:crypto';
import type { Identifier } from '../crypto/identifier.ts';
import { BadServerResponseError } from '../errors/base.ts';
import { AcmeProblemError, problemToError } from '../errors/problem.ts';
import { retryAfterOf } from '../protocol/retry-after.ts';
import { parseOrder } from '../protocol/wire-parse.ts';
import type { OrderStatus, OrderWire } from '../protocol/wire-types.ts';
import { Authorization } from './authorization.ts';
import { type CertificateChain, downloadChains } from './certificate-download.ts';
import { pollUntil } from './polling.ts';
import type { AccountSession } from './session.ts';

/** A request for one certificate (RFC 8555 §7.1.3): its URL plus the last state the CA reported. */
export class Order {
  readonly url: string;
  readonly account: AccountSession;
  #state: OrderWire;

  constructor(account: AccountSession, url: string, state: OrderWire) {
    this.account = account;
    this.url = url;
    this.#state = state;
  }

  get state(): Readonly<OrderWire> {
    return this.#state;
  }
  get status(): OrderStatus {
    return this.#state.status;
  }
  get identifiers(): Identifier[] {
    return this.#state.identifiers.map((i) => ({ type: i.type as Identifier['type'], value: i.value }));
  }
  /** Why the order became invalid, when the CA says. */
  get error(): AcmeProblemError | undefined {
    return this.#state.error ? problemToError(this.#state.error, { url: this.url }) : undefined;
  }

  async refresh(signal?: AbortSignal): Promise<this> {
    await this.#fetch(signal);
    return this;
  }

  async #fetch(signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.account.request(this.url, undefined, signal);
    this.#state = parseOrder(res.json(), this.url);
    return retryAfterOf(res.headers, this.account.client.clock.now());
  }

  /** Fetches every authorization of the order (one POST-as-GET each). */
  async authorizations(signal?: AbortSignal): Promise<Authorization[]> {
    return Promise.all(
      this.#state.authorizations.map((url) => Authorization.fetch(this.account, url, signal)),
    );
  }

  /**
   * Polls until the order leaves the given transitional states: "pending" while challenges are
   * validated (one request covers every authorization), "processing" after finalize.
   */
  async waitWhile(states: readonly OrderStatus[], signal?: AbortSignal): Promise<this> {
    if (!states.includes(this.status)) return this;
    const client = this.account.client;
    await pollUntil(
      `order ${this.url}`,
      async () => ({ retryAfterMs: await this.#fetch(signal), value: this.status }),
      (s) => !states.includes(s),
      { policy: client.pollPolicy, clock: client.clock, signal },
    );
    return this;
  }

  /**
   * Sends the CSR (RFC 8555 §7.4). The order must be "ready"; afterwards it is "processing" or
   * "valid". Call waitWhile(['processing']) or certificate() next.
   */
  async finalize(csrDer: Uint8Array, signal?: AbortSignal): Promise<this> {
    try {
      const res = await this.account.request(
        this.#state.finalize,
        { csr: Buffer.from(csrDer).toString('base64url') },
        signal,
      );
      this.#state = parseOrder(res.json(), this.url);
    } catch (err) {
      // A retried finalize whose first answer was lost finds the order already moving on: that is success.
      if (!(err instanceof AcmeProblemError)) throw err;
      await this.refresh(signal);
      if (this.status !== 'processing' && this.status !== 'valid') throw err;
    }
    return this;
  }

  /**
   * Downloads the certificate chain and every alternate chain the CA offers (Link rel="alternate",
   * RFC 8555 §7.4.2). With `preferredChain`, the chain whose top issuer has that common name comes first.
   * With a key (or public key), the leaf is checked to match it and the order's identifiers.
   */
  async certificate(
    opts: { preferredChain?: string; key?: KeyObject; signal?: AbortSignal } = {},
  ): Promise<CertificateChain> {
    await this.waitWhile(['processing'], opts.signal);
    if (this.status !== 'valid' || !this.#state.certificate) {
      throw new BadServerResponseError(
        `the order is ${this.status}${this.#state.certificate ? '' : ' and has no certificate URL'}; finalize it first`,
        { url: this.url },
      );
    }
    return downloadChains(this.account, this.#state.certificate, {
      identifiers: this.identifiers,
      ...opts,
    });
  }
}
