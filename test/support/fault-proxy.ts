import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent, createServer, request, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { PebbleServer } from './pebble.ts';

/**
 * A fault-injecting HTTPS proxy in front of Pebble, for the RELIABILITY B series. Use from node:test:
 *
 *   const proxy = await startFaultProxy({ target: pebble });
 *   after(() => proxy.stop());
 *   proxy.rule({ resource: 'newOrder', times: 1, action: reply(429, { 'retry-after': '2' }, problem('rateLimited', 'slow down')) });
 *   // client: directoryUrl = proxy.directoryUrl, trusted CA = pebble.caBundle
 *   // afterwards: proxy.log.filter((e) => e.resource === 'newOrder')
 *   // or, counting what the client meant to send: effective(proxy.requests('newOrder')).length
 *
 * It serves Pebble's own HTTPS certificate, so a client that trusts Pebble trusts the proxy. Each
 * request is forwarded with its method, path, headers (Host included) and body. Pebble builds its
 * URLs from Host and checks the JWS "url" against it, so keeping Host is what makes signed requests
 * through the proxy valid; URLs naming Pebble's own origin that still appear in bodies or headers
 * (Location, Link, the directory) are rewritten to the proxy's origin so the client never leaves it.
 *
 * Pebble rejects a share of good nonces at random (PEBBLE_WFE_NONCEREJECT, 5 % by default) and the
 * client rightly sends such a request again, so a count over the raw log ("exactly one newOrder") is off
 * by one now and then. Each entry says whether its answer was such a rejection (`pebbleBadNonce`), and
 * `effective(log)` / `countRequests(log, predicate)` leave those out: what the client meant to send.
 * A badNonce a rule injects is always counted; tests of the badNonce retries themselves read the raw log.
 */

/** What a request is for, from Pebble's directory and URL layout. */
export type Resource =
  | 'directory'
  | 'newNonce'
  | 'newAccount'
  | 'newOrder'
  | 'revokeCert'
  | 'keyChange'
  | 'renewalInfo'
  | 'account'
  | 'orders'
  | 'order'
  | 'authz'
  | 'chall'
  | 'finalize'
  | 'cert'
  | 'other';

/** One request as the proxy saw it, handed to rule predicates and reply/mutate functions. */
export interface ProxyRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly resource: Resource;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Protected header of a JWS body (POSTs), when it parses. */
  readonly jws: JwsInfo | undefined;
}

export interface JwsInfo {
  nonce: string | undefined;
  url: string | undefined;
  kid: string | undefined;
  alg: string | undefined;
  hasJwk: boolean;
}

/** One line of the request log, filled in as the answer goes out. */
export interface ProxyLogEntry {
  /** 1, 2, 3... in arrival order. */
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly resource: Resource;
  /** Nonce from the JWS protected header (POSTs). */
  readonly nonce: string | undefined;
  /** "url" from the JWS protected header (POSTs). */
  readonly jwsUrl: string | undefined;
  readonly kid: string | undefined;
  readonly userAgent: string | undefined;
  /** Host header of the request: which of the proxy's names (127.0.0.1:port, localhost:port) the client used. */
  readonly host?: string | undefined;
  /** Date.now() when the request head arrived (before its body was read). */
  readonly at: number;
  /** Status sent to the client; 0 when none was (connection reset, stalled until the client left). */
  status: number;
  /** Replay-Nonce sent to the client, if any. */
  replayNonce: string | undefined;
  /** Problem type of the answer, when it was a problem document. */
  problemType: string | undefined;
  /**
   * The answer was Pebble's own badNonce to a nonce that was good as far as the proxy can tell (handed
   * out by an earlier answer through this proxy, never sent before): one of Pebble's random rejections,
   * which the client answers by sending the request again. False for a badNonce a rule produced (a reply,
   * or an edit that made the answer one), for a reused or unknown nonce, and for every other answer.
   * effective() and countRequests() leave these entries out.
   */
  pebbleBadNonce: boolean;
  /** Name of the rule that applied, if any. */
  rule: string | undefined;
  /** The kinds of fault applied: 'reply', 'reset', 'stall', 'edit', 'trickle'. */
  faults: string[];
  /** Date.now() when the answer was sent or the connection ended. */
  doneAt: number | undefined;
  /** The client closed the connection before an answer was sent (it timed out or aborted). */
  clientClosed: boolean;
  /** Body bytes written so far, for an answer sent with `trickle` (undefined for the others). */
  bodyBytesSent?: number;
}

