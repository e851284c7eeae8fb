import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6, type Socket, connect as tcpConnect } from 'node:net';
import { BadServerResponseError, InvalidInputError, NetworkError, TimeoutError } from '../../errors/base.ts';
import {
  canonicalName,
  type DnsMessage,
  decodeMessage,
  encodeMessage,
  type MessageInput,
  Opcode,
  Rcode,
  RecordClass,
  RecordType,
  type ResourceRecord,
  rcodeName,
} from './message.ts';
import { signMessage, type TsigKey, verifyMessage } from './tsig.ts';

export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

export interface DnsQueryOptions {
  /** Ask the server to recurse (RD bit). Default true; false to read an authoritative server's own data. */
  recursionDesired?: boolean;
  /** Deadline of the whole query, retries and TCP fallback included. Default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DnsResponse {
  readonly rcode: number;
  readonly rcodeName: string;
  /** AA: the answer comes from a server authoritative for the name. */
  readonly authoritative: boolean;
  /** TC: still set only if even the TCP answer was cut (it never should be). */
  readonly truncated: boolean;
  readonly answers: ResourceRecord[];
  readonly authority: ResourceRecord[];
  readonly additional: ResourceRecord[];
}

export type QueryType = 'A' | 'AAAA' | 'NS' | 'SOA' | 'CNAME' | 'TXT';

export const DEFAULT_DNS_TIMEOUT_MS = 5000;
/** What we tell servers we can take over UDP (the DNS flag day 2020 value: no IP fragmentation). */
export const EDNS_UDP_SIZE = 1232;

/** "127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1", "ns.example.com", "ns.example.com:53". */
export function parseDnsServer(text: string, defaultPort = 53): DnsServer {
  const s = text.trim();
  const bad = (why: string) => new InvalidInputError(`DNS server ${JSON.stringify(text)}: ${why}`, text);
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
    if (!isIPv6(host)) throw bad('only an IPv6 address goes in brackets');
  } else if (isIPv6(s)) {
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    port = colon < 0 ? undefined : s.slice(colon + 1);
    if (host.includes(':')) throw bad('write an IPv6 address with a port as [addr]:port');
  }
  if (host === '') throw bad('no host');
  if (
    !isIP(host) &&
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(host)
  ) {
    throw bad('not an IP address or host name');
  }
  let portNumber = defaultPort;
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw bad('the port must be 1–65535');
    portNumber = Number(port);
  }
  return { host, port: portNumber };
}

