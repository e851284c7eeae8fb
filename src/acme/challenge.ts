import { createHash } from 'node:crypto';
import type { Identifier } from '../crypto/identifier.ts';
import { BadServerResponseError } from '../errors/base.ts';
import { AcmeProblemError, problemToError } from '../errors/problem.ts';
import { parseChallenge } from '../protocol/wire-parse.ts';
import type { ChallengeStatus, ChallengeWire } from '../protocol/wire-types.ts';
import type { AccountSession } from './session.ts';

/** RFC 8555 §8.1: tokens are base64url; 256 characters is far above what any CA sends. */
const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;

/** One challenge of an authorization: what to publish, and the call that tells the CA to look. */
export class Challenge {
  readonly account: AccountSession;
  readonly identifier: Identifier;
  readonly wildcard: boolean;
  #state: ChallengeWire;

  constructor(account: AccountSession, identifier: Identifier, wildcard: boolean, state: ChallengeWire) {
    this.account = account;
    this.identifier = identifier;
    this.wildcard = wildcard;
    this.#state = state;
  }

  get url(): string {
    return this.#state.url;
  }
  /** 'http-01', 'dns-01', 'tls-alpn-01' (ChallengeType), or a type acmekit does not know, as the CA spelt it. */
  get type(): string {
    return this.#state.type;
  }
  get status(): ChallengeStatus {
    return this.#state.status;
  }
  get state(): Readonly<ChallengeWire> {
    return this.#state;
  }
  /** The CA's explanation when validation failed. */
  get error(): AcmeProblemError | undefined {
    return this.#state.error ? problemToError(this.#state.error, { url: this.url }) : undefined;
  }

  /**
   * The token, checked: it becomes a file name and a URL path, so anything outside base64url is
   * refused before it reaches a filesystem or a socket.
   */
  get token(): string {
    const token = this.#state.token;
    if (token === undefined || !TOKEN_RE.test(token)) {
      throw new BadServerResponseError(
        `the CA sent ${this.type} challenge for ${this.identifier.value} with an unusable token (must be 16-256 base64url characters)`,
        { url: this.url },
      );
    }
    return token;
  }

  /** RFC 8555 §8.1: token "." base64url(JWK thumbprint of the account key). */
  get keyAuthorization(): string {
    return `${this.token}.${this.account.thumbprint}`;
  }

  /** http-01: the path the CA fetches (RFC 8555 §8.3). */
  get httpPath(): string {
    return `/.well-known/acme-challenge/${this.token}`;
  }

  /** dns-01: the TXT value, base64url(SHA-256(key authorization)) (RFC 8555 §8.4). */
  get dnsTxtValue(): string {
    return createHash('sha256').update(this.keyAuthorization).digest('base64url');
  }

  /** dns-01: the name the TXT record goes to; a wildcard's record sits at the base name. */
  get dnsRecordName(): string {
    return `_acme-challenge.${this.identifier.value.replace(/^\*\./, '')}`;
  }

  /** tls-alpn-01: the self-signed certificate with the acmeIdentifier extension (RFC 8737 §3). */
  async tlsAlpnCertificate(): Promise<{ certPem: string; keyPem: string }> {
    const { buildTlsAlpnCertificate } = await import('../crypto/tls-alpn-cert.ts');
    const { certPem, keyPem } = await buildTlsAlpnCertificate({
      identifier: this.identifier,
      keyAuthorization: this.keyAuthorization,
    });
    return { certPem, keyPem };
  }

  /** Tells the CA the proof is in place (RFC 8555 §7.5.1: POST with an empty object). */
  async respond(signal?: AbortSignal): Promise<this> {
    try {
      const res = await this.account.request(this.url, {}, signal);
      this.#state = parseChallenge(res.json(), this.url);
    } catch (err) {
      // A retried answer whose first reply was lost finds the challenge already being validated: success.
      if (!(err instanceof AcmeProblemError)) throw err;
      await this.refresh(signal);
      if (this.status !== 'processing' && this.status !== 'valid') throw err;
    }
    return this;
  }

  async refresh(signal?: AbortSignal): Promise<this> {
    const res = await this.account.request(this.url, undefined, signal);
    this.#state = parseChallenge(res.json(), this.url);
    return this;
  }
}
