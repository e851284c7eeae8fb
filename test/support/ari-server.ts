/**
 * An ACME server for ARI (RFC 9773) and profiles (draft-aaron-acme-profiles) tests: a real Pebble
 * behind a small HTTPS front that adds what Pebble 2.4.0 lacks. DESIGN.md, "Test servers".
 *
 * Design, and what is real versus emulated:
 * - Everything is forwarded to Pebble unchanged: accounts, orders, authorizations, challenges,
 *   finalize, certificate download, nonces. Pebble builds its URLs from the Host header and checks the
 *   JWS "url" against it, so the front keeps the client's Host (its own address): Pebble then signs off
 *   on, and answers with, URLs of the front, and no body or header needs rewriting. Pebble stays the
 *   CA: it verifies every signature it sees and issues every certificate.
 * - The directory is Pebble's, plus `renewalInfo` and `meta.profiles` (both switchable per test).
 * - `GET <renewalInfo>/<certID>` is answered here (emulated RFC 9773 §4). By default it follows the
 *   RFC for certificates downloaded through the front: the third quarter of the validity as the
 *   window (defaultWindow()), Retry-After 6 h; unknown ids get 404. Tests replace the answer with
 *   setRenewalInfo().
 * - newOrder is read here before it is forwarded (the payload is base64url JSON, readable without
 *   verifying; the signed body cannot be changed, and Pebble 2.4.0 ignores "profile" and "replaces").
 *   Emulated checks, done without verifying the signature:
 *     profile  — unknown to meta.profiles → 400 invalidProfile (profiles draft);
 *     replaces — RFC 9773 §5: unknown certificate → 400 malformed, certificate downloaded by another
 *                account → 403 unauthorized, no identifier shared → 400 malformed, already named by
 *                an earlier order → 409 alreadyReplaced. Orders are never marked invalid here, so
 *                "replaced by an order that is not invalid" is "replaced by any order".
 *   When the order passes, the original bytes go to Pebble; Pebble's order object (from newOrder,
 *   the order URL and finalize) is then given the "profile" and "replaces" it accepted. Pebble
 *   issues with its single profile whatever the name: the profile changes nothing in the certificate.
 *   A refusal made here carries a fresh Replay-Nonce fetched from Pebble, so the client's pool stays good.
 * - Every request is recorded: method, path, status, who answered, and for JWS POSTs the decoded
 *   protected header and payload.
 * The front listens on 127.0.0.1 port 0 (the kernel picks a free port when binding, so no race as
 * with freePort()), with a certificate from createTestCa(): clients trust `caBundle`, never Pebble's root.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PebbleServer } from './pebble.ts';
import { createTestCa } from './test-ca.ts';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly path: string;
  readonly status: number;
  /** 'pebble' when forwarded, 'emulated' when this front answered by itself. */
  readonly answeredBy: 'pebble' | 'emulated';
  /** Decoded JWS protected header (alg, nonce, url, kid or jwk) of a POST. */
  readonly protected?: Record<string, unknown>;
  /** Decoded JWS payload of a POST; undefined for a POST-as-GET (empty payload). */
  readonly payload?: unknown;
  /** The short problem type of an error answer ('badNonce', 'alreadyReplaced', ...). */
  readonly problem?: string;
}

/** An answer the front sends by itself. `body` is JSON-encoded unless it is a string. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface IssuedCertificate {
  /** RFC 9773 §4.1 certID, computed here with a small DER reader (not the library's code). */
  readonly certId: string;
  readonly pem: string;
  /** kid of the account that downloaded it. */
  readonly accountUrl: string | undefined;
  /** DNS names and IP addresses from the SAN, lower case. */
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface AriServerConfig {
  /** Offer renewalInfo in the directory (default true). */
  renewalInfo: boolean;
  /** Path of the renewalInfo resource (default '/renewalInfo'; a trailing '/' is allowed). */
  renewalInfoPath: string;
  /** meta.profiles (name → description URL); undefined leaves it out. */
  profiles: Record<string, string> | undefined;
}

