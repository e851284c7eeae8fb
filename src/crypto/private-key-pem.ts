import type { KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { exportPrivateKeyPem } from './keys.ts';

const REDACTED = '[redacted private key]';

/**
 * A private key the library hands out (`ObtainResult.privateKey`) that never prints itself:
 * `String()`, template literals, `JSON.stringify` and `util.inspect` (so `console.log`) all show
 * "[redacted private key]". `pem()` is the one explicit call that returns it, as PKCS#8 PEM, to save it
 * (0600) or load it into a TLS server.
 */
export class PrivateKeyPem {
  readonly #key: KeyObject;
  #pem: string | undefined;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  /** The key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"): keep it secret. */
  pem(): string {
    this.#pem ??= exportPrivateKeyPem(this.#key);
    return this.#pem;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `PrivateKeyPem ${REDACTED}`;
  }
}
