import { isB64u } from '../internal/base64url.ts';

/**
 * Replay-Nonce values the server handed out and nobody used yet. Each nonce is used at most once
 * (RFC 8555 §6.5); invalid values are ignored (§6.5.1: clients MUST ignore them).
 */
export class NoncePool {
  readonly #nonces: string[] = [];
  readonly #max: number;

  constructor(max = 16) {
    this.#max = max;
  }

  /** Keeps the nonce from a response header, if it is a valid one. */
  add(header: string | string[] | undefined): void {
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    if (value === undefined || value === '' || value.length > 512 || !isB64u(value)) return;
    this.#nonces.push(value);
    if (this.#nonces.length > this.#max) this.#nonces.shift();
  }

  /** The newest unused nonce (newest: the least likely to have expired), removed from the pool. */
  take(): string | undefined {
    return this.#nonces.pop();
  }

  get size(): number {
    return this.#nonces.length;
  }

  clear(): void {
    this.#nonces.length = 0;
  }
}
