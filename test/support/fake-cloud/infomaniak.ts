import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeInfomaniakOptions {
  readonly ca: TestCa;
  /** DNS zones of the account: "example.test". */
  readonly zones: readonly string[];
  /** API tokens; `write: false` is a token without the dns:write scope. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
  /** Largest page the records list serves; small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeInfomaniak {
  /** For INFOMANIAK_ENDPOINT: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly zone: string;
  /** Relative to the zone, lower case; "." at the apex. */
  readonly source: string;
  readonly type: string;
  readonly target: string;
  readonly ttl: number;
}

const apiError = (status: number, code: string, description: string, extra: object = {}): FakeReply => ({
  status,
  json: { result: 'error', error: { code, description, ...extra } },
});
const validation = (attribute: string, description: string): FakeReply =>
  apiError(422, 'validation_failed', 'Validation failed', {
    errors: [{ code: 'attribute_invalid', description, context: { attribute } }],
  });
const notFound = (model: string) =>
  apiError(404, 'object_not_found', 'Object not found', { context: { model } });

/**
 * A fake of the Infomaniak API v2 DNS endpoints as Infomaniak documents them: Bearer tokens (dns:write
 * needed to change anything), GET /2/zones/{zone}/exists, records listed with filter[source] and
 * filter[types][] and paged (page, per_page; total and pages in the answer), created with POST (201,
 * source relative to the zone, "." at the apex) and deleted by id, and `{result, data}` /
 * `{result: "error", error: {code, description, errors}}` bodies.
 */
export async function startFakeInfomaniak(o: FakeInfomaniakOptions): Promise<FakeInfomaniak> {
  const zones = new Set(o.zones.map(nameKey));
  const records = new Map<number, StoredRecord>();
  let nextId = 30000;
  const maxPageSize = o.maxPageSize ?? 1000;
  const json = (r: StoredRecord) => ({
    id: r.id,
    source: r.source,
    source_idn: r.source === '.' ? r.zone : `${r.source}.${r.zone}`,
    type: r.type,
    ttl: r.ttl,
    target: r.target,
    updated_at: Math.floor(Date.now() / 1000),
  });

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? o.tokens[m[1]!] : undefined;
    if (!token) return apiError(401, 'not_authorized', 'Authorization required');

    const path = /^\/2\/zones\/([^/]+)\/(exists|records)(?:\/(\d+))?$/.exec(req.path);
    if (!path) return notFound('Route');
    const zone = decodeURIComponent(path[1]!).toLowerCase();
    if (req.method !== 'GET' && token.write === false)
      return apiError(403, 'forbidden', 'The token does not have the dns:write scope');
    if (!zones.has(zone)) return notFound('DelegatedSubDomain');

    if (path[2] === 'exists') {
      if (req.method !== 'GET' || path[3] !== undefined) return notFound('Route');
      return { status: 200, json: { result: 'success', data: true } };
    }
    if (req.method === 'GET' && path[3] === undefined) {
      const perPage = Number(req.query.get('per_page') ?? 15);
      const page = Number(req.query.get('page') ?? 1);
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000)
        return validation('per_page', 'per_page must be between 1 and 1000');
      if (!Number.isInteger(page) || page < 1) return validation('page', 'page must be at least 1');
      const source = req.query.get('filter[source]');
      const types = req.query.getAll('filter[types][]');
      const all = [...records.values()].filter(
        (r) =>
          r.zone === zone &&
          (source === null || r.source === source) &&
          (types.length === 0 || types.includes(r.type)),
      );
      const per = Math.min(perPage, maxPageSize);
      return {
        status: 200,
        json: {
          result: 'success',
          data: all.slice((page - 1) * per, page * per).map(json),
          total: all.length,
          page,
          pages: Math.max(1, Math.ceil(all.length / per)),
          items_per_page: per,
        },
      };
    }
    if (req.method === 'POST' && path[3] === undefined) {
      if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? '')))
        return validation('body', 'The body must be JSON');
      const b = jsonBody(req);
      if (!b) return validation('body', 'The body must be JSON');
      if (typeof b.source !== 'string' || b.source === '')
        return validation('source', 'The source attribute is required');
      if (b.source !== '.' && (b.source.endsWith('.') || b.source.endsWith(zone)))
        return validation('source', 'The source must be relative to the zone ("." for the zone itself)');
      if (b.type !== 'TXT') return validation('type', 'This fake stores TXT records only');
      if (typeof b.target !== 'string' || b.target === '')
        return validation('target', 'The target attribute is required');
      if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || (b.ttl as number) < 1))
        return validation('ttl', 'The ttl must be a positive integer');
      const stored: StoredRecord = {
        id: nextId++,
        zone,
        source: b.source.toLowerCase(),
        type: 'TXT',
        target: b.target,
        ttl: typeof b.ttl === 'number' ? b.ttl : 3600,
      };
      records.set(stored.id, stored);
      return { status: 201, json: { result: 'success', data: json(stored) } };
    }
    if (req.method === 'DELETE' && path[3] !== undefined) {
      const r = records.get(Number(path[3]));
      if (!r || r.zone !== zone) return notFound('DnsRecord');
      records.delete(r.id);
      return { status: 200, json: { result: 'success', data: true } };
    }
    return apiError(405, 'method_not_allowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter(
          (r) => r.type === 'TXT' && (r.source === '.' ? r.zone : `${r.source}.${r.zone}`) === nameKey(fqdn),
        )
        .map((r) => r.target),
    failNext: server.failNext,
    close: server.close,
  };
}