export interface ReplySpec {
  status: number;
  headers?: Record<string, string | string[]>;
  /** A string is sent as is; anything else as JSON. */
  body?: string | object;
  /** Add a fresh Replay-Nonce fetched from Pebble, as a real CA does on error answers. Default true. */
  nonce?: boolean;
}

type HeaderEdit =
  | string
  | string[]
  | ((current: string | string[] | undefined) => string | string[] | undefined);

/**
 * What to do with a matching request. Fields combine: stall, then reply/forward, then edits, then reset.
 * An action with only edits (dropHeaders, setHeaders, mutateJson, status, reset 'after') is decided once
 * Pebble has answered, and by default only for a successful answer (see FaultRule.ifStatus), so Pebble's
 * own random badNonce answers pass through untouched and do not use the rule up.
 */
export interface FaultAction {
  /** Wait this long before answering or forwarding (Infinity: never, until the client leaves or the proxy stops). */
  stallMs?: number;
  /** Answer without asking Pebble. */
  reply?: ReplySpec | ((req: ProxyRequest) => ReplySpec);
  /** Destroy the connection: 'before' Pebble sees the request, or 'after' Pebble answered (the work was done, the answer is lost). */
  reset?: 'before' | 'after';
  /** Remove these headers from the answer. */
  dropHeaders?: string[];
  /** Set (or with a function, rewrite; undefined removes) headers of the answer. */
  setHeaders?: Record<string, HeaderEdit>;
  /** Rewrite the JSON body: return the new value, or undefined to keep the (mutated) argument. */
  mutateJson?(json: unknown, req: ProxyRequest): unknown;
  /** Replace the body, whatever its type (a PEM chain, HTML); runs before mutateJson. */
  mutateBody?(body: Buffer, req: ProxyRequest): Buffer | string;
  /** Change the status of the answer. */
  status?: number;
  /**
   * Send the status and headers (with the full Content-Length) at once, then the body at this many
   * bytes per second; 0 sends no body at all ("headers, then silence"). The connection stays open until
   * the body is out, the client leaves or the proxy stops. Alone, it is an edit-only action: Pebble's
   * own answer is what trickles.
   */
  trickleBytesPerSecond?: number;
}

export interface FaultRule {
  /** Shown in the log. Default: "<resource>#<n>". */
  name?: string;
  /** Resources this rule applies to; default every resource. */
  resource?: Resource | readonly Resource[];
  /** HTTP method; default any. */
  method?: string;
  /** Extra condition. */
  when?: (req: ProxyRequest) => boolean;
  /** Let this many matching requests pass first (counting only requests no earlier rule took). */
  skip?: number;
  /** Then apply to this many; default every following one. */
  times?: number;
  /**
   * For edit-only actions: which of Pebble's answers the rule applies to. Default: status < 400, so the
   * edit lands on the real answer, not on one of Pebble's random badNonce rejections.
   */
  ifStatus?: (status: number) => boolean;
  action: FaultAction | readonly FaultAction[];
}

export interface RuleHandle {
  readonly name: string;
  /** Matching requests this rule counted (skipped or applied). */
  readonly seen: number;
  /** Requests this rule acted on. */
  readonly applied: number;
  remove(): void;
}

