// A small DER (X.690) writer and strict reader: enough for building a PKCS#10 request and reading the
// few certificate fields node:crypto does not expose, without loading an ASN.1 library at finalize.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

/** One TLV with a single-byte tag (all tags acmekit writes are low-numbered). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const value = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(value.length), value]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);

/** SET OF: DER sorts the encoded elements (X.690 §11.6). */
export const set = (...items: Uint8Array[]): Buffer =>
  tlv(TAG.SET, ...[...items].map((i) => Buffer.from(i)).sort(Buffer.compare));

/** INTEGER from unsigned big-endian bytes (or a small non-negative number): leading zeros trimmed, 00 added when the top bit is set. */
export function integer(bytes: Uint8Array | number): Buffer {
  const hex = typeof bytes === 'number' ? bytes.toString(16) : '';
  let b =
    typeof bytes === 'number' ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex') : Buffer.from(bytes);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  return tlv(TAG.INTEGER, b[0]! & 0x80 ? Buffer.from([0]) : Buffer.alloc(0), b);
}

/** OBJECT IDENTIFIER from its dotted text, e.g. "2.5.4.3". */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^(0|[1-9]\d*)$/.test(a)) throw new Error(`bad OID ${dotted}`);
    return BigInt(a);
  });
  const [a = 0n, b, ...rest] = arcs;
  if (b === undefined || a > 2n || (a < 2n && b > 39n)) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...rest]) {
    const chunk = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export const octetString = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
/** BIT STRING of whole bytes (no unused bits). */
export const bitString = (b: Uint8Array): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), b);
export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const boolean = (v: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
/** [n] EXPLICIT: a constructed context tag around the whole encoding. */
export const explicit = (n: number, ...inner: Uint8Array[]): Buffer => tlv(0xa0 | n, ...inner);
/** [n] IMPLICIT primitive: the context tag replaces the tag of a primitive value; takes the content bytes. */
export const implicit = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

export interface DerNode {
  tag: number;
  /** Content bytes (a view into the input). */
  value: Buffer;
  /** The whole TLV (a view into the input). */
  raw: Buffer;
}

/** Reads one TLV at `offset`; throws on high tag numbers, indefinite or non-minimal lengths and overruns. */
export function readTlv(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new Error('DER: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new Error('DER: indefinite length');
    if (n > 4) throw new Error('DER: length too long');
    if (pos + n > buf.length) throw new Error('DER: truncated length');
    if (buf[pos] === 0) throw new Error('DER: non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    if (len < 0x80) throw new Error('DER: non-minimal length');
    pos += n;
  }
  if (pos + len > buf.length) throw new Error('DER: length runs past the end');
  return { tag, value: buf.subarray(pos, pos + len), raw: buf.subarray(offset, pos + len) };
}

/** Exactly one TLV filling `buf`; optionally with the expected tag. */
export function readOne(buf: Uint8Array, tag?: number): DerNode {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
  const node = readTlv(b);
  if (node.raw.length !== b.length) throw new Error('DER: trailing data');
  if (tag !== undefined && node.tag !== tag)
    throw new Error(`DER: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

/** The TLVs inside a constructed value, in order. */
export function children(node: DerNode): DerNode[] {
  if (!(node.tag & 0x20)) throw new Error('DER: not a constructed value');
  const out: DerNode[] = [];
  for (let pos = 0; pos < node.value.length; ) {
    const child = readTlv(node.value, pos);
    out.push(child);
    pos += child.raw.length;
  }
  return out;
}

/** Dotted text of an OBJECT IDENTIFIER's content bytes. */
export function readOid(node: DerNode): string {
  if (node.tag !== TAG.OID || node.value.length === 0) throw new Error('DER: not an OID');
  const arcs: bigint[] = [];
  let v = 0n;
  for (const [i, byte] of node.value.entries()) {
    if (v === 0n && byte === 0x80) throw new Error('DER: non-minimal OID arc');
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === node.value.length - 1) throw new Error('DER: truncated OID');
  }
  const first = arcs.shift()!;
  const a = first < 80n ? first / 40n : 2n;
  return [a, first - a * 40n, ...arcs].join('.');
}
