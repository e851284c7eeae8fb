import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../../errors/base.ts';
import { Secret } from '../../internal/secret.ts';
import {
  canonicalName,
  canonicalNameWire,
  decodeMessage,
  RecordClass,
  RecordType,
  tsigErrorName,
  WireWriter,
} from './message.ts';

// TSIG (RFC 8945): an HMAC over the message and a few TSIG fields, keyed by a secret both ends share.

/** The HMAC algorithms of RFC 8945 §6 that BIND, Knot and PowerDNS all accept (MD5 left out on purpose). */
export const tsigAlgorithms = {
  'hmac-sha1.': { hash: 'sha1', size: 20 },
  'hmac-sha224.': { hash: 'sha224', size: 28 },
  'hmac-sha256.': { hash: 'sha256', size: 32 },
  'hmac-sha384.': { hash: 'sha384', size: 48 },
  'hmac-sha512.': { hash: 'sha512', size: 64 },
} as const;
export type TsigAlgorithm = keyof typeof tsigAlgorithms;

/** "HMAC-SHA256", "hmac-sha256." → "hmac-sha256."; undefined for an algorithm we do not implement. */
export function parseTsigAlgorithm(text: string): TsigAlgorithm | undefined {
  const name = `${text.trim().toLowerCase().replace(/\.$/, '')}.`;
  return Object.hasOwn(tsigAlgorithms, name) ? (name as TsigAlgorithm) : undefined;
}

/** Fudge: how far apart the two clocks may be, in seconds. 300 is what RFC 8945 §10 recommends. */
export const DEFAULT_FUDGE = 300;

export interface TsigKey {
  /** Absolute, lower-case: "acme-key." */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Secret<Uint8Array>;
}

/** Builds a key from its name, algorithm and base64 secret (as in BIND's `key` statement); never echoes the secret. */
export function tsigKey(name: string, algorithm: TsigAlgorithm, secretBase64: Secret<string>): TsigKey {
  const text = secretBase64.reveal().replace(/\s+/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new InvalidInputError(`TSIG key ${name}: the secret is not valid base64`, name);
  }
  return {
    name: canonicalName(name),
    algorithm,
    secret: new Secret(new Uint8Array(Buffer.from(text, 'base64'))),
  };
}

export interface SignOptions {
  /** Milliseconds since the epoch; default Date.now(). */
  now?: number;
  fudge?: number;
  /** For a response: the MAC of the request it answers (RFC 8945 §4.3.2). */
  requestMac?: Uint8Array;
  /** For a response: a TSIG error to report (BADTIME...). */
  error?: number;
  otherData?: Uint8Array;
}

export interface SignedMessage {
  readonly bytes: Uint8Array;
  /** Kept to check the response, whose MAC covers this one. */
  readonly mac: Uint8Array;
  readonly timeSigned: number;
}

/** Appends a TSIG record to an encoded message (which must not have one yet) and counts it in ARCOUNT. */
export function signMessage(message: Uint8Array, key: TsigKey, opts: SignOptions = {}): SignedMessage {
  if (message.length < 12)
    throw new InvalidInputError('cannot sign a DNS message shorter than its header', message.length);
  const timeSigned = Math.floor((opts.now ?? Date.now()) / 1000);
  const fields: TsigFields = {
    timeSigned,
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    error: opts.error ?? 0,
    otherData: opts.otherData ?? new Uint8Array(0),
  };
  const mac = computeMac(key, message, fields, opts.requestMac);
  const originalId = (message[0]! << 8) | message[1]!;

  const w = new WireWriter();
  w.bytes(message);
  const arcount = ((message[10]! << 8) | message[11]!) + 1;
  w.setU16(10, arcount);
  // Neither name in the TSIG record is compressed (RFC 8945 §4.2).
  w.name(key.name, false);
  w.u16(RecordType.TSIG);
  w.u16(RecordClass.ANY);
  w.u32(0);
  const lenAt = w.length;
  w.u16(0);
  w.name(key.algorithm, false);
  w.u48(fields.timeSigned);
  w.u16(fields.fudge);
  w.u16(mac.length);
  w.bytes(mac);
  w.u16(originalId);
  w.u16(fields.error);
  w.u16(fields.otherData.length);
  w.bytes(fields.otherData);
  w.setU16(lenAt, w.length - lenAt - 2);
  return { bytes: w.finish(), mac, timeSigned };
}

