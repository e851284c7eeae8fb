// The request signature of the NearlyFreeSpeech.NET API, as its API introduction documents it
// (https://members.nearlyfreespeech.net/wiki/API/Introduction, "Authentication"):
//   X-NFSN-Authentication: <login>;<timestamp>;<salt>;<hash>
//   hash      = hex(sha1("<login>;<timestamp>;<salt>;<api-key>;<request-uri>;<body-hash>"))
//   body-hash = hex(sha1(request body)), the hash of the empty string when there is none
// The timestamp is Unix seconds; the salt is 16 random letters and digits, never reused.
import { createHash, randomInt } from 'node:crypto';
import type { Secret } from '../../internal/secret.ts';

export const NFSN_AUTH_HEADER = 'x-nfsn-authentication';

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface NfsnSignInput {
  readonly login: string;
  readonly apiKey: Secret;
  /** The path and query the request is sent to, from the root: "/dns/example.com/addRR". */
  readonly requestUri: string;
  readonly body: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly salt: string;
}

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex');

/** The value of the X-NFSN-Authentication header. */
export function nfsnAuthHeader(i: NfsnSignInput): string {
  const stamp = String(Math.floor(i.timestamp));
  const hash = sha1([i.login, stamp, i.salt, i.apiKey.reveal(), i.requestUri, sha1(i.body)].join(';'));
  return [i.login, stamp, i.salt, hash].join(';');
}

/** 16 random letters and digits. */
export function nfsnSalt(): string {
  let salt = '';
  for (let i = 0; i < 16; i++) salt += SALT_CHARS[randomInt(SALT_CHARS.length)];
  return salt;
}
