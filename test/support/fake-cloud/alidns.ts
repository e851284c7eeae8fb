// A fake of the Alidns 2015-01-09 OpenAPI (DescribeDomains, DescribeDomainRecords, AddDomainRecord,
// DeleteDomainRecord) and of the ECS instance metadata service's RAM-role credentials. The API side checks
// every request's ACS3-HMAC-SHA256 signature with its own minimal recomputation of the documented
// algorithm (it does not import the provider's signer), and answers in Alibaba's error shape.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import type { TestCa } from '../test-ca.ts';

export interface FakeAlidnsOptions {
  /** Domains in the account, e.g. ["laeni.cn"]. */
  readonly domains: readonly string[];
  /** AccessKey ID → secret of long-term keys. */
  readonly keys?: Readonly<Record<string, string>>;
  /** Cap on PageSize, below the API's own 500 / 100, to exercise pagination. */
  readonly pageSizeCap?: number;
}

export interface FakeRecord {
  readonly RecordId: string;
  readonly DomainName: string;
  readonly RR: string;
  readonly Type: string;
  readonly Value: string;
  readonly TTL: number;
  readonly Line: string;
}

/** One request as the fake saw it, after authentication (or the error it got). */
export interface AlidnsRequestLog {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly accessKeyId: string | undefined;
  readonly securityToken: string | undefined;
  readonly code: string | undefined;
  readonly status: number;
}

export interface InjectedFailure {
  /** Only this action; any when omitted. */
  readonly action?: string;
  readonly code: string;
  readonly status: number;
  readonly message?: string;
  /** How many requests get it. Default 1. */
  readonly times?: number;
}

export interface FakeAlidns {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly log: AlidnsRequestLog[];
  /** TXT values at an absolute or relative-to-root name. */
  values(fqdn: string): string[];
  records(): FakeRecord[];
  addKey(accessKeyId: string, secret: string, securityToken?: string): void;
  addDomain(name: string): void;
  /** The next matching requests get this error after authentication. */
  fail(f: InjectedFailure): void;
  /** Answers Forbidden.RAM for this action, as for a RAM user without the permission. */
  deny(action: string): void;
  close(): Promise<void>;
}

const HOST_ID = 'alidns.aliyuncs.com';
const MAX_SKEW_MS = 15 * 60_000;
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** RFC 3986 over the UTF-8 bytes, written out byte by byte (independent of the provider's encoder). */
function enc(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function hex256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Decoded query parameters from the raw query string (no "+" → space: V3 encodes spaces as %20). */
function parseQuery(raw: string): [string, string][] {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const i = pair.indexOf('=');
    const [k, v] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
    return [decodeURIComponent(k), decodeURIComponent(v)];
  });
}

