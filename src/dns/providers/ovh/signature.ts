import { createHash } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

// OVHcloud API request signature, as "First Steps with the OVHcloud APIs" documents it
// (https://docs.ovh.com/gb/en/customer/first-steps-with-ovh-api/, "Signing requests"):
//
//   "$1$" + SHA1_HEX(AS + "+" + CK + "+" + METHOD + "+" + QUERY + "+" + BODY + "+" + TSTAMP)
//
// AS: the application secret, CK: the consumer key, METHOD: the HTTP method, QUERY: the full URL
// (scheme, host, path and query string, exactly as sent), BODY: the request body ("" without one),
// TSTAMP: the X-Ovh-Timestamp value (seconds, on OVHcloud's clock as /auth/time gives it). The request
// carries X-Ovh-Application (the application key), X-Ovh-Consumer, X-Ovh-Timestamp and X-Ovh-Signature.

export interface OvhSignable {
  readonly method: string;
  /** The full URL as sent: "https://eu.api.ovh.com/1.0/domain/zone/example.com/record?fieldType=TXT". */
  readonly url: string;
  readonly body: string;
  /** Seconds since the epoch on OVHcloud's clock. */
  readonly timestamp: number;
}

export interface OvhKeys {
  readonly applicationKey: string;
  readonly applicationSecret: Secret;
  readonly consumerKey: Secret;
}

/** The X-Ovh-Signature value. */
export function ovhSignature(
  keys: Pick<OvhKeys, 'applicationSecret' | 'consumerKey'>,
  r: OvhSignable,
): string {
  const clear = [
    keys.applicationSecret.reveal(),
    keys.consumerKey.reveal(),
    r.method.toUpperCase(),
    r.url,
    r.body,
    String(r.timestamp),
  ].join('+');
  return `$1$${createHash('sha1').update(clear, 'utf8').digest('hex')}`;
}

/** The four headers of a signed request. */
export function ovhSignedHeaders(keys: OvhKeys, r: OvhSignable): Record<string, string> {
  return {
    'x-ovh-application': keys.applicationKey,
    'x-ovh-consumer': keys.consumerKey.reveal(),
    'x-ovh-timestamp': String(r.timestamp),
    'x-ovh-signature': ovhSignature(keys, r),
  };
}