/** "127.0.0.1:53", "[::1]:53": how errors name a server. */
export function formatDnsServer(server: DnsServer): string {
  return isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Asks one server for one RRset. A non-NOERROR answer is returned, not thrown: NXDOMAIN is an answer. */
export async function queryDns(
  server: DnsServer,
  name: string,
  type: QueryType,
  opts: DnsQueryOptions = {},
): Promise<DnsResponse> {
  const question = { name: canonicalName(name), type: RecordType[type], class: RecordClass.IN };
  const base = { rd: opts.recursionDesired ?? true, questions: [question] };
  const common = {
    timeoutMs: opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const started = Date.now();
  let { message } = await exchange(
    server,
    { id: newId(), ...base, edns: { udpPayloadSize: EDNS_UDP_SIZE } },
    common,
  );
  if (message.rcode === Rcode.FORMERR && !message.edns) {
    // A server that predates EDNS (RFC 6891 §7): ask again without the OPT record.
    const left = Math.max(1, common.timeoutMs - (Date.now() - started));
    ({ message } = await exchange(server, { id: newId(), ...base }, { ...common, timeoutMs: left }));
  }
  return {
    rcode: message.rcode,
    rcodeName: rcodeName(message.rcode),
    authoritative: message.aa,
    truncated: message.tc,
    answers: [...message.answers],
    authority: [...message.authority],
    additional: [...message.additional],
  };
}

export interface ExchangeOptions {
  /** Deadline of the whole exchange. Default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sign the request and require a valid signature on the answer. */
  tsig?: TsigKey;
  /** Go straight to TCP. */
  tcp?: boolean;
}

export interface ExchangeResult {
  readonly message: DnsMessage;
  readonly transport: 'udp' | 'tcp';
  /** The server's TSIG error ("BADKEY", "BADSIG", "BADTIME"...) when it refused our signature. */
  readonly tsigError?: string;
}

/** A fresh random message ID (RFC 5452: IDs must be unpredictable). */
export function newId(): number {
  return randomInt(0, 0x10000);
}

/**
 * Sends one message and returns the matching answer: UDP with retransmissions until the deadline, then
 * TCP when the answer is truncated. Answers with another ID, opcode or question are ignored (spoofing);
 * with `tsig`, an answer that is unsigned or wrongly signed is an error, never a result.
 */
export async function exchange(
  server: DnsServer,
  input: MessageInput,
  opts: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const where = formatDnsServer(server);
  const address = await withSignal(signal, resolveHost(server.host, where));
  let bytes = encodeMessage(input);
  let requestMac: Uint8Array | undefined;
  if (opts.tsig) {
    const signed = signMessage(bytes, opts.tsig);
    bytes = signed.bytes;
    requestMac = signed.mac;
  }
  const ctx: Exchange = { server, where, address, request: input, bytes, deadline, timeoutMs, signal };
  const check = (message: DnsMessage, raw: Uint8Array): string | undefined => {
    if (!opts.tsig) return undefined;
    const verdict = verifyMessage(raw, opts.tsig, requestMac ? { requestMac } : {});
    if (verdict.ok) return undefined;
    if (verdict.reason === 'server') return verdict.tsigError;
    throw new BadServerResponseError(
      `the answer from DNS server ${where} to our request signed with TSIG key ${opts.tsig.name} is not validly ` +
        `signed (${verdict.message}; RCODE ${rcodeName(message.rcode)}): it is not from a server that holds the key`,
      { url: `dns://${where}` },
    );
  };
  // Beyond what a UDP answer to us could be, servers may drop a UDP request too: use TCP.
  if (!opts.tcp && bytes.length <= 512) {
    const udp = await udpExchange(ctx);
    if (!udp.tc) {
      const tsigError = check(udp.message!, udp.raw);
      return { message: udp.message!, transport: 'udp', ...(tsigError ? { tsigError } : {}) };
    }
  }
  const { message, raw } = await tcpExchange(ctx);
  const tsigError = check(message, raw);
  return { message, transport: 'tcp', ...(tsigError ? { tsigError } : {}) };
}

interface Exchange {
  readonly server: DnsServer;
  readonly where: string;
  readonly address: { address: string; family: 4 | 6 };
  readonly request: MessageInput;
  readonly bytes: Uint8Array;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

async function resolveHost(host: string, where: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  try {
    const found = await lookup(host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new NetworkError(`DNS server ${where}: cannot resolve ${host} (${code})`, `dns://${where}`, {
      cause: err,
    });
  }
}

/** Rejects with the signal's reason as soon as it fires; the work itself is cancelled by its own handler. */
function withSignal<T>(signal: AbortSignal | undefined, work: Promise<T>): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Is `raw` an answer to our request (ID, QR, opcode)? Anything else is ignored. */
function matches(ctx: Exchange, raw: Uint8Array): boolean {
  if (raw.length < 12) return false;
  const id = (raw[0]! << 8) | raw[1]!;
  const qr = (raw[2]! & 0x80) !== 0;
  const opcode = (raw[2]! >> 3) & 0xf;
  return id === ctx.request.id && qr && opcode === (ctx.request.opcode ?? Opcode.QUERY);
}

/** Same question (zone section for UPDATE) as ours; servers may leave it out of an error answer. */
function sameQuestion(ctx: Exchange, message: DnsMessage): boolean {
  const ours = ctx.request.questions ?? [];
  if (message.questions.length === 0 && message.rcode !== Rcode.NOERROR) return true;
  return (
    message.questions.length === ours.length &&
    message.questions.every((q, i) => {
      const o = ours[i]!;
      return q.name === canonicalName(o.name) && q.type === o.type && q.class === o.class;
    })
  );
}

interface UdpOutcome {
  readonly tc: boolean;
  readonly message?: DnsMessage;
  readonly raw: Uint8Array;
}

function udpExchange(ctx: Exchange): Promise<UdpOutcome> {
  return new Promise<UdpOutcome>((resolve, reject) => {
    const socket: UdpSocket = createSocket(ctx.address.family === 6 ? 'udp6' : 'udp4');
    let settled = false;
    let tries = 0;
    let retry: NodeJS.Timeout | undefined;
    const finish = (err: unknown, value?: UdpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(retry);
      clearTimeout(overall);
      ctx.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err === undefined) resolve(value!);
      else reject(err);
    };
    const onAbort = () => finish(ctx.signal?.reason);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const overall = setTimeout(
      () =>
        finish(
          new TimeoutError(
            `DNS server ${ctx.where} did not answer within ${seconds(ctx.timeoutMs)} (UDP, ${tries} ` +
              `${tries === 1 ? 'try' : 'tries'})`,
          ),
        ),
      Math.max(0, ctx.deadline - Date.now()),
    );
    // Retransmit after 1 s, then 2 s, 4 s... (shorter when the whole deadline is short).
    let interval = Math.min(1000, Math.max(200, ctx.timeoutMs / 4));
    const send = () => {
      if (settled) return;
      tries += 1;
      socket.send(ctx.bytes);
      retry = setTimeout(send, interval);
      interval *= 2;
    };
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const what =
        err.code === 'ECONNREFUSED'
          ? `nothing listens on UDP port ${ctx.server.port}`
          : (err.code ?? err.message);
      finish(new NetworkError(`DNS server ${ctx.where}: ${what}`, `dns://${ctx.where}`, { cause: err }));
    });
    socket.on('message', (buf: Buffer) => {
      const raw = new Uint8Array(buf);
      if (!matches(ctx, raw)) return;
      if ((raw[2]! & 0x02) !== 0) return finish(undefined, { tc: true, raw });
      let message: DnsMessage;
      try {
        message = decodeMessage(raw);
      } catch (err) {
        return finish(withServer(err, ctx.where));
      }
      if (!sameQuestion(ctx, message)) return;
      finish(undefined, { tc: false, message, raw });
    });
    // Connected: the kernel drops datagrams from other addresses and reports ICMP "port unreachable".
    socket.connect(ctx.server.port, ctx.address.address, () => send());
  });
}

function tcpExchange(ctx: Exchange): Promise<{ message: DnsMessage; raw: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const remaining = ctx.deadline - Date.now();
    if (remaining <= 0) {
      reject(new TimeoutError(`DNS server ${ctx.where} did not answer within ${seconds(ctx.timeoutMs)}`));
      return;
    }
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket: Socket = tcpConnect({ host: ctx.address.address, port: ctx.server.port });
    const finish = (err: unknown, value?: { message: DnsMessage; raw: Uint8Array }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err === undefined) resolve(value!);
      else reject(err);
    };
    const onAbort = () => finish(ctx.signal?.reason);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        finish(
          new TimeoutError(`DNS server ${ctx.where} did not answer within ${seconds(ctx.timeoutMs)} (TCP)`),
        ),
      remaining,
    );
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(ctx.bytes.length);
      socket.write(Buffer.concat([len, ctx.bytes]));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const what =
        err.code === 'ECONNREFUSED'
          ? `nothing listens on TCP port ${ctx.server.port}`
          : (err.code ?? err.message);
      finish(new NetworkError(`DNS server ${ctx.where}: ${what}`, `dns://${ctx.where}`, { cause: err }));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < 2) return;
      const all = Buffer.concat(chunks);
      const want = all.readUInt16BE(0);
      if (all.length < 2 + want) return;
      const raw = new Uint8Array(all.subarray(2, 2 + want));
      let message: DnsMessage;
      try {
        message = decodeMessage(raw);
      } catch (err) {
        return finish(withServer(err, ctx.where));
      }
      if (!matches(ctx, raw) || !sameQuestion(ctx, message)) {
        return finish(
          new BadServerResponseError(`DNS server ${ctx.where} answered another question over TCP`, {
            url: `dns://${ctx.where}`,
          }),
        );
      }
      finish(undefined, { message, raw });
    });
    socket.on('end', () =>
      finish(
        new NetworkError(
          `DNS server ${ctx.where} closed the TCP connection before answering`,
          `dns://${ctx.where}`,
        ),
      ),
    );
  });
}

function withServer(err: unknown, where: string): unknown {
  if (err instanceof BadServerResponseError) {
    return new BadServerResponseError(`DNS server ${where}: ${err.message}`, {
      url: `dns://${where}`,
      cause: err,
    });
  }
  return err;
}