export interface AriServer {
  /** The front's directory URL: give this to AcmeClient. */
  readonly directoryUrl: string;
  /** Root of the front's HTTPS certificate. */
  readonly caBundle: string;
  readonly origin: string;
  readonly config: AriServerConfig;
  /** Every request since start or the last reset(), oldest first. */
  readonly requests: RecordedRequest[];
  /** Certificates downloaded through the front, by certID. */
  readonly certificates: ReadonlyMap<string, IssuedCertificate>;
  /** certID → URL of the order that named it in "replaces". */
  readonly replaced: ReadonlyMap<string, string>;
  /**
   * newOrder requests (decoded), oldest first, with the status they got. Pebble's badNonce rejections
   * (it rejects 5% of good nonces; the client signs again with a fresh one) are left out.
   */
  newOrders(): { payload: Record<string, unknown>; status: number; answeredBy: 'pebble' | 'emulated' }[];
  /** Answer GET renewalInfo with this instead of the default; undefined falls back to the default. */
  setRenewalInfo(answer: ((certId: string) => Reply | undefined) | Reply | undefined): void;
  /** Answer newOrder with this (decoded payload in) instead of the checks above; undefined: the checks. */
  setNewOrder(answer: ((payload: Record<string, unknown>) => Reply | undefined) | undefined): void;
  /** Clears the record and the overrides and restores the default config (certificates and replacements stay). */
  reset(): void;
  stop(): Promise<void>;
}

