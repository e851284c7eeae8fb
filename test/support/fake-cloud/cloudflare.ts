import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/** What one API token may do: see these zones (default: all) and, when `edit`, change their DNS records. */
export interface FakeCloudflareToken {
  readonly zones?: readonly string[];
  readonly edit?: boolean;
}

export interface FakeCloudflareOptions {
  readonly ca: TestCa;
  /** Zone names the account holds: "example.test". */
  readonly zones: readonly string[];
  /** Bearer tokens the API accepts (`Authorization: Bearer <token>`). */
  readonly tokens?: Readonly<Record<string, FakeCloudflareToken>>;
  /** The account's e-mail and Global API Key (`X-Auth-Email` + `X-Auth-Key`). */
  readonly globalKey?: { readonly email: string; readonly key: string };
  /** Largest page the records list serves (Cloudflare: 5000); small values exercise paging. */
  readonly maxPerPage?: number;
}

export interface FakeCloudflare {
  /** The API base URL, for CLOUDFLARE_BASE_URL: https://127.0.0.1:<port>/client/v4 */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** TXT values at an absolute name, unquoted as DNS would serve them. */
  values(fqdn: string): Promise<string[]>;
  /** Raw record content at a name, as the API stores it. */
  contents(fqdn: string): string[];
  /** Adds a record as if another client had created it (e.g. unquoted content). */
  addRecord(fqdn: string, content: string): void;
  /** 429 with Cloudflare's body and `Retry-After: <seconds>` for the next `times` requests. */
  rateLimitNext(retryAfterSeconds?: number, times?: number): void;
  /** A 5xx answer from Cloudflare's edge (an HTML page, not JSON) for the next `times` requests. */
  serverErrorNext(status?: number, times?: number): void;
  /** Any reply for the next request. */
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  removeZone(name: string): void;
  close(): Promise<void>;
}

interface Zone {
  readonly id: string;
  readonly name: string;
}
interface StoredRecord {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}
type Caller = { kind: 'token'; token: FakeCloudflareToken } | { kind: 'key' };

const PREFIX = '/client/v4';

/** A reply in Cloudflare's error envelope. */
export function cloudflareFailure(
  status: number,
  code: number,
  message: string,
  extra: object = {},
): FakeReply {
  return {
    status,
    json: { success: false, errors: [{ code, message, ...extra }], messages: [], result: null },
  };
}
function success(result: unknown, extra: object = {}): FakeReply {
  return { status: 200, json: { success: true, errors: [], messages: [], result, ...extra } };
}
const unquote = (c: string): string =>
  c.length >= 2 && c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1) : c;
const hexId = (): string => randomBytes(16).toString('hex');

/**
 * A fake of the Cloudflare API v4, only the parts the provider uses: GET /zones?name=, and list, create,
 * delete of a zone's dns_records. Authentication is checked as Cloudflare documents it, and errors come
 * in Cloudflare's envelope `{success: false, errors: [{code, message}]}` with its codes.
 */
