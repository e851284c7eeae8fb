import { createHash, createHmac } from 'node:crypto';
import type { Secret } from '../../../internal/secret.ts';

// TencentCloud API 3.0 "Signature v3" (TC3-HMAC-SHA256), as Tencent Cloud documents it on the page
// every product repeats (e.g. https://www.tencentcloud.com/document/product/267/37447):
//
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n
//                      SignedHeaders \n Lowercase(Hex(SHA256(payload)))
//   StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/service/tc3_request \n
//                      Lowercase(Hex(SHA256(CanonicalRequest)))
//   SecretDate = HMAC_SHA256("TC3" + SecretKey, Date); SecretService = HMAC_SHA256(SecretDate, service);
//   SecretSigning = HMAC_SHA256(SecretService, "tc3_request");
//   Signature = Hex(HMAC_SHA256(SecretSigning, StringToSign))
//   Authorization = "TC3-HMAC-SHA256 Credential=" + SecretId + "/" + CredentialScope +
//                   ", SignedHeaders=" + SignedHeaders + ", Signature=" + Signature
//
// Date is the UTC date of the X-TC-Timestamp value. acmekit sends POST requests with a JSON body to "/"
// and signs content-type and host, as the documentation's example does.

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface Tc3Credentials {
  readonly secretId: string;
  readonly secretKey: Secret;
}

export interface Tc3Signable {
  /** Host as sent in the Host header (with the port when not 443). */
  readonly host: string;
  /** "dnspod", "cvm": the first label of the API's host. */
  readonly service: string;
  /** The JSON body exactly as sent. */
  readonly body: string;
  /** X-TC-Timestamp: seconds since the epoch. */
  readonly timestamp: number;
  readonly contentType?: string;
}

export interface Tc3Signature {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** "2019-02-25": the UTC date of a timestamp in seconds. */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** Signs a POST of a JSON body to "/" (headers content-type and host). */
export function signTc3(creds: Tc3Credentials, r: Tc3Signable): Tc3Signature {
  const contentType = r.contentType ?? JSON_CONTENT_TYPE;
  const signedHeaders = 'content-type;host';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${contentType.toLowerCase()}\nhost:${r.host.toLowerCase()}\n`,
    signedHeaders,
    sha256Hex(r.body),
  ].join('\n');
  const date = tc3Date(r.timestamp);
  const scope = `${date}/${r.service}/tc3_request`;
  const stringToSign = [TC3_ALGORITHM, String(r.timestamp), scope, sha256Hex(canonicalRequest)].join('\n');
  const secretDate = hmac(`TC3${creds.secretKey.reveal()}`, date);
  const secretService = hmac(secretDate, r.service);
  const secretSigning = hmac(secretService, 'tc3_request');
  const signature = hmac(secretSigning, stringToSign).toString('hex');
  return {
    canonicalRequest,
    stringToSign,
    signature,
    authorization: `${TC3_ALGORITHM} Credential=${creds.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
