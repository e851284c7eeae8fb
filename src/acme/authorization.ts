import type { Identifier } from '../crypto/identifier.ts';
import { BadServerResponseError } from '../errors/base.ts';
import { retryAfterOf } from '../protocol/retry-after.ts';
import { parseAuthorization } from '../protocol/wire-parse.ts';
import type { AuthorizationStatus, AuthorizationWire, ChallengeType } from '../protocol/wire-types.ts';
import { Challenge } from './challenge.ts';
import { pollUntil } from './polling.ts';
import type { AccountSession } from './session.ts';

/** An identifier the account must prove control of (RFC 8555 §7.1.4), with its challenges. */
export class Authorization {
  readonly url: string;
  readonly account: AccountSession;
  #state: AuthorizationWire;

  constructor(account: AccountSession, url: string, state: AuthorizationWire) {
    this.account = account;
    this.url = url;
    this.#state = state;
  }

  static async fetch(account: AccountSession, url: string, signal?: AbortSignal): Promise<Authorization> {
    const res = await account.request(url, undefined, signal);
    return new Authorization(account, url, parseAuthorization(res.json(), url));
  }

  get state(): Readonly<AuthorizationWire> {
    return this.#state;
  }
  get status(): AuthorizationStatus {
    return this.#state.status;
  }
  get wildcard(): boolean {
    return this.#state.wildcard === true;
  }

  /** The identifier as it appears in the order: a wildcard authorization gives "*.example.com" back. */
  get identifier(): Identifier {
    const { type, value } = this.#state.identifier;
    if (type !== 'dns' && type !== 'ip') {
      throw new BadServerResponseError(
        `authorization for an unknown identifier type ${JSON.stringify(type)}`,
        {
          url: this.url,
        },
      );
    }
    return { type, value: this.wildcard && !value.startsWith('*.') ? `*.${value}` : value };
  }

  get challenges(): Challenge[] {
    const id = this.identifier;
    return this.#state.challenges.map((c) => new Challenge(this.account, id, this.wildcard, c));
  }

  challenge(type: ChallengeType): Challenge | undefined {
    return this.challenges.find((c) => c.type === type);
  }

  async refresh(signal?: AbortSignal): Promise<this> {
    await this.#fetch(signal);
    return this;
  }

  async #fetch(signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.account.request(this.url, undefined, signal);
    this.#state = parseAuthorization(res.json(), this.url);
    return retryAfterOf(res.headers, this.account.client.clock.now());
  }

  /** Polls until the authorization leaves "pending" (Retry-After honoured). */
  async wait(signal?: AbortSignal): Promise<this> {
    const client = this.account.client;
    await pollUntil(
      `authorization for ${this.identifier.value}`,
      async () => ({ retryAfterMs: await this.#fetch(signal), value: this.status }),
      (s) => s !== 'pending',
      { policy: client.pollPolicy, clock: client.clock, signal },
    );
    return this;
  }

  /** Gives up this authorization (RFC 8555 §7.5.2), e.g. after a failed attempt. */
  async deactivate(signal?: AbortSignal): Promise<this> {
    const res = await this.account.request(this.url, { status: 'deactivated' }, signal);
    this.#state = parseAuthorization(res.json(), this.url);
    return this;
  }
}