class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const ERR = {
  incomplete: () =>
    new ApiError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.'),
  keyNotFound: () => new ApiError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  timeFormat: () =>
    new ApiError(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.'),
  timeExpired: () =>
    new ApiError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'),
  nonceUsed: () => new ApiError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'),
  tokenMismatch: () =>
    new ApiError(
      400,
      'InvalidSecurityToken.MismatchWithAccessKey',
      'Specified SecurityToken mismatch with the AccessKey.',
    ),
  forbidden: () =>
    new ApiError(
      403,
      'Forbidden.RAM',
      "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    ),
  noDomain: () =>
    new ApiError(
      400,
      'InvalidDomainName.NoExist',
      'The specified domain name does not exist. Refresh the page and try again.',
    ),
  missing: (name: string) => new ApiError(400, `Missing${name}`, `${name} is mandatory for this action.`),
};

interface Key {
  readonly secret: string;
  readonly token: string | undefined;
}

export async function startFakeAlidns(ca: TestCa, o: FakeAlidnsOptions): Promise<FakeAlidns> {
  const [cert, key] = await Promise.all([readFile(ca.certPath), readFile(ca.keyPath)]);
  const keys = new Map<string, Key>(
    Object.entries(o.keys ?? {}).map(([id, secret]) => [id, { secret, token: undefined }]),
  );
  const domains = new Set(o.domains.map((d) => d.toLowerCase().replace(/\.$/, '')));
  const records: (FakeRecord & { created: number })[] = [];
  const nonces = new Set<string>();
  const failures: InjectedFailure[] = [];
  const denied = new Set<string>();
  const log: AlidnsRequestLog[] = [];
  let nextId = 800_000_000_000_000;
  let created = 0;

  /** Authenticates as documented; returns the AccessKey ID. */
  function authenticate(
    req: IncomingMessage,
    rawQuery: string,
    body: Buffer,
  ): { id: string; token?: string } {
    const h = req.headers;
    const auth = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
      String(h.authorization ?? ''),
    );
    if (!auth) throw ERR.incomplete();
    const [, id, signedList, signature] = auth as unknown as [string, string, string, string];
    const signed = signedList.split(';');
    // Every header that must be signed is, and the list is sorted.
    const mustSign = Object.keys(h).filter(
      (n) => n === 'host' || n === 'content-type' || n.startsWith('x-acs-'),
    );
    for (const need of [
      'host',
      'x-acs-action',
      'x-acs-version',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-content-sha256',
    ]) {
      if (h[need] === undefined) throw ERR.incomplete();
    }
    if (mustSign.some((n) => !signed.includes(n)) || signed.join(';') !== [...signed].sort().join(';')) {
      throw ERR.incomplete();
    }

    const k = keys.get(id);
    if (!k) throw ERR.keyNotFound();

    const date = String(h['x-acs-date']);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(date) || Number.isNaN(Date.parse(date)))
      throw ERR.timeFormat();
    if (Math.abs(Date.now() - Date.parse(date)) > MAX_SKEW_MS) throw ERR.timeExpired();

    // Recompute: canonical request → string to sign → HMAC-SHA256 with the key's secret.
    const query = parseQuery(rawQuery)
      .map(([name, value]) => [enc(name), enc(value)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const headerLines = signed.map((n) => `${n}:${String(h[n] ?? '').trim()}\n`).join('');
    const path = new URL(req.url ?? '/', 'https://x').pathname
      .split('/')
      .map((s) => enc(decodeURIComponent(s)))
      .join('/');
    const payload = hex256(body);
    const canonical = [req.method, path, query, headerLines, signed.join(';'), payload].join('\n');
    const stringToSign = `ACS3-HMAC-SHA256\n${hex256(canonical)}`;
    const expected = createHmac('sha256', k.secret).update(stringToSign).digest();
    if (h['x-acs-content-sha256'] !== payload || !timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw new ApiError(
        400,
        'SignatureDoesNotMatch',
        `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
      );
    }
    const token = h['x-acs-security-token'] === undefined ? undefined : String(h['x-acs-security-token']);
    if (k.token !== undefined && token !== k.token) throw ERR.tokenMismatch();

    const nonce = String(h['x-acs-signature-nonce']);
    if (nonces.has(nonce)) throw ERR.nonceUsed();
    nonces.add(nonce);
    return token === undefined ? { id } : { id, token };
  }

  function domainOf(params: Record<string, string>): string {
    const name = params.DomainName?.toLowerCase();
    if (!name) throw ERR.missing('DomainName');
    if (!domains.has(name)) throw ERR.noDomain();
    return name;
  }

  function pageOf(params: Record<string, string>, max: number): { number: number; size: number } {
    const number = Number(params.PageNumber ?? '1');
    const asked = Number(params.PageSize ?? '20');
    if (!Number.isInteger(number) || number < 1)
      throw new ApiError(400, 'InvalidPageNumber', 'PageNumber is invalid.');
    if (!Number.isInteger(asked) || asked < 1 || asked > max)
      throw new ApiError(400, 'InvalidPageSize', 'PageSize is invalid.');
    return { number, size: Math.min(asked, o.pageSizeCap ?? max) };
  }

  const actions: Record<string, (p: Record<string, string>) => Record<string, unknown>> = {
    DescribeDomains(p) {
      const { number, size } = pageOf(p, 100);
      const all = [...domains].sort();
      const page = all.slice((number - 1) * size, number * size);
      return {
        TotalCount: all.length,
        PageNumber: number,
        PageSize: size,
        Domains: {
          Domain: page.map((d, i) => ({ DomainId: `dom-${i}`, DomainName: d, PunyCode: d, RecordCount: 0 })),
        },
      };
    },
    DescribeDomainRecords(p) {
      const domain = domainOf(p);
      const { number, size } = pageOf(p, 500);
      const rrKey = p.RRKeyWord?.toLowerCase();
      const typeKey = p.TypeKeyWord?.toUpperCase();
      const valueKey = p.ValueKeyWord?.toLowerCase();
      const all = records
        .filter((r) => r.DomainName === domain)
        .filter((r) => rrKey === undefined || r.RR.toLowerCase().includes(rrKey))
        .filter((r) => typeKey === undefined || r.Type === typeKey)
        .filter((r) => valueKey === undefined || r.Value.toLowerCase().includes(valueKey))
        .sort((a, b) => b.created - a.created); // newest first, as the API does
      const page = all.slice((number - 1) * size, number * size);
      return {
        TotalCount: all.length,
        PageNumber: number,
        PageSize: size,
        DomainRecords: {
          Record: page.map(({ created: _, ...r }) => ({ ...r, Status: 'ENABLE', Locked: false, Weight: 1 })),
        },
      };
    },
    AddDomainRecord(p) {
      const domain = domainOf(p);
      for (const name of ['RR', 'Type', 'Value'] as const) if (!p[name]) throw ERR.missing(name);
      const rr = p.RR!;
      const type = p.Type!.toUpperCase();
      const line = p.Line ?? 'default';
      const ttl = Number(p.TTL ?? '600');
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400)
        throw new ApiError(400, 'InvalidTTL', 'TTL is invalid.');
      const dup = records.some(
        (r) =>
          r.DomainName === domain &&
          r.RR.toLowerCase() === rr.toLowerCase() &&
          r.Type === type &&
          r.Value === p.Value &&
          r.Line === line,
      );
      if (dup) throw new ApiError(400, 'DomainRecordDuplicate', 'The DNS record already exists.');
      const RecordId = String(nextId++);
      records.push({
        RecordId,
        DomainName: domain,
        RR: rr,
        Type: type,
        Value: p.Value!,
        TTL: ttl,
        Line: line,
        created: created++,
      });
      return { RecordId };
    },
    DeleteDomainRecord(p) {
      if (!p.RecordId) throw ERR.missing('RecordId');
      const i = records.findIndex((r) => r.RecordId === p.RecordId);
      if (i < 0) {
        throw new ApiError(
          400,
          'DomainRecordNotBelongToUser',
          'The DNS record does not belong to the current user.',
        );
      }
      records.splice(i, 1);
      return { RecordId: p.RecordId };
    },
  };

  function handle(
    req: IncomingMessage,
    body: Buffer,
  ): { status: number; json: Record<string, unknown>; entry: Omit<AlidnsRequestLog, 'status' | 'code'> } {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const params: Record<string, string> = {};
    for (const [k, v] of parseQuery(rawQuery)) params[k] = v;
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of parseQuery(body.toString('utf8'))) params[k] = v;
    }
    const action = String(req.headers['x-acs-action'] ?? '');
    const entry = {
      action,
      params,
      accessKeyId: undefined as string | undefined,
      securityToken: undefined as string | undefined,
    };
    const requestId = randomBytes(16).toString('hex').toUpperCase();
    try {
      if (req.method !== 'POST' && req.method !== 'GET') {
        throw new ApiError(400, 'UnsupportedHTTPMethod', 'This http method not supported.');
      }
      const who = authenticate(req, rawQuery, body);
      entry.accessKeyId = who.id;
      entry.securityToken = who.token;
      if (req.headers['x-acs-version'] !== '2015-01-09') {
        throw new ApiError(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
      }
      const run = actions[action];
      if (!run)
        throw new ApiError(
          404,
          'InvalidApi.NotFound',
          'Specified api is not found, please check your url and method.',
        );
      const f = failures.findIndex((x) => x.action === undefined || x.action === action);
      if (f >= 0) {
        const failure = failures[f]!;
        const left = (failure.times ?? 1) - 1;
        if (left > 0) failures[f] = { ...failure, times: left };
        else failures.splice(f, 1);
        throw new ApiError(failure.status, failure.code, failure.message ?? `injected ${failure.code}`);
      }
      if (denied.has(action)) throw ERR.forbidden();
      return { status: 200, json: { RequestId: requestId, ...run(params) }, entry };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const json = {
        RequestId: requestId,
        HostId: HOST_ID,
        Code: err.code,
        Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${err.code}&product=Alidns&requestId=${requestId}`,
      };
      return { status: err.status, json, entry };
    }
  }

  const server = createHttpsServer({ cert, key }, (req, res) => {
    readBody(req).then(
      (body) => {
        let out: ReturnType<typeof handle>;
        try {
          out = handle(req, body);
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`fake failed: ${String(err)}`);
          return;
        }
        const code = typeof out.json.Code === 'string' ? out.json.Code : undefined;
        log.push({ ...out.entry, code, status: out.status });
        res
          .writeHead(out.status, { 'content-type': 'application/json;charset=utf-8' })
          .end(JSON.stringify(out.json));
      },
      () => res.destroy(),
    );
  });
  const port = await listen(server);

  return {
    url: `https://127.0.0.1:${port}`,
    log,
    values(fqdn) {
      const name = fqdn.toLowerCase().replace(/\.$/, '');
      const domain = [...domains]
        .filter((d) => name === d || name.endsWith(`.${d}`))
        .sort((a, b) => b.length - a.length)[0];
      if (domain === undefined) return [];
      const rr = name === domain ? '@' : name.slice(0, -(domain.length + 1));
      return records
        .filter((r) => r.DomainName === domain && r.Type === 'TXT' && r.RR.toLowerCase() === rr)
        .map((r) => r.Value);
    },
    records: () => records.map(({ created: _, ...r }) => r),
    addKey(accessKeyId, secret, securityToken) {
      keys.set(accessKeyId, { secret, token: securityToken });
    },
    addDomain(name) {
      domains.add(name.toLowerCase().replace(/\.$/, ''));
    },
    fail(f) {
      failures.push(f);
    },
    deny(action) {
      denied.add(action);
    },
    close: () => closeServer(server),
  };
}

export interface FakeEcsMetadataOptions {
  /** Where issued credentials become valid. */
  readonly alidns: FakeAlidns;
  /** Role names attached to the "instance". */
  readonly roles: readonly string[];
  /** Lifetime of issued credentials. Default 1 h. */
  readonly lifetimeMs?: number;
  /** Hardened mode: refuse the credentials GET without a session token from PUT /latest/api/token. */
  readonly requireToken?: boolean;
  /** false: an older service without PUT /latest/api/token (404), so only the plain GET works. */
  readonly tokenEndpoint?: boolean;
  /** Answers credential requests this much later, to overlap concurrent callers. */
  readonly delayMs?: number;
}

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
  /** Whether the GET carried a metadata session token. */
  readonly withSessionToken: boolean;
}