const DEFAULT_CONFIG: AriServerConfig = {
  renewalInfo: true,
  renewalInfoPath: '/renewalInfo',
  profiles: {
    classic: 'https://example.test/docs/profiles#classic',
    shortlived: 'https://example.test/docs/profiles#shortlived',
  },
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

export async function startAriServer(opts: { pebble: PebbleServer }): Promise<AriServer> {
  const pebbleUrl = new URL(opts.pebble.directoryUrl);
  const ca = await createTestCa();
  const agent = new Agent({ keepAlive: true, ca: opts.pebble.caBundle });
  const requests: RecordedRequest[] = [];
  const certificates = new Map<string, IssuedCertificate>();
  const replaced = new Map<string, string>();
  /** Order URL or finalize URL (path) → fields to add to Pebble's order object. */
  const orderExtras = new Map<string, Record<string, string>>();
  const config: AriServerConfig = { ...DEFAULT_CONFIG };
  let renewalInfoOverride: ((certId: string) => Reply | undefined) | undefined;
  let newOrderOverride: ((payload: Record<string, unknown>) => Reply | undefined) | undefined;
  let pebblePaths: { newNonce: string; newOrder: string } | undefined;

  type Upstream = { status: number; rawHeaders: string[]; body: Buffer };
  const toPebble = (
    method: string,
    path: string,
    host: string,
    headers: OutgoingHttpHeaders,
    body?: Buffer,
  ) =>
    new Promise<Upstream>((resolve, reject) => {
      const req = request(
        {
          host: pebbleUrl.hostname,
          port: pebbleUrl.port,
          path,
          method,
          agent,
          // Pebble builds URLs from Host and checks the JWS url against them: keep the front's.
          headers: { ...headers, host },
          timeout: 20_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path} at pebble`)));
      req.on('error', reject);
      req.end(body);
    });

  const paths = async (host: string) => {
    if (!pebblePaths) {
      const res = await toPebble('GET', pebbleUrl.pathname, host, {});
      const dir = JSON.parse(res.body.toString('utf8')) as Record<string, string>;
      pebblePaths = { newNonce: new URL(dir.newNonce!).pathname, newOrder: new URL(dir.newOrder!).pathname };
    }
    return pebblePaths;
  };

  const freshNonce = async (host: string): Promise<string | undefined> => {
    const res = await toPebble('HEAD', (await paths(host)).newNonce, host, {});
    const i = res.rawHeaders.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === 'replay-nonce');
    return i >= 0 ? res.rawHeaders[i + 1] : undefined;
  };

  const send = (res: ServerResponse, reply: Reply) => {
    const body =
      reply.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    const headers: OutgoingHttpHeaders = { ...reply.headers, 'content-length': body.length };
    if (reply.body !== undefined && typeof reply.body !== 'string' && !reply.headers?.['content-type']) {
      headers['content-type'] = reply.status >= 400 ? 'application/problem+json' : 'application/json';
    }
    res.writeHead(reply.status, headers);
    res.end(body);
  };

  const problem = (status: number, type: string, detail: string): Reply => ({
    status,
    body: { type: `urn:ietf:params:acme:error:${type}`, detail, status },
  });

  const defaultRenewalInfo = (certId: string): Reply => {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(certId)) {
      return problem(
        400,
        'malformed',
        `"${certId}" is not a certID (base64url(AKI keyIdentifier) "." base64url(serial))`,
      );
    }
    const cert = certificates.get(certId);
    if (!cert) return problem(404, 'malformed', `no certificate with certID ${certId} was issued here`);
    const window = defaultWindow(cert.notBefore, cert.notAfter);
    return {
      status: 200,
      headers: { 'retry-after': '21600' },
      body: { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } },
    };
  };

  /** RFC 9773 §5 checks of "replaces", and the profiles draft's check of "profile". */
  const checkNewOrder = (payload: Record<string, unknown>, kid: string | undefined): Reply | undefined => {
    if (payload.profile !== undefined) {
      const profiles = config.profiles;
      if (typeof payload.profile !== 'string' || !profiles || !Object.hasOwn(profiles, payload.profile)) {
        return problem(
          400,
          'invalidProfile',
          `this server has no profile ${JSON.stringify(payload.profile)}`,
        );
      }
    }
    if (payload.replaces !== undefined) {
      const id = payload.replaces;
      const cert = typeof id === 'string' ? certificates.get(id) : undefined;
      if (typeof id !== 'string' || !cert) {
        return problem(
          400,
          'malformed',
          `"replaces" names no certificate issued here: ${JSON.stringify(id)}`,
        );
      }
      if (cert.accountUrl !== kid) {
        return problem(403, 'unauthorized', `the certificate ${id} belongs to another account`);
      }
      const ids = Array.isArray(payload.identifiers) ? payload.identifiers : [];
      const names = ids.map((i) => String((i as { value?: unknown }).value ?? '').toLowerCase());
      if (!names.some((n) => cert.names.includes(n))) {
        return problem(400, 'malformed', `the order shares no identifier with the certificate ${id}`);
      }
      const by = replaced.get(id);
      if (by) return problem(409, 'alreadyReplaced', `the certificate ${id} is already replaced by ${by}`);
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? origin.slice('https://'.length);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = new URL(path, origin).pathname;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const jws = method === 'POST' ? decodeJws(body) : undefined;
    const record = (status: number, answeredBy: RecordedRequest['answeredBy'], answer?: unknown) => {
      const type = status >= 400 ? problemType(answer) : undefined;
      requests.push({
        method,
        path,
        status,
        answeredBy,
        ...(jws ? { protected: jws.protected, payload: jws.payload } : {}),
        ...(type ? { problem: type } : {}),
      });
    };

    // Emulated RFC 9773 §4: GET <renewalInfo>/<certID>, unauthenticated.
    const riPrefix = `${config.renewalInfoPath.replace(/\/$/, '')}/`;
    if (config.renewalInfo && pathname.startsWith(riPrefix)) {
      const certId = pathname.slice(riPrefix.length);
      const reply =
        method === 'GET'
          ? (renewalInfoOverride?.(certId) ?? defaultRenewalInfo(certId))
          : problem(405, 'malformed', 'renewalInfo is fetched with GET');
      send(res, reply);
      record(reply.status, 'emulated', reply.body);
      return;
    }

    const { newOrder } = await paths(host);
    const isNewOrder = method === 'POST' && pathname === newOrder;
    const orderPayload = isNewOrder && isObject(jws?.payload) ? jws.payload : undefined;
    const kid = typeof jws?.protected.kid === 'string' ? jws.protected.kid : undefined;
    if (orderPayload) {
      const refusal = newOrderOverride ? newOrderOverride(orderPayload) : checkNewOrder(orderPayload, kid);
      if (refusal) {
        const nonce = await freshNonce(host);
        const headers: Record<string, string> = {
          ...(nonce ? { 'replay-nonce': nonce } : {}),
          link: `<${origin}${pebbleUrl.pathname}>;rel="index"`,
          ...refusal.headers,
        };
        send(res, { ...refusal, headers });
        record(refusal.status, 'emulated', refusal.body);
        return;
      }
    }

    const forwarded: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers))
      if (!HOP_BY_HOP.has(k) && k !== 'host') forwarded[k] = v;
    if (body.length > 0) forwarded['content-length'] = body.length;
    const up = await toPebble(method, path, host, forwarded, body.length > 0 ? body : undefined);
    const headers = new Map<string, string[]>();
    for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
      const name = up.rawHeaders[i]!.toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers.set(name, [...(headers.get(name) ?? []), up.rawHeaders[i + 1]!]);
    }
    const contentType = headers.get('content-type')?.[0] ?? '';
    let out = up.body;

    if (pathname === pebbleUrl.pathname && method === 'GET' && up.status === 200) {
      // The directory: Pebble's, plus the emulated resources.
      const dir = JSON.parse(up.body.toString('utf8')) as Record<string, unknown>;
      if (config.renewalInfo) dir.renewalInfo = `${origin}${config.renewalInfoPath}`;
      if (config.profiles) dir.meta = { ...(isObject(dir.meta) ? dir.meta : {}), profiles: config.profiles };
      out = Buffer.from(JSON.stringify(dir, null, 2));
    } else if (orderPayload && up.status === 201) {
      const location = headers.get('location')?.[0];
      const extras: Record<string, string> = {};
      if (typeof orderPayload.profile === 'string') extras.profile = orderPayload.profile;
      if (typeof orderPayload.replaces === 'string') extras.replaces = orderPayload.replaces;
      if (location) {
        if (extras.replaces) replaced.set(extras.replaces, location);
        const order = JSON.parse(up.body.toString('utf8')) as Record<string, unknown>;
        orderExtras.set(new URL(location, origin).pathname, extras);
        if (typeof order.finalize === 'string')
          orderExtras.set(new URL(order.finalize, origin).pathname, extras);
        out = Buffer.from(JSON.stringify({ ...order, ...extras }, null, 2));
      }
    } else if (
      method === 'POST' &&
      orderExtras.has(pathname) &&
      contentType.includes('json') &&
      up.status < 300
    ) {
      out = Buffer.from(
        JSON.stringify({ ...JSON.parse(up.body.toString('utf8')), ...orderExtras.get(pathname) }),
      );
    } else if (contentType.startsWith('application/pem-certificate-chain') && up.status === 200) {
      const pem = up.body.toString('utf8');
      const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
      if (leaf) {
        const cert = describeCertificate(leaf, kid);
        if (cert) certificates.set(cert.certId, cert);
      }
    }

    const outHeaders: OutgoingHttpHeaders = Object.fromEntries(headers);
    outHeaders['content-length'] = out.length;
    res.writeHead(up.status, outHeaders);
    res.end(method === 'HEAD' ? undefined : out);
    record(up.status, 'pebble', up.body);
  };

  const server = createServer(
    { cert: await readFile(ca.certPath), key: await readFile(ca.keyPath), keepAliveTimeout: 5_000 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, problem(500, 'serverInternal', `ari-server: ${String(err)}`));
        else res.destroy();
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 500, answeredBy: 'emulated' });
      });
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, resolve);
    });
  } catch (err) {
    agent.destroy();
    await rm(ca.dir, { recursive: true, force: true });
    throw err;
  }
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let stopping: Promise<void> | undefined;
  return {
    directoryUrl: `${origin}${pebbleUrl.pathname}`,
    caBundle: ca.rootPem,
    origin,
    config,
    requests,
    certificates,
    replaced,
    newOrders: () =>
      requests.flatMap((r) =>
        r.method === 'POST' &&
        pebblePaths &&
        new URL(r.path, origin).pathname === pebblePaths.newOrder &&
        isObject(r.payload) &&
        r.problem !== 'badNonce'
          ? [{ payload: r.payload, status: r.status, answeredBy: r.answeredBy }]
          : [],
      ),
    setRenewalInfo: (answer) => {
      renewalInfoOverride = answer === undefined || typeof answer === 'function' ? answer : () => answer;
    },
    setNewOrder: (answer) => {
      newOrderOverride = answer;
    },
    reset: () => {
      requests.length = 0;
      renewalInfoOverride = undefined;
      newOrderOverride = undefined;
      Object.assign(config, DEFAULT_CONFIG);
    },
    stop: () => {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        agent.destroy();
        await rm(ca.dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * The default suggested window (RFC 9773 leaves it to the CA): the third quarter of the validity,
 * late enough not to waste the certificate, early enough to leave a quarter for retries.
 */
export function defaultWindow(notBefore: Date, notAfter: Date): { start: Date; end: Date } {
  const life = notAfter.getTime() - notBefore.getTime();
  return {
    start: new Date(notBefore.getTime() + life / 2),
    end: new Date(notBefore.getTime() + (life * 3) / 4),
  };
}

/** 'badNonce' for urn:ietf:params:acme:error:badNonce, from a problem document (object or JSON bytes). */
function problemType(answer: unknown): string | undefined {
  let doc = answer;
  try {
    if (Buffer.isBuffer(doc)) doc = JSON.parse(doc.toString('utf8'));
    else if (typeof doc === 'string') doc = JSON.parse(doc);
  } catch {
    return undefined;
  }
  const type = isObject(doc) ? doc.type : undefined;
  return typeof type === 'string' ? type.replace(/^urn:ietf:params:acme:error:/, '') : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Protected header and payload of a flattened JWS, decoded without verifying; undefined if not one. */
function decodeJws(body: Buffer): { protected: Record<string, unknown>; payload: unknown } | undefined {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { protected?: unknown; payload?: unknown };
    if (typeof jws.protected !== 'string' || typeof jws.payload !== 'string') return undefined;
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as unknown;
    if (!isObject(header)) return undefined;
    const payload =
      jws.payload === ''
        ? undefined
        : (JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as unknown);
    return { protected: header, payload };
  } catch {
    return undefined;
  }
}

function describeCertificate(pem: string, accountUrl: string | undefined): IssuedCertificate | undefined {
  const x509 = new X509Certificate(pem);
  const certId = certIdFromDer(x509.raw);
  if (!certId) return undefined;
  const names = (x509.subjectAltName ?? '')
    .split(', ')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, '').toLowerCase())
    .filter(Boolean);
  return {
    certId,
    pem,
    accountUrl,
    names,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}

// A minimal DER reader, enough for RFC 9773 §4.1: the serial's content octets as encoded, and the
// keyIdentifier of the Authority Key Identifier extension (OID 2.5.29.35).
interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('DER length past the end');
  return { tag, start, end: start + len };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]);

export function certIdFromDer(der: Buffer): string | undefined {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0]!;
  const fields = children(der, tbs);
  const serial = fields[0]!.tag === 0xa0 ? fields[1]! : fields[0]!; // [0] version is optional
  if (serial.tag !== 0x02) throw new Error('no serial INTEGER');
  const extsWrapper = fields.find((f) => f.tag === 0xa3);
  if (!extsWrapper) return undefined;
  const exts = children(der, children(der, extsWrapper)[0]!);
  for (const ext of exts) {
    const [oid, ...rest] = children(der, ext);
    if (!oid || !der.subarray(oid.start, oid.end).equals(AKI_OID)) continue;
    const value = rest[rest.length - 1]!; // OCTET STRING, after the optional critical BOOLEAN
    const aki = readTlv(der, value.start);
    const keyId = children(der, aki).find((f) => f.tag === 0x80); // [0] IMPLICIT keyIdentifier
    if (!keyId) return undefined;
    const b64 = (t: Tlv) => der.subarray(t.start, t.end).toString('base64url');
    return `${b64(keyId)}.${b64(serial)}`;
  }
  return undefined;
}