export interface FaultProxy {
  /** The directory URL to give the client: Pebble's, with the proxy's origin. */
  readonly directoryUrl: string;
  /** https://127.0.0.1:<port> */
  readonly origin: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly log: readonly ProxyLogEntry[];
  rule(rule: FaultRule): RuleHandle;
  /** Removes every rule (the log stays). */
  clearRules(): void;
  /** Empties the log. */
  clearLog(): void;
  /**
   * Log entries for one resource (and method, when given), Pebble's random badNonce rejections included;
   * wrap in effective() to count what the client meant to send.
   */
  requests(resource: Resource, method?: string): ProxyLogEntry[];
  /** Resolves once every request that has arrived is answered or ended. */
  idle(): Promise<void>;
  /**
   * Open connections: `downstream` from clients to the proxy, `upstream` from the proxy to Pebble
   * (its keep-alive agent, idle ones included). For leak checks against process.getActiveResourcesInfo().
   */
  connections(): { downstream: number; upstream: number };
  /** Closes the server and every connection; safe to call more than once. */
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  target: Pick<PebbleServer, 'directoryUrl' | 'caBundle'> &
    Partial<Pick<PebbleServer, 'tlsCertPath' | 'tlsKeyPath'>>;
  /** Server certificate and key (PEM); default Pebble's own, from target.tlsCertPath/tlsKeyPath. */
  cert?: string;
  key?: string;
  /** Classify a path the built-in table does not know. */
  classify?: (path: string) => Resource | undefined;
  /**
   * How long the proxy keeps an idle client connection open (Node's server.keepAliveTimeout; default
   * Node's 5 s). Raise it to make sure idle sockets still open afterwards are the client's doing.
   */
  keepAliveTimeoutMs?: number;
}

// ---------- action helpers ----------

/** Answer with this status, headers and body, without asking Pebble. */
export function reply(
  status: number,
  headers: Record<string, string | string[]> = {},
  body?: string | object,
  opts: { nonce?: boolean } = {},
): FaultAction {
  return { reply: { status, headers, ...(body === undefined ? {} : { body }), ...opts } };
}

/** A problem document answer (RFC 8555 §6.7): content type application/problem+json. */
export function problemReply(
  status: number,
  type: string,
  detail: string,
  opts: {
    headers?: Record<string, string | string[]>;
    extra?: Record<string, unknown>;
    nonce?: boolean;
  } = {},
): FaultAction {
  return reply(
    status,
    { 'content-type': 'application/problem+json', ...opts.headers },
    problem(type, detail, { status, ...opts.extra }),
    opts.nonce === undefined ? {} : { nonce: opts.nonce },
  );
}

/** A problem document body; a short type gets the ACME prefix. */
export function problem(
  type: string,
  detail: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: type.includes(':') ? type : `urn:ietf:params:acme:error:${type}`, detail, ...extra };
}

/** Destroy the connection before Pebble sees the request (or, with 'after', after it answered). */
export function reset(when: 'before' | 'after' = 'before'): FaultAction {
  return { reset: when };
}

/** Hold the request this long, then go on (Infinity: until the client gives up). */
export function stall(ms: number): FaultAction {
  return { stallMs: ms };
}

export function dropHeader(...names: string[]): FaultAction {
  return { dropHeaders: names };
}

export function setHeader(name: string, value: HeaderEdit): FaultAction {
  return { setHeaders: { [name]: value } };
}

/**
 * Forward the answer slowly: status and headers at once, then the body at `bytesPerSecond`
 * (RELIABILITY B13: a body that keeps an idle timeout from ever firing).
 */
export function trickle(bytesPerSecond: number): FaultAction {
  if (!(bytesPerSecond >= 0)) throw new Error('trickle: bytesPerSecond must be >= 0');
  return { trickleBytesPerSecond: bytesPerSecond };
}

/** Status and headers, then no body at all, until the client gives up (RELIABILITY B13). */
export function silentBody(): FaultAction {
  return trickle(0);
}

/** Replace the answer's body (e.g. a certificate chain) with what `fn` returns. */
export function editBody(fn: (body: Buffer, req: ProxyRequest) => Buffer | string): FaultAction {
  return { mutateBody: fn };
}

export function mutateJson<T = Record<string, unknown>>(
  fn: (json: T, req: ProxyRequest) => unknown,
): FaultAction {
  return { mutateJson: fn as (json: unknown, req: ProxyRequest) => unknown };
}

/** Several actions as one (later fields win; header edits and drops accumulate). */
export function combine(...actions: FaultAction[]): FaultAction {
  const out: FaultAction = {};
  for (const a of actions) {
    const { dropHeaders, setHeaders, ...rest } = a;
    Object.assign(out, rest);
    if (dropHeaders) out.dropHeaders = [...(out.dropHeaders ?? []), ...dropHeaders];
    if (setHeaders) out.setHeaders = { ...out.setHeaders, ...setHeaders };
  }
  return out;
}

// ---------- counting the log ----------

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