export interface FakeEcsMetadata {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Credentials handed out, one per credentials GET. */
  readonly issued: IssuedCredentials[];
  close(): Promise<void>;
}

/** The ECS metadata service's RAM-role endpoints, over plain HTTP like the real 100.100.100.200. */
export async function startFakeEcsMetadata(o: FakeEcsMetadataOptions): Promise<FakeEcsMetadata> {
  const sessionTokens = new Set<string>();
  const issued: IssuedCredentials[] = [];
  const prefix = '/latest/meta-data/ram/security-credentials/';

  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      async () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (req.method === 'PUT' && path === '/latest/api/token' && o.tokenEndpoint !== false) {
          const ttl = Number(req.headers['x-aliyun-ecs-metadata-token-ttl-seconds']);
          if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return void res.writeHead(400).end('bad ttl');
          const t = randomBytes(24).toString('base64url');
          sessionTokens.add(t);
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end(t);
        }
        if (req.method !== 'GET' || !path.startsWith(prefix))
          return void res.writeHead(404).end('404 - Not Found');
        const given = req.headers['x-aliyun-ecs-metadata-token'];
        const withSessionToken = typeof given === 'string' && sessionTokens.has(given);
        if (o.requireToken && !withSessionToken) return void res.writeHead(403).end('403 - Forbidden');
        const role = decodeURIComponent(path.slice(prefix.length));
        if (role === '')
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end(o.roles.join('\n'));
        if (!o.roles.includes(role)) return void res.writeHead(404).end('404 - Not Found');
        if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
        const creds: IssuedCredentials = {
          accessKeyId: `STS.${randomBytes(12).toString('hex')}`,
          accessKeySecret: randomBytes(24).toString('base64url'),
          securityToken: `CAIS${randomBytes(48).toString('base64url')}`,
          withSessionToken,
        };
        issued.push(creds);
        o.alidns.addKey(creds.accessKeyId, creds.accessKeySecret, creds.securityToken);
        const now = Date.now();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(
          JSON.stringify({
            AccessKeyId: creds.accessKeyId,
            AccessKeySecret: creds.accessKeySecret,
            Expiration: new Date(now + (o.lifetimeMs ?? 3_600_000)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            SecurityToken: creds.securityToken,
            LastUpdated: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            Code: 'Success',
          }),
        );
      },
      () => res.destroy(),
    );
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, issued, close: () => closeServer(server) };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Port 0: the kernel picks a free loopback port, so parallel test files never collide.
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
