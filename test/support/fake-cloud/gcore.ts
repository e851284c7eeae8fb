import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeGcoreOptions {
  readonly ca: TestCa;
  readonly zones: readonly string[];
  /** Permanent API tokens; `write: false` may only read. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
}

export interface FakeGcore {
  /** For GCORE_API_URL: https://127.0.0.1:<port>/dns */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRRset {
  ttl: number;
  records: { content: string[]; enabled: boolean }[];
}

const error = (status: number, message: string): FakeReply => ({ status, json: { error: message } });

/**
 * A fake of the Gcore DNS API v2 RRset endpoints: `Authorization: APIKey <token>`, zones that must
 * exist, one RRset per name and type (POST creates and refuses an existing one, PUT replaces and needs
 * one, DELETE removes), names inside their zone, bodies `{ttl, resource_records: [{content: [..]}]}`,
 * and `{"error": "..."}` bodies.
 */
export async function startFakeGcore(o: FakeGcoreOptions): Promise<FakeGcore> {
  const zones = new Set(o.zones.map(nameKey));
  /** "zone name TYPE" → RRset */
  const rrsets = new Map<string, StoredRRset>();

  function parseRRset(req: RecordedRequest): StoredRRset | FakeReply {
    const b = jsonBody(req);
    if (!b) return error(400, 'invalid JSON body');
    const rrs = b.resource_records;
    if (typeof b.ttl !== 'number' || !Number.isInteger(b.ttl) || b.ttl < 0) return error(400, 'ttl: invalid');
    if (!Array.isArray(rrs) || rrs.length === 0) return error(400, 'resource_records: required');
    const records: StoredRRset['records'] = [];
    for (const r of rrs as unknown[]) {
      const content = (r as { content?: unknown }).content;
      if (
        !Array.isArray(content) ||
        content.length !== 1 ||
        typeof content[0] !== 'string' ||
        content[0] === ''
      )
        return error(400, 'resource_records.content: one non-empty string for TXT');
      records.push({ content: [content[0]], enabled: (r as { enabled?: unknown }).enabled !== false });
    }
    return { ttl: b.ttl, records };
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^APIKey (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? o.tokens[m[1]!] : undefined;
    if (!token) return error(401, 'invalid API key');
    if (req.method !== 'GET' && token.write === false) return error(403, 'permission denied');

    const zoneMatch = /^\/dns\/v2\/zones\/([^/]+)$/.exec(req.path);
    if (zoneMatch) {
      if (req.method !== 'GET') return error(405, 'method not allowed');
      const zone = nameKey(decodeURIComponent(zoneMatch[1]!));
      return zones.has(zone) ? { status: 200, json: { name: zone, id: 1 } } : error(404, 'zone is not found');
    }
    const parts = /^\/dns\/v2\/zones\/([^/]+)\/([^/]+)\/([A-Z]+)$/.exec(req.path);
    if (!parts) return error(404, 'not found');
    const zone = nameKey(decodeURIComponent(parts[1]!));
    const name = nameKey(decodeURIComponent(parts[2]!));
    if (!zones.has(zone)) return error(404, 'zone is not found');
    if (name !== zone && !name.endsWith(`.${zone}`)) return error(400, 'rrset name is outside the zone');
    const key = `${zone} ${name} ${parts[3]}`;
    const existing = rrsets.get(key);
    const view = (r: StoredRRset) => ({
      name,
      type: parts[3],
      ttl: r.ttl,
      resource_records: r.records.map((x, i) => ({ id: i + 1, ...x })),
    });

    switch (req.method) {
      case 'GET':
        return existing ? { status: 200, json: view(existing) } : error(404, 'rrset is not found');
      case 'POST': {
        if (existing) return error(409, 'rrset already exists');
        const r = parseRRset(req);
        if ('status' in r) return r;
        rrsets.set(key, r);
        return { status: 200, json: view(r) };
      }
      case 'PUT': {
        if (!existing) return error(404, 'rrset is not found');
        const r = parseRRset(req);
        if ('status' in r) return r;
        rrsets.set(key, r);
        return { status: 200, json: view(r) };
      }
      case 'DELETE':
        if (!existing) return error(404, 'rrset is not found');
        rrsets.delete(key);
        return { status: 200, json: {} };
      default:
        return error(405, 'method not allowed');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/dns`,
    requests: server.requests,
    values: async (fqdn) => {
      const name = nameKey(fqdn);
      for (const [key, r] of rrsets) {
        const [, n, type] = key.split(' ');
        if (n === name && type === 'TXT') return r.records.map((x) => x.content[0]!);
      }
      return [];
    },
    failNext: server.failNext,
    close: server.close,
  };
}