export async function startFakeCloudflare(o: FakeCloudflareOptions): Promise<FakeCloudflare> {
  const zones = new Map<string, Zone>(o.zones.map((n) => [nameKey(n), { id: hexId(), name: nameKey(n) }]));
  const records = new Map<string, StoredRecord>();
  const maxPerPage = o.maxPerPage ?? 5000;

  const visible = (caller: Caller, zone: Zone): boolean =>
    caller.kind === 'key' ||
    caller.token.zones === undefined ||
    caller.token.zones.map(nameKey).includes(zone.name);

  function authenticate(req: RecordedRequest): Caller | FakeReply {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const m = /^Bearer ([^\s]+)$/.exec(authorization);
      if (!m) {
        return cloudflareFailure(400, 6003, 'Invalid request headers', {
          error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }],
        });
      }
      const token = o.tokens?.[m[1]!];
      return token ? { kind: 'token', token } : cloudflareFailure(401, 9109, 'Invalid access token');
    }
    const email = req.headers['x-auth-email'];
    const key = req.headers['x-auth-key'];
    if (email === undefined || key === undefined) {
      return cloudflareFailure(400, 6003, 'Invalid request headers', {
        error_chain: [{ code: 6103, message: 'Invalid format for X-Auth-Key header' }],
      });
    }
    if (o.globalKey && email === o.globalKey.email && key === o.globalKey.key) return { kind: 'key' };
    return cloudflareFailure(403, 9103, 'Unknown X-Auth-Key or X-Auth-Email');
  }

  function handle(req: RecordedRequest): FakeReply {
    if (!req.path.startsWith(`${PREFIX}/`)) return cloudflareFailure(404, 7000, 'No route for that URI');
    const caller = authenticate(req);
    if ('status' in caller) return caller;
    const parts = req.path.slice(PREFIX.length + 1).split('/');

    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'zones') {
      const name = req.query.get('name');
      const list = [...zones.values()].filter(
        (z) => visible(caller, z) && (name === null || z.name === nameKey(name)),
      );
      const result = list.map((z) => ({ id: z.id, name: z.name, status: 'active' }));
      return success(result, {
        result_info: {
          page: 1,
          per_page: 50,
          count: result.length,
          total_count: result.length,
          total_pages: 1,
        },
      });
    }

    if (parts[0] !== 'zones' || parts[2] !== 'dns_records' || parts.length > 4) {
      return cloudflareFailure(404, 7000, 'No route for that URI');
    }
    const zone = [...zones.values()].find((z) => z.id === parts[1]);
    if (!zone) {
      return cloudflareFailure(
        400,
        7003,
        `Could not route to ${req.path}, perhaps your object identifier is invalid?`,
      );
    }
    if (!visible(caller, zone)) return cloudflareFailure(403, 10000, 'Authentication error');
    const writing = req.method !== 'GET';
    if (writing && caller.kind === 'token' && caller.token.edit === false) {
      return cloudflareFailure(403, 10000, 'Authentication error');
    }

    if (req.method === 'GET' && parts.length === 3) {
      const type = req.query.get('type');
      const name = req.query.get('name');
      const all = [...records.values()].filter(
        (r) =>
          r.zoneId === zone.id &&
          (type === null || r.type === type) &&
          (name === null || r.name === nameKey(name)),
      );
      const perPage = Math.min(Number(req.query.get('per_page') ?? 100), maxPerPage);
      const page = Number(req.query.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      return success(slice.map(view(zone)), {
        result_info: {
          page,
          per_page: perPage,
          count: slice.length,
          total_count: all.length,
          total_pages: Math.max(1, Math.ceil(all.length / perPage)),
        },
      });
    }

    if (req.method === 'POST' && parts.length === 3) {
      const b = jsonBody(req);
      if (b?.type !== 'TXT' || typeof b.name !== 'string' || typeof b.content !== 'string') {
        return cloudflareFailure(400, 9005, 'Content for TXT record is invalid.');
      }
      const ttl = typeof b.ttl === 'number' ? b.ttl : 1;
      if (ttl !== 1 && (ttl < 60 || ttl > 86400)) {
        return cloudflareFailure(
          400,
          9021,
          'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.',
        );
      }
      // Cloudflare takes a name relative to the zone or fully qualified.
      const raw = nameKey(b.name);
      const name = raw === zone.name || raw.endsWith(`.${zone.name}`) ? raw : `${raw}.${zone.name}`;
      const same = [...records.values()].some(
        (r) =>
          r.zoneId === zone.id &&
          r.name === name &&
          r.type === 'TXT' &&
          unquote(r.content) === unquote(b.content as string),
      );
      if (same) return cloudflareFailure(400, 81058, 'An identical record already exists.');
      const stored: StoredRecord = {
        id: hexId(),
        zoneId: zone.id,
        name,
        type: 'TXT',
        content: b.content,
        ttl,
      };
      records.set(stored.id, stored);
      return success(view(zone)(stored));
    }

    if (req.method === 'DELETE' && parts.length === 4) {
      const r = records.get(parts[3]!);
      if (!r || r.zoneId !== zone.id) return cloudflareFailure(404, 81044, 'Record does not exist.');
      records.delete(r.id);
      return success({ id: r.id });
    }
    return cloudflareFailure(405, 10405, 'Method not allowed for this URI');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const byName = (fqdn: string): StoredRecord[] =>
    [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn));

  return {
    baseUrl: `${server.origin}${PREFIX}`,
    requests: server.requests,
    values: async (fqdn) => byName(fqdn).map((r) => unquote(r.content)),
    contents: (fqdn) => byName(fqdn).map((r) => r.content),
    addRecord(fqdn, content) {
      const name = nameKey(fqdn);
      const zone = [...zones.values()].find((z) => name === z.name || name.endsWith(`.${z.name}`));
      if (!zone) throw new Error(`fake cloudflare: no zone holds ${fqdn}`);
      const stored: StoredRecord = { id: hexId(), zoneId: zone.id, name, type: 'TXT', content, ttl: 120 };
      records.set(stored.id, stored);
    },
    rateLimitNext(retryAfterSeconds = 30, times = 1) {
      server.failNext(
        {
          ...cloudflareFailure(429, 971, 'Please wait and consider throttling your request speed'),
          headers: { 'retry-after': String(retryAfterSeconds) },
        },
        times,
      );
    },
    serverErrorNext(status = 502, times = 1) {
      server.failNext(
        {
          status,
          text: `<html><head><title>${status} Bad Gateway</title></head><body>cloudflare</body></html>`,
        },
        times,
      );
    },
    failNext: server.failNext,
    removeZone(name) {
      const zone = zones.get(nameKey(name));
      if (!zone) return;
      zones.delete(zone.name);
      for (const r of records.values()) if (r.zoneId === zone.id) records.delete(r.id);
    },
    close: server.close,
  };
}

function view(zone: Zone) {
  return (r: StoredRecord) => ({
    id: r.id,
    zone_id: zone.id,
    zone_name: zone.name,
    name: r.name,
    type: r.type,
    content: r.content,
    proxiable: false,
    proxied: false,
    ttl: r.ttl,
    created_on: '2025-01-01T00:00:00Z',
    modified_on: '2025-01-01T00:00:00Z',
  });
}