/**
 * The log without the requests Pebble refused with its own random badNonce (`pebbleBadNonce`), each of
 * which the client sent again at once: the requests the client meant to send. Use it for counts such
 * as "exactly one newOrder", "finalize is not retried" or "each challenge answered once" in front of a
 * Pebble that rejects nonces at random. Everything else stays in, a badNonce injected by a rule too;
 * tests of the badNonce retries themselves (nonce hygiene, A2, A3, B4) read the whole log.
 */
export function effective(log: readonly ProxyLogEntry[]): ProxyLogEntry[] {
  return log.filter((e) => !e.pebbleBadNonce);
}

/** How many requests of `log` match `predicate` (default: all), Pebble's random badNonce rejections left out. */
export function countRequests(
  log: readonly ProxyLogEntry[],
  predicate: (e: ProxyLogEntry) => boolean = () => true,
): number {
  return effective(log).filter(predicate).length;
}

// ---------- the proxy ----------

const DIRECTORY_KEYS = [
  'newNonce',
  'newAccount',
  'newOrder',
  'revokeCert',
  'keyChange',
  'renewalInfo',
] as const;

// Pebble 2.4.0's URL layout for the objects it creates.
const PATH_PREFIXES: readonly [string, Resource][] = [
  ['/my-account/', 'account'],
  ['/list-orderz/', 'orders'],
  ['/my-order/', 'order'],
  ['/authZ/', 'authz'],
  ['/chalZ/', 'chall'],
  ['/finalize-order/', 'finalize'],
  ['/certZ/', 'cert'],
];

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

