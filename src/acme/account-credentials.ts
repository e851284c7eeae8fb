import type { JsonWebKey, KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { keyFromJwk, privateJwk } from '../crypto/jwk.ts';
import { InvalidInputError } from '../errors/base.ts';

/** The JSON form of saved credentials. It holds the private key: store it like one (0600). */
export interface AccountCredentialsJson {
  directoryUrl: string;
  accountUrl: string;
  privateKey: JsonWebKey;
}

/**
 * Everything needed to act as an existing account without another request: directory, account
 * URL (the kid) and key. Prints as [redacted]; JSON.stringify gives the full, savable form.
 */
export class AccountCredentials {
  readonly directoryUrl: string;
  readonly accountUrl: string;
  readonly #key: KeyObject;

  constructor(directoryUrl: string, accountUrl: string, key: KeyObject) {
    this.directoryUrl = directoryUrl;
    this.accountUrl = accountUrl;
    this.#key = key;
  }

  get key(): KeyObject {
    return this.#key;
  }

  toJSON(): AccountCredentialsJson {
    return {
      directoryUrl: this.directoryUrl,
      accountUrl: this.accountUrl,
      privateKey: privateJwk(this.#key),
    };
  }

  [inspect.custom](): string {
    return `AccountCredentials { directoryUrl: '${this.directoryUrl}', accountUrl: '${this.accountUrl}', privateKey: [redacted] }`;
  }

  static fromJSON(value: string | AccountCredentialsJson): AccountCredentials {
    let obj: unknown = value;
    if (typeof value === 'string') {
      try {
        obj = JSON.parse(value);
      } catch (cause) {
        throw new InvalidInputError('account credentials are not valid JSON', undefined, { cause });
      }
    }
    const o = obj as Partial<AccountCredentialsJson> | null;
    if (
      !o ||
      typeof o.directoryUrl !== 'string' ||
      typeof o.accountUrl !== 'string' ||
      typeof o.privateKey !== 'object'
    ) {
      throw new InvalidInputError('account credentials need directoryUrl, accountUrl and privateKey');
    }
    let key: KeyObject;
    try {
      key = keyFromJwk(o.privateKey);
    } catch (cause) {
      throw new InvalidInputError('account credentials hold an unreadable privateKey', undefined, { cause });
    }
    return new AccountCredentials(o.directoryUrl, o.accountUrl, key);
  }
}