export type TsigVerdict =
  | { readonly ok: true; readonly mac: Uint8Array; readonly error: number }
  | {
      readonly ok: false;
      /**
       * unsigned: no TSIG record; key: another key name or algorithm; mac: the MAC does not match;
       * time: signed outside the fudge window; server: the peer reports a TSIG error (BADKEY, BADSIG, BADTIME...).
       */
      readonly reason: 'unsigned' | 'key' | 'mac' | 'time' | 'server';
      /** The TSIG error field as a name ("BADSIG"), for reason "server". */
      readonly tsigError?: string;
      readonly message: string;
    };

export interface VerifyOptions {
  /** For a response: the MAC of our request. */
  requestMac?: Uint8Array;
  /** Milliseconds since the epoch; default Date.now(). */
  now?: number;
}

/**
 * Checks the TSIG record of a received message (a request when `requestMac` is absent, else a response).
 * The checks run in RFC 8945 §5's order: key, MAC, then time; a peer's TSIG error is reported as such.
 */
export function verifyMessage(bytes: Uint8Array, key: TsigKey, opts: VerifyOptions = {}): TsigVerdict {
  const message = decodeMessage(bytes);
  const tsig = message.tsig;
  if (!tsig) return { ok: false, reason: 'unsigned', message: 'the message carries no TSIG record' };
  const t = tsig.data;
  if (tsig.keyName !== key.name) {
    return { ok: false, reason: 'key', message: `signed with key ${tsig.keyName}, expected ${key.name}` };
  }
  if (t.algorithm !== key.algorithm) {
    return { ok: false, reason: 'key', message: `signed with ${t.algorithm}, expected ${key.algorithm}` };
  }
  // BADKEY and BADSIG answers carry no MAC (the server could not or would not sign): nothing to check.
  if (t.error !== 0 && t.mac.length === 0) return serverError(t.error);

  const { size } = tsigAlgorithms[key.algorithm];
  // A truncated MAC is allowed down to half the hash and never below 10 bytes (RFC 8945 §5.2.2.1).
  if (t.mac.length > size || t.mac.length < Math.max(10, Math.ceil(size / 2))) {
    return { ok: false, reason: 'mac', message: `MAC of ${t.mac.length} bytes for ${key.algorithm}` };
  }
  const unsigned = new Uint8Array(bytes.subarray(0, tsig.offset));
  const arcount = ((unsigned[10]! << 8) | unsigned[11]!) - 1;
  unsigned[10] = arcount >> 8;
  unsigned[11] = arcount & 0xff;
  unsigned[0] = t.originalId >> 8;
  unsigned[1] = t.originalId & 0xff;
  const expected = computeMac(key, unsigned, t, opts.requestMac).subarray(0, t.mac.length);
  if (!timingSafeEqual(expected, t.mac)) {
    return {
      ok: false,
      reason: 'mac',
      message: 'the MAC does not match (another secret, or the message was altered)',
    };
  }
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - t.timeSigned) > t.fudge) {
    return {
      ok: false,
      reason: 'time',
      message: `signed at ${new Date(t.timeSigned * 1000).toISOString()}, more than ${t.fudge} s from our clock`,
    };
  }
  if (t.error !== 0) return serverError(t.error);
  return { ok: true, mac: t.mac, error: 0 };
}

function serverError(error: number): TsigVerdict {
  const name = tsigErrorName(error);
  return { ok: false, reason: 'server', tsigError: name, message: `the peer reports TSIG error ${name}` };
}

interface TsigFields {
  readonly timeSigned: number;
  readonly fudge: number;
  readonly error: number;
  readonly otherData: Uint8Array;
}

/** RFC 8945 §4.3: [request MAC] + message + TSIG variables (names canonical, class ANY, TTL 0). */
function computeMac(key: TsigKey, message: Uint8Array, f: TsigFields, requestMac?: Uint8Array): Uint8Array {
  const hmac = createHmac(tsigAlgorithms[key.algorithm].hash, key.secret.reveal());
  if (requestMac) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(requestMac.length);
    hmac.update(len);
    hmac.update(requestMac);
  }
  hmac.update(message);
  const w = new WireWriter();
  w.bytes(canonicalNameWire(key.name));
  w.u16(RecordClass.ANY);
  w.u32(0);
  w.bytes(canonicalNameWire(key.algorithm));
  w.u48(f.timeSigned);
  w.u16(f.fudge);
  w.u16(f.error);
  w.u16(f.otherData.length);
  w.bytes(f.otherData);
  hmac.update(w.finish());
  return new Uint8Array(hmac.digest());
}
