import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDigitalOceanOptions {
  readonly ca: TestCa;
  /** Domains (zones) in the account: "example.test". */
  readonly domains: readonly string[];
  /** Personal access tokens; `write: false` is a read-only token. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
  /** Largest page the records list serves (DigitalOcean: 200); small values exercise paging. */
  readonly maxPerPage?: number;
}

export interface FakeDigitalOcean {
  /** For DO_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** 429 `too_many_requests` with Retry-After (burst limit) or only RateLimit-Reset (hourly limit). */
  rateLimitNext(how: { retryAfterSeconds: number } | { resetAt: Date }, times?: number): void;
  /** 500 `server_error` for the next `times` requests. */
  serverErrorNext(times?: number): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domain: string;
  /** Absolute, lower case, no trailing dot. */
  readonly fqdn: string;
  readonly type: string;
  readonly data: string;
  readonly ttl: number;
}

const err = (status: number, id: string, message: string): FakeReply => ({ status, json: { id, message } });
const NOT_FOUND = err(404, 'not_found', 'The resource you were accessing could not be found.');

/**
 * A fake of the DigitalOcean API v2 domain records endpoints: list (filter by type and fully qualified
 * name, paged), create, delete. Bearer tokens are checked as DigitalOcean documents, and errors come as
 * its `{id, message}` bodies. Like the real API it accepts duplicate records, so the provider must look
 * before it writes.
 */
export async function startFakeDigitalOcean(o: FakeDigitalOceanOptions): Promise<FakeDigitalOcean> {
  const domains = new Set(o.domains.map(nameKey));
  const records = new Map<number, StoredRecord>();
  let nextId = 1000;
  const maxPerPage = o.maxPerPage ?? 200;

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? o.tokens[m[1]!] : undefined;
    if (!token) return err(401, 'Unauthorized', 'Unable to authenticate you');

    const parts = /^\/v2\/domains\/([^/]+)\/records(?:\/(\d+))?$/.exec(req.path);
    if (!parts) return NOT_FOUND;
    const domain = decodeURIComponent(parts[1]!).toLowerCase();
    if (!domains.has(domain)) return NOT_FOUND;
    if (req.method !== 'GET' && token.write === false) {
      return err(403, 'Forbidden', 'You are not authorized to perform this operation');
    }

    if (req.method === 'GET' && parts[2] === undefined) {
      const type = req.query.get('type');
      const name = req.query.get('name');
      const all = [...records.values()].filter(
        (r) =>
          r.domain === domain &&
          (type === null || r.type === type) &&
          (name === null || r.fqdn === nameKey(name)),
      );
      const perPage = Math.min(Number(req.query.get('per_page') ?? 20), maxPerPage);
      const page = Number(req.query.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      return {
        status: 200,
        json: { domain_records: slice.map(view), links: {}, meta: { total: all.length } },
      };
    }

    if (req.method === 'POST' && parts[2] === undefined) {
      const b = jsonBody(req);
      if (b?.type !== 'TXT' || typeof b.name !== 'string' || typeof b.data !== 'string' || b.data === '') {
        return err(422, 'unprocessable_entity', 'Data needs to be a valid TXT record');
      }
      const ttl = typeof b.ttl === 'number' ? b.ttl : 1800;
      if (ttl < 30) return err(422, 'unprocessable_entity', 'Ttl must be at least 30.');
      // Names are relative to the domain ("@" is the apex); a trailing dot makes one absolute.
      const fqdn =
        b.name === '@' ? domain : b.name.endsWith('.') ? nameKey(b.name) : `${nameKey(b.name)}.${domain}`;
      if (fqdn !== domain && !fqdn.endsWith(`.${domain}`)) {
        return err(422, 'unprocessable_entity', 'Name is not within the domain');
      }
      const stored: StoredRecord = { id: nextId++, domain, fqdn, type: 'TXT', data: b.data, ttl };
      records.set(stored.id, stored);
      return { status: 201, json: { domain_record: view(stored) } };
    }

    if (req.method === 'DELETE' && parts[2] !== undefined) {
      const r = records.get(Number(parts[2]));
      if (!r || r.domain !== domain) return NOT_FOUND;
      records.delete(r.id);
      return { status: 204 };
    }
    return err(405, 'method_not_allowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.fqdn === nameKey(fqdn)).map((r) => r.data),
    rateLimitNext(how, times = 1) {
      const headers: Record<string, string> = { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0' };
      if ('retryAfterSeconds' in how) {
        headers['retry-after'] = String(how.retryAfterSeconds);
        headers['ratelimit-reset'] = String(Math.floor(Date.now() / 1000) + how.retryAfterSeconds);
      } else {
        headers['ratelimit-reset'] = String(Math.floor(how.resetAt.getTime() / 1000));
      }
      server.failNext({ ...err(429, 'too_many_requests', 'API Rate limit exceeded.'), headers }, times);
    },
    serverErrorNext(times = 1) {
      server.failNext(err(500, 'server_error', 'Unexpected server-side error'), times);
    },
    failNext: server.failNext,
    close: server.close,
  };
}

/** DigitalOcean returns names relative to the domain. */
function view(r: StoredRecord) {
  const name = r.fqdn === r.domain ? '@' : r.fqdn.slice(0, -(r.domain.length + 1));
  return {
    id: r.id,
    type: r.type,
    name,
    data: r.data,
    priority: null,
    port: null,
    ttl: r.ttl,
    weight: null,
    flags: null,
    tag: null,
  };
}