interface ActiveRule {
  rule: FaultRule;
  name: string;
  seen: number;
  applied: number;
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target.directoryUrl);
  const targetOrigin = target.origin;
  const certPath = opts.target.tlsCertPath;
  const keyPath = opts.target.tlsKeyPath;
  if ((opts.cert === undefined || opts.key === undefined) && (!certPath || !keyPath)) {
    throw new Error('startFaultProxy: the target exposes no tlsCertPath/tlsKeyPath; pass cert and key');
  }
  const cert = opts.cert ?? (await readFile(certPath!, 'utf8'));
  const key = opts.key ?? (await readFile(keyPath!, 'utf8'));
  const agent = new Agent({ keepAlive: true, ca: opts.target.caBundle, maxSockets: 16 });

  const log: ProxyLogEntry[] = [];
  const rules: ActiveRule[] = [];
  const sockets = new Set<Socket>();
  const pending = new Set<Promise<void>>();
  const stopping = new AbortController();
  const directoryPaths = new Map<string, Resource>([[target.pathname, 'directory']]);
  /** Replay-Nonces handed to clients and not yet sent back in a request (kept across clearLog()). */
  const unspentNonces = new Set<string>();
  let seq = 0;
  let ruleCount = 0;
  let origin = '';

  const classify = (path: string): Resource => {
    const pathname = path.split('?')[0] ?? path;
    const known = directoryPaths.get(pathname);
    if (known) return known;
    for (const [prefix, resource] of PATH_PREFIXES) if (pathname.startsWith(prefix)) return resource;
    return opts.classify?.(path) ?? 'other';
  };

  const learnDirectory = (body: Buffer): void => {
    try {
      const dir = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      for (const name of DIRECTORY_KEYS) {
        const url = dir[name];
        if (typeof url === 'string') directoryPaths.set(new URL(url).pathname, name);
      }
    } catch {
      // a mutated or broken directory teaches nothing
    }
  };

  const forward = (req: ProxyRequest, host: string | undefined): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
      }
      if (host !== undefined) headers.host = host;
      if (req.body.length > 0 || req.method === 'POST') headers['content-length'] = String(req.body.length);
      const up = request(
        {
          protocol: 'https:',
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.path,
          headers,
          agent,
          // Pebble's certificate names 127.0.0.1/localhost, never the proxy's Host header.
          servername: target.hostname === '127.0.0.1' ? 'localhost' : target.hostname,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(req.body);
    });

  const freshNonce = async (): Promise<string | undefined> => {
    const noncePath = [...directoryPaths].find(([, r]) => r === 'newNonce')?.[0] ?? '/nonce-plz';
    const res = await forward(
      {
        seq: 0,
        method: 'HEAD',
        path: noncePath,
        resource: 'newNonce',
        headers: {},
        body: Buffer.alloc(0),
        jws: undefined,
      },
      target.host,
    );
    const n = res.headers['replay-nonce'];
    return Array.isArray(n) ? n[0] : n;
  };

  /**
   * The first armed rule of this phase that matches. 'before' rules (stall, reply, reset before) are
   * decided when the request arrives; edit-only rules once Pebble answered with `status`.
   */
  const pickRule = (req: ProxyRequest, status?: number): ActiveRule | undefined => {
    for (const r of rules) {
      const { rule } = r;
      if (isEditOnly(rule) !== (status !== undefined)) continue;
      if (status !== undefined && !(rule.ifStatus ?? ((s: number) => s < 400))(status)) continue;
      if (rule.resource !== undefined) {
        const list: readonly Resource[] = typeof rule.resource === 'string' ? [rule.resource] : rule.resource;
        if (!list.includes(req.resource)) continue;
      }
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) continue;
      if (rule.when && !rule.when(req)) continue;
      if (rule.times !== undefined && r.applied >= rule.times) continue;
      r.seen++;
      if (r.seen <= (rule.skip ?? 0)) continue;
      r.applied++;
      return r;
    }
    return undefined;
  };

  const rewrite = (text: string): string => (origin ? text.split(targetOrigin).join(origin) : text);

  const handle = async (inc: IncomingMessage, out: ServerResponse): Promise<void> => {
    // Arrival time: when the request head was parsed, before the body is read.
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of inc) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = (inc.method ?? 'GET').toUpperCase();
    const path = inc.url ?? '/';
    const req: ProxyRequest = {
      seq: ++seq,
      method,
      path,
      resource: classify(path),
      headers: inc.headers,
      body,
      jws: method === 'POST' ? decodeJws(body) : undefined,
    };
    // A good nonce: one an earlier answer handed out, sent for the first time (Pebble then has no reason
    // of its own to refuse it). Only a badNonce to such a nonce is one of Pebble's random rejections.
    const nonceGood = req.jws?.nonce !== undefined && unspentNonces.delete(req.jws.nonce);
    let pebbleSaidBadNonce = false;
    const entry: ProxyLogEntry = {
      seq: req.seq,
      method,
      path,
      resource: req.resource,
      nonce: req.jws?.nonce,
      jwsUrl: req.jws?.url,
      kid: req.jws?.kid,
      userAgent: headerText(inc.headers['user-agent']),
      host: inc.headers.host,
      at,
      status: 0,
      replayNonce: undefined,
      problemType: undefined,
      pebbleBadNonce: false,
      rule: undefined,
      faults: [],
      doneAt: undefined,
      clientClosed: false,
    };
    log.push(entry);
    const gone = new AbortController();
    out.on('close', () => {
      if (!out.writableFinished) entry.clientClosed = true;
      entry.doneAt ??= Date.now();
      gone.abort();
    });

    let active = pickRule(req);
    let action = actionOf(active);
    if (active) entry.rule = active.name;

    if (action.stallMs !== undefined) {
      entry.faults.push('stall');
      await sleepUntil(action.stallMs, AbortSignal.any([gone.signal, stopping.signal]));
      if (gone.signal.aborted || stopping.signal.aborted) {
        inc.socket.destroy();
        return;
      }
    }
    if (action.reset === 'before') {
      entry.faults.push('reset');
      entry.doneAt = Date.now();
      inc.socket.destroy();
      return;
    }

    let answer: Upstream;
    if (action.reply) {
      entry.faults.push('reply');
      const spec = typeof action.reply === 'function' ? action.reply(req) : action.reply;
      const headers: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = value;
      let replyBody = Buffer.alloc(0);
      if (typeof spec.body === 'string') replyBody = Buffer.from(spec.body);
      else if (spec.body !== undefined) {
        replyBody = Buffer.from(JSON.stringify(spec.body));
        headers['content-type'] ??= 'application/json';
      }
      if (spec.nonce !== false && headers['replay-nonce'] === undefined) {
        const nonce = await freshNonce().catch(() => undefined);
        if (nonce) headers['replay-nonce'] = nonce;
      }
      answer = { status: spec.status, headers, body: replyBody };
    } else {
      try {
        answer = await forward(req, inc.headers.host);
      } catch (err) {
        answer = {
          status: 502,
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from(`fault proxy: upstream failed: ${String(err)}`),
        };
      }
      if (req.resource === 'directory' && answer.status === 200) learnDirectory(answer.body);
      pebbleSaidBadNonce = answer.status === 400 && problemTypeOf(answer.headers, answer.body) === BAD_NONCE;
      if (!active) {
        active = pickRule(req, answer.status);
        action = actionOf(active);
        if (active) entry.rule = active.name;
      }
    }

    // Point everything at the proxy, then apply the rule's edits.
    for (const [name, value] of Object.entries(answer.headers)) {
      if (typeof value === 'string') answer.headers[name] = rewrite(value);
      else if (Array.isArray(value)) answer.headers[name] = value.map(rewrite);
    }
    const type = headerText(answer.headers['content-type']) ?? '';
    if (/json|text|pem/i.test(type) || type === '')
      answer.body = Buffer.from(rewrite(answer.body.toString('utf8')));
    if (action.mutateBody) {
      entry.faults.push('edit');
      answer.body = Buffer.from(action.mutateBody(answer.body, req));
    }
    if (action.mutateJson) {
      entry.faults.push('edit');
      const json = JSON.parse(answer.body.toString('utf8'));
      const next = action.mutateJson(json, req);
      answer.body = Buffer.from(JSON.stringify(next === undefined ? json : next));
    }
    for (const name of action.dropHeaders ?? []) {
      entry.faults.push('edit');
      delete answer.headers[name.toLowerCase()];
    }
    for (const [rawName, edit] of Object.entries(action.setHeaders ?? {})) {
      entry.faults.push('edit');
      const name = rawName.toLowerCase();
      const value = typeof edit === 'function' ? edit(answer.headers[name]) : edit;
      if (value === undefined) delete answer.headers[name];
      else answer.headers[name] = value;
    }
    if (action.status !== undefined) {
      entry.faults.push('edit');
      answer.status = action.status;
    }

    if (action.reset === 'after') {
      entry.faults.push('reset');
      entry.doneAt = Date.now();
      inc.socket.destroy();
      return;
    }
    if (gone.signal.aborted) return;
    entry.status = answer.status;
    entry.replayNonce = headerText(answer.headers['replay-nonce']);
    if (entry.replayNonce !== undefined) unspentNonces.add(entry.replayNonce);
    entry.problemType = problemTypeOf(answer.headers, answer.body);
    // Pebble's own rejection, passed on as a badNonce (a rule's edit may have kept it one, never made it one).
    entry.pebbleBadNonce =
      pebbleSaidBadNonce && nonceGood && entry.status === 400 && entry.problemType === BAD_NONCE;
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) out.setHeader(name, value);
    }
    out.setHeader('content-length', String(answer.body.length));
    out.statusCode = answer.status;
    if (action.trickleBytesPerSecond !== undefined && method !== 'HEAD' && answer.body.length > 0) {
      entry.faults.push('trickle');
      entry.bodyBytesSent = 0;
      out.flushHeaders();
      await trickleBody(
        out,
        answer.body,
        action.trickleBytesPerSecond,
        AbortSignal.any([gone.signal, stopping.signal]),
        (n) => {
          entry.bodyBytesSent = n;
        },
      );
      if (!gone.signal.aborted && !stopping.signal.aborted) entry.doneAt = Date.now();
      return;
    }
    entry.doneAt = Date.now();
    out.end(method === 'HEAD' ? undefined : answer.body);
  };

  const server: Server = createServer({ cert, key }, (inc, out) => {
    const p = handle(inc, out).catch((err: unknown) => {
      if (!out.headersSent && !out.destroyed) {
        out.statusCode = 500;
        out.end(`fault proxy error: ${String(err)}`);
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (opts.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  // TLS errors from clients that hang up mid-handshake are expected in fault tests.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');
  const port = address.port;
  origin = `https://127.0.0.1:${port}`;
  const directoryUrl = `${origin}${target.pathname}${target.search}`;

  // Learn Pebble's resource paths up front, so the first newNonce is classified even before a directory fetch.
  try {
    const dir = await forward(
      {
        seq: 0,
        method: 'GET',
        path: target.pathname,
        resource: 'directory',
        headers: {},
        body: Buffer.alloc(0),
        jws: undefined,
      },
      target.host,
    );
    if (dir.status === 200) learnDirectory(dir.body);
  } catch {
    // Pebble down: requests will say so through the proxy.
  }

  let stopped: Promise<void> | undefined;
  return {
    directoryUrl,
    origin,
    port,
    log,
    rule(rule) {
      const name =
        rule.name ?? `${rule.resource === undefined ? 'any' : String(rule.resource)}#${++ruleCount}`;
      const active: ActiveRule = { rule, name, seen: 0, applied: 0 };
      rules.push(active);
      return {
        name,
        get seen() {
          return active.seen;
        },
        get applied() {
          return active.applied;
        },
        remove() {
          const i = rules.indexOf(active);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    clearRules() {
      rules.length = 0;
    },
    clearLog() {
      log.length = 0;
    },
    requests(resource, method) {
      return log.filter(
        (e) => e.resource === resource && (method === undefined || e.method === method.toUpperCase()),
      );
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    connections() {
      const count = (pool: NodeJS.ReadOnlyDict<unknown[]>) =>
        Object.values(pool).reduce((n, list) => n + (list?.length ?? 0), 0);
      return { downstream: sockets.size, upstream: count(agent.sockets) + count(agent.freeSockets) };
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        agent.destroy();
      })();
      return stopped;
    },
  };
}

function actionOf(active: ActiveRule | undefined): FaultAction {
  if (!active) return {};
  const a = active.rule.action;
  return combine(...(isActionList(a) ? a : [a]));
}

function isActionList(a: FaultAction | readonly FaultAction[]): a is readonly FaultAction[] {
  return Array.isArray(a);
}

/** True when every action only edits Pebble's answer (so the rule is decided after Pebble answered). */
function isEditOnly(rule: FaultRule): boolean {
  const list = isActionList(rule.action) ? rule.action : [rule.action];
  return list.every((a) => a.stallMs === undefined && a.reply === undefined && a.reset !== 'before');
}

function headerText(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The "type" of a problem document answer (application/problem+json); undefined for anything else. */
function problemTypeOf(headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  if (!/problem\+json/i.test(headerText(headers['content-type']) ?? '')) return undefined;
  try {
    const t = (JSON.parse(body.toString('utf8')) as { type?: unknown }).type;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The protected header of a flattened JWS, or undefined when the body is not one. */
export function decodeJws(body: Buffer): JwsInfo | undefined {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { protected?: unknown };
    if (typeof jws.protected !== 'string') return undefined;
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const str = (k: string) => (typeof header[k] === 'string' ? (header[k] as string) : undefined);
    return {
      nonce: str('nonce'),
      url: str('url'),
      kid: str('kid'),
      alg: str('alg'),
      hasJwk: header.jwk !== undefined,
    };
  } catch {
    return undefined;
  }
}

/** The payload of a flattened JWS (e.g. newOrder's identifiers, finalize's csr); undefined for POST-as-GET or junk. */
export function decodeJwsPayload(body: Buffer): unknown {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    if (typeof jws.payload !== 'string' || jws.payload === '') return undefined;
    return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Writes `body` at `bytesPerSecond` (0: never), then ends the answer; stops when `signal` fires (the
 * client left or the proxy stops). `sent` is told the running total after each write.
 */
async function trickleBody(
  out: ServerResponse,
  body: Buffer,
  bytesPerSecond: number,
  signal: AbortSignal,
  sent: (bytes: number) => void,
): Promise<void> {
  if (bytesPerSecond === 0) {
    await sleepUntil(Number.POSITIVE_INFINITY, signal);
    return;
  }
  // At most ~20 writes a second: one byte each at low rates, bigger pieces at high ones.
  const intervalMs = Math.max(50, 1000 / bytesPerSecond);
  const chunk = Math.max(1, Math.round((bytesPerSecond * intervalMs) / 1000));
  let offset = 0;
  while (offset < body.length) {
    await sleepUntil(intervalMs, signal);
    if (signal.aborted || out.destroyed) return;
    const piece = body.subarray(offset, offset + chunk);
    offset += piece.length;
    if (offset < body.length) out.write(piece);
    else out.end(piece);
    sent(offset);
  }
}

function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
