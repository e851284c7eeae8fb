import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeScalewayOptions {
  readonly ca: TestCa;
  /** DNS zones of the organization: "example.test". */
  readonly zones: readonly string[];
  /** Secret keys of API keys; `write: false` is a key whose policy only allows reading DNS. */
  readonly keys: Readonly<Record<string, { readonly write?: boolean }>>;
  /** Largest page the records list serves; small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeScaleway {
  /** For SCW_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** The TXT values at an absolute name, unquoted. */
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly zone: string;
  readonly name: string;
  readonly type: string;
  readonly data: string;
  readonly ttl: number;
  readonly priority: number;
  readonly comment: string | null;
}

const invalid = (argument: string, help: string): FakeReply => ({
  status: 400,
  json: {
    type: 'invalid_arguments',
    message: 'invalid argument(s)',
    details: [{ argument_name: argument, reason: 'constraint', help_message: help }],
  },
});
const notFound = (resource: string, id: string): FakeReply => ({
  status: 404,
  json: { type: 'not_found', message: 'resource is not found', resource, resource_id: id },
});

/**
 * A fake of Scaleway's Domains and DNS API v2beta1 records endpoints as Scaleway documents them: the
 * X-Auth-Token header, `{type, message, …}` error bodies (denied_authentication, permissions_denied,
 * not_found, invalid_arguments), GET …/dns-zones/{dns_zone}/records filtered by name and type and paged
 * (page, page_size, total_count), PATCH with `changes` of exactly one of add/set/delete/clear, relative
 * record names ("" at the apex), TTLs of at least 60 s, and TXT data kept quoted.
 */
