import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The server side of Signature Version 4, written apart from src/ on purpose: a fake that reused the
 * client's signer would accept whatever the signer got wrong. It follows the steps of AWS's
 * "Create a signed AWS API request" page: canonical request from the request as received, string to
 * sign, signing key by HMAC chain, constant-time comparison; plus the checks AWS makes before that
 * (known key, session token, 5-minute clock window, credential scope).
 */
export interface FakeAwsKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary keys are only valid together with their session token. */
  readonly sessionToken?: string | undefined;
  /** Epoch ms; past it, AWS answers ExpiredToken. */
  readonly expiresAt?: number | undefined;
}

export interface AwsRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export type CheckResult = { ok: true; key: FakeAwsKey } | ({ ok: false } & AwsRefusal);

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const WINDOW_MS = 5 * 60_000;

function refuse(status: number, code: string, message: string): CheckResult {
  return { ok: false, status, code, message };
}

function strictEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

const fmt = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

export function checkSignature(
  req: IncomingMessage,
  body: string,
  keys: ReadonlyMap<string, FakeAwsKey>,
  expect: { region: string; service: string; now: number },
): CheckResult {
  const auth = req.headers.authorization;
  if (!auth) return refuse(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
  const m = AUTH.exec(auth);
  if (!m)
    return refuse(
      400,
      'IncompleteSignature',
      'Authorization header requires Credential, SignedHeaders and Signature.',
    );
  const [, keyId, day, region, service, signedList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];

  const key = keys.get(keyId);
  if (!key)
    return refuse(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  const token = req.headers['x-amz-security-token'];
  if ((key.sessionToken ?? '') !== (typeof token === 'string' ? token : '')) {
    return refuse(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  if (key.expiresAt !== undefined && expect.now > key.expiresAt) {
    return refuse(403, 'ExpiredToken', 'The security token included in the request is expired');
  }

  const stampText = req.headers['x-amz-date'];
  const stamp = typeof stampText === 'string' ? parseAmzDate(stampText) : undefined;
  if (stamp === undefined || typeof stampText !== 'string') {
    return refuse(400, 'IncompleteSignature', "Date must be in ISO-8601 'basic format'. Got no X-Amz-Date.");
  }
  if (stamp < expect.now - WINDOW_MS) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      `Signature expired: ${stampText} is now earlier than ${fmt(expect.now - WINDOW_MS)} (${fmt(expect.now)} - 5 min.)`,
    );
  }
  if (stamp > expect.now + WINDOW_MS) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      `Signature not yet current: ${stampText} is still later than ${fmt(expect.now + WINDOW_MS)} (${fmt(expect.now)} + 5 min.)`,
    );
  }
  if (day !== stampText.slice(0, 8)) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${stampText.slice(0, 8)}'`,
    );
  }
  if (region !== expect.region || service !== expect.service) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region and service: expected ${expect.region}/${expect.service}`,
    );
  }
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) {
    return refuse(403, 'SignatureDoesNotMatch', 'Host and X-Amz-Date must be signed.');
  }
  if (token !== undefined && !signed.includes('x-amz-security-token')) {
    return refuse(403, 'SignatureDoesNotMatch', 'X-Amz-Security-Token must be signed.');
  }

  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const segments = rawPath.split('/').filter((s) => s !== '' && s !== '.');
  const path = `/${segments.map(strictEncode).join('/')}${rawPath.endsWith('/') && segments.length > 0 ? '/' : ''}`;
  const query = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = decodeURIComponent(eq === -1 ? p : p.slice(0, eq));
      const v = eq === -1 ? '' : decodeURIComponent(p.slice(eq + 1));
      return `${strictEncode(k)}=${strictEncode(v)}`;
    })
    .sort()
    .join('&');
  const headerLines = signed.map((name) => {
    const values = req.headersDistinct[name] ?? [];
    return `${name}:${values.map((v) => v.trim().replace(/ +/g, ' ')).join(',')}\n`;
  });
  const canonical = [
    req.method,
    path,
    query,
    headerLines.join(''),
    signedList,
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const toSign = `AWS4-HMAC-SHA256\n${stampText}\n${day}/${region}/${service}/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
  let k: Buffer = createHmac('sha256', `AWS4${key.secretAccessKey}`).update(day).digest();
  for (const part of [region, service, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const expected = createHmac('sha256', k).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { ok: true, key };
}
