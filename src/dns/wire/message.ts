import { isIPv4, isIPv6 } from 'node:net';
import { BadServerResponseError, InvalidInputError } from '../../errors/base.ts';

// DNS messages on the wire (RFC 1035 §4, RFC 2136 §2 for UPDATE, RFC 6891 for OPT, RFC 8945 for TSIG).
// Names are absolute, lower-case, with the trailing dot ("." is the root).

export const RecordType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  TSIG: 250,
  ANY: 255,
} as const;
export type RecordTypeName = keyof typeof RecordType;

export const RecordClass = { IN: 1, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

/** Response codes; values above 15 travel in the OPT record (extended RCODE) or in TSIG's error field. */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
  BADCOOKIE: 23,
} as const;

const rcodeNames = new Map<number, string>();
for (const [name, code] of Object.entries(Rcode)) if (name !== 'BADSIG') rcodeNames.set(code, name);

/** The name of a message's RCODE ("NXDOMAIN"); 16 is BADVERS here (it is BADSIG only in TSIG's error field). */
export function rcodeName(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

/** The name of a TSIG error field value (RFC 8945 §3): 16 BADSIG, 17 BADKEY, 18 BADTIME, 22 BADTRUNC. */
export function tsigErrorName(error: number): string {
  return error === 16 ? 'BADSIG' : rcodeName(error);
}

const typeNames = new Map<number, RecordTypeName>(
  Object.entries(RecordType).map(([name, code]) => [code, name as RecordTypeName]),
);

/** "TXT" for 16; RFC 3597's "TYPE99" for types this module does not know. */
export function recordTypeName(type: number): RecordTypeName | `TYPE${number}` {
  return typeNames.get(type) ?? `TYPE${type}`;
}

export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

export interface TxtData {
  /** The character-strings as sent; one value longer than 255 bytes arrives as several. */
  readonly strings: readonly string[];
  /** The strings joined without separator: how ACME (RFC 8555 §8.4) compares a TXT value. */
  readonly text: string;
}

export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** OPT pseudo-record (RFC 6891): these fields live in the record's CLASS and TTL on the wire. */
export interface OptData {
  /** Largest UDP answer the sender can take. */
  readonly udpPayloadSize: number;
  /** Upper 8 bits of the 12-bit RCODE. */
  readonly extendedRcode: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  readonly options: readonly EdnsOption[];
}

export interface TsigData {
  readonly algorithm: string;
  /** Seconds since the epoch. */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Uint8Array;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Uint8Array;
}

interface RecordFields {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
}

/**
 * One decoded resource record; `data` is typed by `typeName`. Empty RDATA (RFC 2136 "delete an RRset",
 * class ANY) decodes as the type's empty value: "" for addresses and names, no strings for TXT.
 */
export type ResourceRecord = RecordFields &
  (
    | { readonly typeName: 'A' | 'AAAA' | 'NS' | 'CNAME'; readonly data: string }
    | { readonly typeName: 'SOA'; readonly data: SoaData }
    | { readonly typeName: 'TXT'; readonly data: TxtData }
    | { readonly typeName: 'OPT'; readonly data: OptData }
    | { readonly typeName: 'TSIG'; readonly data: TsigData }
    | { readonly typeName: 'ANY' | `TYPE${number}`; readonly data: Uint8Array }
  );

/** What the encoder takes: `type` decides how `data` is written. TXT strings longer than 255 bytes are split. */
export interface RecordInput {
  readonly name: string;
  readonly type: number;
  /** Default IN. */
  readonly class?: number;
  /** Default 0. */
  readonly ttl?: number;
  /** Omitted: empty RDATA (RFC 2136 deletes). */
  readonly data?: string | SoaData | { readonly strings: readonly string[] } | Uint8Array;
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

/** A decoded message. For UPDATE, `questions` is the zone section, `answers` the prerequisites, `authority` the updates. */
export interface DnsMessage {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** The full RCODE: the header's 4 bits plus the OPT record's extended bits. */
  readonly rcode: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  /** Without the OPT and TSIG records, which are in `edns` and `tsig`. */
  readonly additional: readonly ResourceRecord[];
  readonly edns?: OptData;
  readonly tsig?: {
    readonly keyName: string;
    readonly data: TsigData;
    /** Where the TSIG record starts: the bytes before it are what its MAC covers. */
    readonly offset: number;
  };
}

export interface MessageInput {
  readonly id: number;
  readonly qr?: boolean;
  readonly opcode?: number;
  readonly aa?: boolean;
  readonly tc?: boolean;
  readonly rd?: boolean;
  readonly ra?: boolean;
  readonly ad?: boolean;
  readonly cd?: boolean;
  readonly rcode?: number;
  readonly questions?: readonly Question[];
  readonly answers?: readonly RecordInput[];
  readonly authority?: readonly RecordInput[];
  readonly additional?: readonly RecordInput[];
  /** Adds an OPT record (EDNS0); needed for an RCODE above 15. */
  readonly edns?: {
    readonly udpPayloadSize: number;
    readonly dnssecOk?: boolean;
    readonly options?: readonly EdnsOption[];
  };
}

const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

function malformed(detail: string): BadServerResponseError {
  return new BadServerResponseError(`malformed DNS message: ${detail}`);
}

// ---- names ----------------------------------------------------------------------------------------

/** "Example.COM" → its labels as bytes (escapes `\.`, `\\` and `\DDD` understood); the root is []. */
export function nameToLabels(name: string): Uint8Array[] {
  if (name === '.' || name === '') return [];
  const labels: Uint8Array[] = [];
  let current: number[] = [];
  let i = 0;
  while (i < name.length) {
    const ch = name[i]!;
    if (ch === '.') {
      labels.push(checkLabel(current, name));
      current = [];
      i += 1;
      if (i === name.length) return checkLength(labels, name); // the trailing dot of an absolute name
      continue;
    }
    if (ch === '\\') {
      const digits = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (digits) {
        const v = Number(digits[0]);
        if (v > 255)
          throw new InvalidInputError(
            `DNS name ${JSON.stringify(name)}: escape \\${digits[0]} is above 255`,
            name,
          );
        current.push(v);
        i += 4;
        continue;
      }
      if (i + 1 >= name.length)
        throw new InvalidInputError(`DNS name ${JSON.stringify(name)} ends in a lone backslash`, name);
      i += 1;
    }
    const cp = name.codePointAt(i)!;
    const char = String.fromCodePoint(cp);
    current.push(...utf8Encoder.encode(char));
    i += char.length;
  }
  labels.push(checkLabel(current, name));
  return checkLength(labels, name);
}

function checkLength(labels: Uint8Array[], name: string): Uint8Array[] {
  const wire = labels.reduce((n, l) => n + l.length + 1, 1);
  if (wire > MAX_NAME_WIRE)
    throw new InvalidInputError(`DNS name ${JSON.stringify(name)} is longer than 255 bytes`, name);
  return labels;
}

function checkLabel(bytes: number[], name: string): Uint8Array {
  if (bytes.length === 0)
    throw new InvalidInputError(`DNS name ${JSON.stringify(name)} has an empty label`, name);
  if (bytes.length > MAX_LABEL) {
    throw new InvalidInputError(`DNS name ${JSON.stringify(name)} has a label longer than 63 bytes`, name);
  }
  return Uint8Array.from(bytes);
}

/** Labels → "example.com." in lower case; bytes outside printable ASCII, dots and backslashes are escaped. */
export function labelsToName(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return '.';
  let out = '';
  for (const label of labels) {
    for (const b of label) {
      const c = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
      if (c === 0x2e || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
      else if (c > 0x20 && c < 0x7f) out += String.fromCharCode(c);
      else out += `\\${String(c).padStart(3, '0')}`;
    }
    out += '.';
  }
  return out;
}

/** The absolute lower-case form of a name given in any case, with or without the trailing dot. */
export function canonicalName(name: string): string {
  return labelsToName(nameToLabels(name));
}

/** A name in uncompressed lower-case wire form, as TSIG's MAC covers it (RFC 8945 §4.3.3). */
export function canonicalNameWire(name: string): Uint8Array {
  const labels = nameToLabels(canonicalName(name));
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  let p = 0;
  for (const l of labels) {
    out[p++] = l.length;
    out.set(l, p);
    p += l.length;
  }
  return out;
}

// ---- writer ---------------------------------------------------------------------------------------

/** A growing byte buffer with name compression (RFC 1035 §4.1.4). */
export class WireWriter {
  #buf = new Uint8Array(512);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  // Suffix in canonical text → offset where it was written; only offsets a pointer can reach.
  readonly #names = new Map<string, number>();

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#reserve(1);
    this.#view.setUint8(this.#len, v);
    this.#len += 1;
  }

  u16(v: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
  }

  u32(v: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#len, v >>> 0);
    this.#len += 4;
  }

  /** 48-bit unsigned (TSIG's Time Signed). */
  u48(v: number): void {
    this.u16(Math.floor(v / 2 ** 32));
    this.u32(v % 2 ** 32);
  }

  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  setU16(offset: number, v: number): void {
    this.#view.setUint16(offset, v);
  }

  name(name: string, compress: boolean): void {
    const labels = nameToLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labelsToName(labels.slice(i));
      const at = compress ? this.#names.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (compress && this.#len < 0x4000) this.#names.set(suffix, this.#len);
      const label = labels[i]!;
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

// ---- encoding -------------------------------------------------------------------------------------

export function encodeMessage(m: MessageInput): Uint8Array {
  const w = new WireWriter();
  const rcode = m.rcode ?? 0;
  if (rcode > 15 && !m.edns) throw new InvalidInputError(`RCODE ${rcode} needs an OPT record (edns)`, rcode);
  w.u16(m.id);
  w.u16(
    (m.qr ? 0x8000 : 0) |
      (((m.opcode ?? 0) & 0xf) << 11) |
      (m.aa ? 0x400 : 0) |
      (m.tc ? 0x200 : 0) |
      (m.rd ? 0x100 : 0) |
      (m.ra ? 0x80 : 0) |
      (m.ad ? 0x20 : 0) |
      (m.cd ? 0x10 : 0) |
      (rcode & 0xf),
  );
  const questions = m.questions ?? [];
  const answers = m.answers ?? [];
  const authority = m.authority ?? [];
  const additional = m.additional ?? [];
  w.u16(questions.length);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(additional.length + (m.edns ? 1 : 0));
  for (const q of questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of [...answers, ...authority, ...additional]) writeRecord(w, rr);
  if (m.edns) {
    w.u8(0); // root owner name
    w.u16(RecordType.OPT);
    w.u16(m.edns.udpPayloadSize);
    w.u8(rcode >> 4);
    w.u8(0); // version
    w.u16(m.edns.dnssecOk ? 0x8000 : 0);
    const lenAt = w.length;
    w.u16(0);
    for (const o of m.edns.options ?? []) {
      w.u16(o.code);
      w.u16(o.data.length);
      w.bytes(o.data);
    }
    w.setU16(lenAt, w.length - lenAt - 2);
  }
  return w.finish();
}

function writeRecord(w: WireWriter, rr: RecordInput): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class ?? RecordClass.IN);
  w.u32(rr.ttl ?? 0);
  const lenAt = w.length;
  w.u16(0);
  if (rr.data !== undefined) writeRdata(w, rr);
  const len = w.length - lenAt - 2;
  if (len > 0xffff) throw new InvalidInputError(`record ${rr.name}: RDATA longer than 65535 bytes`, rr.name);
  w.setU16(lenAt, len);
}

function writeRdata(w: WireWriter, rr: RecordInput): void {
  const data = rr.data;
  const bad = (expected: string) =>
    new InvalidInputError(
      `record ${rr.name} type ${recordTypeName(rr.type)}: data must be ${expected}`,
      rr.name,
    );
  if (data instanceof Uint8Array) {
    w.bytes(data);
    return;
  }
  switch (rr.type) {
    case RecordType.A:
      if (typeof data !== 'string' || !isIPv4(data)) throw bad('an IPv4 address');
      for (const part of data.split('.')) w.u8(Number(part));
      return;
    case RecordType.AAAA:
      if (typeof data !== 'string' || !isIPv6(data)) throw bad('an IPv6 address');
      w.bytes(parseIpv6(data));
      return;
    case RecordType.NS:
    case RecordType.CNAME:
      if (typeof data !== 'string') throw bad('a name');
      w.name(data, true);
      return;
    case RecordType.SOA: {
      if (typeof data !== 'object' || !('mname' in data)) throw bad('SOA fields');
      w.name(data.mname, true);
      w.name(data.rname, true);
      for (const v of [data.serial, data.refresh, data.retry, data.expire, data.minimum]) w.u32(v);
      return;
    }
    case RecordType.TXT: {
      if (typeof data !== 'object' || !('strings' in data)) throw bad('{ strings }');
      for (const s of data.strings) {
        const bytes = utf8Encoder.encode(s);
        // A character-string holds 255 bytes; longer values travel as several, which readers join.
        if (bytes.length === 0) w.u8(0);
        for (let i = 0; i < bytes.length; i += 255) {
          const chunk = bytes.subarray(i, i + 255);
          w.u8(chunk.length);
          w.bytes(chunk);
        }
      }
      return;
    }
    default:
      throw bad('raw bytes (Uint8Array) for this type');
  }
}

/** "2001:db8::1" (also with an embedded IPv4 tail) → 16 bytes. */
function parseIpv6(text: string): Uint8Array {
  let s = text;
  const out = new Uint8Array(16);
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    for (const part of v4[1]!.split('.')) tail.push(Number(part));
    s = `${s.slice(0, -v4[1]!.length)}0:0`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const groups = (x: string) => (x === '' ? [] : x.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

/** 16 bytes → RFC 5952 text: lower-case, the longest run of two or more zero groups as "::". */
function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

// ---- decoding -------------------------------------------------------------------------------------

/** Reads a message with bounds checks everywhere: bad input throws, it never loops or reads past the end. */
class WireReader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw malformed(`${what} runs past the end (offset ${this.pos})`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u48(what: string): number {
    const hi = this.u16(what);
    return hi * 2 ** 32 + this.u32(what);
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /**
   * A possibly compressed name. Each pointer must point before the start of the labels read since the
   * previous jump, so the walk strictly moves backwards and always ends (no loops, no forward tricks).
   */
  name(what: string): string {
    const labels: Uint8Array[] = [];
    let p = this.pos;
    let segmentStart = p;
    let resumeAt = -1;
    let wire = 1;
    for (;;) {
      if (p >= this.buf.length) throw malformed(`${what}: name runs past the end`);
      const len = this.buf[p]!;
      if (len === 0) {
        p += 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (p + 1 >= this.buf.length) throw malformed(`${what}: compression pointer runs past the end`);
        const target = ((len & 0x3f) << 8) | this.buf[p + 1]!;
        if (target >= segmentStart) {
          throw malformed(`${what}: compression pointer at offset ${p} does not point backwards (loop)`);
        }
        if (resumeAt < 0) resumeAt = p + 2;
        p = target;
        segmentStart = target;
        continue;
      }
      if (kind !== 0) throw malformed(`${what}: unknown label type 0x${len.toString(16)} at offset ${p}`);
      if (p + 1 + len > this.buf.length) throw malformed(`${what}: label runs past the end`);
      wire += len + 1;
      if (wire > MAX_NAME_WIRE) throw malformed(`${what}: name longer than 255 bytes`);
      labels.push(this.buf.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    }
    this.pos = resumeAt >= 0 ? resumeAt : p;
    return labelsToName(labels);
  }
}

export function decodeMessage(bytes: Uint8Array): DnsMessage {
  const r = new WireReader(bytes);
  if (bytes.length < 12) throw malformed(`${bytes.length} bytes is shorter than the 12-byte header`);
  const id = r.u16('header');
  const flags = r.u16('header');
  const counts = [r.u16('header'), r.u16('header'), r.u16('header'), r.u16('header')] as const;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const name = r.name('question');
    questions.push({ name, type: r.u16('question'), class: r.u16('question') });
  }
  const sections: ResourceRecord[][] = [[], [], []];
  let edns: OptData | undefined;
  let tsig: DnsMessage['tsig'];
  for (let s = 0; s < 3; s++) {
    const count = counts[s + 1]!;
    for (let i = 0; i < count; i++) {
      const start = r.pos;
      const rr = readRecord(r);
      if (rr.typeName === 'OPT') {
        if (s !== 2 || edns) throw malformed('OPT record outside the additional section or repeated');
        if (rr.name !== '.') throw malformed('OPT record with an owner name other than the root');
        edns = rr.data;
      } else if (rr.typeName === 'TSIG') {
        if (s !== 2 || i !== count - 1) throw malformed('TSIG record is not the last record of the message');
        tsig = { keyName: rr.name, data: rr.data, offset: start };
      } else {
        sections[s]!.push(rr);
      }
    }
  }
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0,
    rd: (flags & 0x100) !== 0,
    ra: (flags & 0x80) !== 0,
    ad: (flags & 0x20) !== 0,
    cd: (flags & 0x10) !== 0,
    rcode: ((edns?.extendedRcode ?? 0) << 4) | (flags & 0xf),
    questions,
    answers: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    ...(edns ? { edns } : {}),
    ...(tsig ? { tsig } : {}),
  };
}

function readRecord(r: WireReader): ResourceRecord {
  const name = r.name('record owner');
  const type = r.u16('record type');
  const cls = r.u16('record class');
  const ttl = r.u32('record TTL');
  const rdlength = r.u16('record length');
  const typeName = recordTypeName(type);
  const what = `${typeName} record ${name}`;
  r.need(rdlength, `RDATA of ${what}`);
  const start = r.pos;
  const end = start + rdlength;
  r.pos = end;
  const fields = { name, type, class: cls, ttl };
  // Fields inside RDATA must stay within RDATA, not just within the message; names may still point back.
  const sub = new WireReader(r.buf.subarray(0, end));
  sub.pos = start;
  const at = (rr: ResourceRecord): ResourceRecord => {
    if (sub.pos !== end)
      throw malformed(`${what}: RDATA is ${rdlength} bytes but its fields take ${sub.pos - start}`);
    return rr;
  };

  if (rdlength === 0 && typeName !== 'OPT') {
    switch (typeName) {
      case 'A':
      case 'AAAA':
      case 'NS':
      case 'CNAME':
        return { ...fields, typeName, data: '' };
      case 'TXT':
        return { ...fields, typeName, data: { strings: [], text: '' } };
      case 'SOA':
        return {
          ...fields,
          typeName,
          data: { mname: '', rname: '', serial: 0, refresh: 0, retry: 0, expire: 0, minimum: 0 },
        };
      case 'TSIG':
        throw malformed(`${what} has no RDATA`);
      default:
        return { ...fields, typeName, data: new Uint8Array(0) };
    }
  }

  switch (typeName) {
    case 'A': {
      if (rdlength !== 4) throw malformed(`${what}: ${rdlength} bytes, expected 4`);
      return at({ ...fields, typeName, data: Array.from(sub.bytes(4, what)).join('.') });
    }
    case 'AAAA': {
      if (rdlength !== 16) throw malformed(`${what}: ${rdlength} bytes, expected 16`);
      return at({ ...fields, typeName, data: formatIpv6(sub.bytes(16, what)) });
    }
    case 'NS':
    case 'CNAME':
      return at({ ...fields, typeName, data: sub.name(what) });
    case 'SOA': {
      const mname = sub.name(what);
      const rname = sub.name(what);
      const [serial, refresh, retry, expire, minimum] = [1, 2, 3, 4, 5].map(() => sub.u32(what)) as [
        number,
        number,
        number,
        number,
        number,
      ];
      return at({ ...fields, typeName, data: { mname, rname, serial, refresh, retry, expire, minimum } });
    }
    case 'TXT': {
      const chunks: Uint8Array[] = [];
      while (sub.pos < end) chunks.push(sub.bytes(sub.u8(what), what));
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let p = 0;
      for (const c of chunks) {
        all.set(c, p);
        p += c.length;
      }
      // Join the bytes before decoding: a value split at 255 bytes may split a UTF-8 sequence.
      return at({
        ...fields,
        typeName,
        data: { strings: chunks.map((c) => utf8.decode(c)), text: utf8.decode(all) },
      });
    }
    case 'OPT': {
      const options: EdnsOption[] = [];
      while (sub.pos < end) {
        const code = sub.u16(what);
        options.push({ code, data: sub.bytes(sub.u16(what), what) });
      }
      return at({
        ...fields,
        typeName,
        data: {
          udpPayloadSize: cls,
          extendedRcode: ttl >>> 24,
          version: (ttl >>> 16) & 0xff,
          dnssecOk: (ttl & 0x8000) !== 0,
          options,
        },
      });
    }
    case 'TSIG': {
      const algorithm = sub.name(what);
      const timeSigned = sub.u48(what);
      const fudge = sub.u16(what);
      const mac = sub.bytes(sub.u16(what), what);
      const originalId = sub.u16(what);
      const error = sub.u16(what);
      const otherData = sub.bytes(sub.u16(what), what);
      return at({
        ...fields,
        typeName,
        data: { algorithm, timeSigned, fudge, mac, originalId, error, otherData },
      });
    }
    default:
      return at({ ...fields, typeName, data: sub.bytes(rdlength, what) });
  }
}