export async function startFakeScaleway(o: FakeScalewayOptions): Promise<FakeScaleway> {
  const zones = new Set(o.zones.map(nameKey));
  const records = new Map<string, StoredRecord>();
  let next = 1;
  const maxPageSize = o.maxPageSize ?? 1000;
  const json = (r: StoredRecord) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    data: r.data,
    ttl: r.ttl,
    priority: r.priority,
    comment: r.comment,
    updated_at: new Date().toISOString(),
  });

  function change(
    zone: string,
    c: Record<string, unknown>,
    i: number,
    changed: StoredRecord[],
  ): FakeReply | null {
    const kinds = ['add', 'set', 'delete', 'clear'].filter((k) => c[k] !== undefined);
    if (kinds.length !== 1)
      return invalid(`changes[${i}]`, 'precisely one of add, set, delete, clear must be set');
    if (c.add !== undefined) {
      const list = (c.add as { records?: unknown }).records;
      if (!Array.isArray(list) || list.length === 0) return invalid(`changes[${i}].add.records`, 'required');
      for (const [j, raw] of list.entries()) {
        const r = raw as Record<string, unknown>;
        const at = `changes[${i}].add.records[${j}]`;
        if (typeof r.name !== 'string' || r.name.endsWith('.') || r.name !== r.name.toLowerCase())
          return invalid(`${at}.name`, 'must be a lower-case name relative to the zone');
        if (r.type !== 'TXT') return invalid(`${at}.type`, 'this fake only stores TXT records');
        if (typeof r.data !== 'string' || r.data === '') return invalid(`${at}.data`, 'required');
        if (typeof r.ttl !== 'number' || !Number.isInteger(r.ttl) || r.ttl < 60)
          return invalid(`${at}.ttl`, 'must be at least 60');
        const data = /^".*"$/.test(r.data) ? r.data : `"${r.data}"`;
        const stored: StoredRecord = {
          id: `0000000${next++}-aaaa-bbbb-cccc-dddddddddddd`.slice(-36),
          zone,
          name: r.name,
          type: 'TXT',
          data,
          ttl: r.ttl,
          priority: typeof r.priority === 'number' ? r.priority : 0,
          comment: typeof r.comment === 'string' ? r.comment : null,
        };
        records.set(stored.id, stored);
        changed.push(stored);
      }
      return null;
    }
    if (c.delete !== undefined) {
      const d = c.delete as { id?: unknown; id_fields?: { name?: unknown; type?: unknown; data?: unknown } };
      if ((d.id === undefined) === (d.id_fields === undefined))
        return invalid(`changes[${i}].delete`, 'precisely one of id, id_fields must be set');
      const victims =
        d.id !== undefined
          ? [...records.values()].filter((r) => r.zone === zone && r.id === d.id)
          : [...records.values()].filter(
              (r) =>
                r.zone === zone &&
                r.name === d.id_fields?.name &&
                r.type === d.id_fields?.type &&
                (d.id_fields?.data === undefined || d.id_fields.data === null || r.data === d.id_fields.data),
            );
      if (victims.length === 0) return notFound('dns_zone_record', String(d.id ?? 'id_fields'));
      for (const v of victims) records.delete(v.id);
      return null;
    }
    return invalid(`changes[${i}]`, 'this fake only supports add and delete');
  }

  function handle(req: RecordedRequest): FakeReply {
    const token = req.headers['x-auth-token'];
    const key = typeof token === 'string' ? o.keys[token] : undefined;
    if (!key)
      return {
        status: 401,
        json: {
          type: 'denied_authentication',
          method: 'api_key',
          reason: token ? 'invalid_argument' : 'not_found',
          message: 'authentication is denied',
        },
      };
    const m = /^\/domain\/v2beta1\/dns-zones\/([^/]+)\/records$/.exec(req.path);
    if (!m) return notFound('path', req.path);
    const zone = decodeURIComponent(m[1]!).toLowerCase();
    if (req.method === 'PATCH' && key.write === false)
      return {
        status: 403,
        json: {
          type: 'permissions_denied',
          message: 'insufficient permissions',
          details: [{ resource: 'dns_zone', action: 'write' }],
        },
      };
    if (!zones.has(zone)) return notFound('dns_zone', zone);

    if (req.method === 'GET') {
      const page = Number(req.query.get('page') ?? 1);
      const size = Number(req.query.get('page_size') ?? 20);
      if (!Number.isInteger(page) || page < 1) return invalid('page', 'must be at least 1');
      if (!Number.isInteger(size) || size < 1 || size > 1000) return invalid('page_size', 'must be 1-1000');
      const name = req.query.get('name');
      const type = req.query.get('type');
      const all = [...records.values()].filter(
        (r) => r.zone === zone && (name === null || r.name === name) && (type === null || r.type === type),
      );
      const per = Math.min(size, maxPageSize);
      return {
        status: 200,
        json: { total_count: all.length, records: all.slice((page - 1) * per, page * per).map(json) },
      };
    }
    if (req.method === 'PATCH') {
      if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? '')))
        return invalid('body', 'must be JSON');
      const b = jsonBody(req);
      if (!b || !Array.isArray(b.changes) || b.changes.length === 0) return invalid('changes', 'required');
      if (b.disallow_new_zone_creation !== undefined && typeof b.disallow_new_zone_creation !== 'boolean')
        return invalid('disallow_new_zone_creation', 'must be a boolean');
      const changed: StoredRecord[] = [];
      for (const [i, c] of (b.changes as Record<string, unknown>[]).entries()) {
        const refused = change(zone, c ?? {}, i, changed);
        if (refused) return refused;
      }
      const all =
        b.return_all_records === true ? [...records.values()].filter((r) => r.zone === zone) : changed;
      return { status: 200, json: { records: all.map(json) } };
    }
    return { status: 405, json: { type: 'invalid_request', message: 'method not allowed' } };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) => {
      const f = nameKey(fqdn);
      return [...records.values()]
        .filter((r) => r.type === 'TXT' && (r.name === '' ? r.zone : `${r.name}.${r.zone}`) === f)
        .map((r) => r.data.replace(/^"|"$/g, ''));
    },
    failNext: server.failNext,
    close: server.close,
  };
}
