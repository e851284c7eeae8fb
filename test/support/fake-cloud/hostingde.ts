import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeHostingdeOptions {
  readonly ca: TestCa;
  /** Zones by name; `status` other than "active" (e.g. "blocked") is refused by the provider. */
  readonly zones: readonly (string | { readonly name: string; readonly status: string })[];
  readonly keys: readonly string[];
  /** zoneUpdate answers "pending" instead of "success" (the change is applied all the same). */
  readonly pending?: boolean;
  /** Largest page recordsFind serves. */
  readonly maxPageSize?: number;
}

export interface FakeHostingde {
  /** For HOSTINGDE_API_URL: https://127.0.0.1:<port>/api/dns/v1/json */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface ZoneConfig {
  readonly id: string;
  readonly name: string;
  readonly nameUnicode: string;
  readonly status: string;
  readonly type: string;
}
interface StoredRecord {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

let transactions = 0;
const meta = () => ({ clientTransactionId: '', serverTransactionId: `srv-${++transactions}` });
const ok = (response: unknown, status = 'success'): FakeReply => ({
  status: 200,
  json: { errors: [], metadata: meta(), warnings: [], status, response },
});
const failure = (code: number, text: string, contextPath = ''): FakeReply => ({
  status: 200,
  json: {
    errors: [{ code, contextObject: '', contextPath, details: [], text, value: '' }],
    metadata: meta(),
    warnings: [],
    status: 'error',
  },
});

/**
 * A fake of the hosting.de JSON API (DNS service, v1): POST only, Accept and Content-Type JSON, the
 * authToken in every body, answers `{errors, metadata, warnings, status, response}` with HTTP 200 also for
 * errors. zoneConfigsFind filters by zoneName; recordsFind takes an AND of zoneConfigId, recordName and
 * recordType sub-filters with limit/page; zoneUpdate needs the zone's config and applies recordsToAdd (TXT
 * content stored in quotes, names inside the zone) and recordsToDelete (matched by name, type, content).
 */
export async function startFakeHostingde(o: FakeHostingdeOptions): Promise<FakeHostingde> {
  const zones = new Map<string, ZoneConfig>();
  o.zones.forEach((z, i) => {
    const name = nameKey(typeof z === 'string' ? z : z.name);
    const status = typeof z === 'string' ? 'active' : z.status;
    zones.set(name, { id: `zc${1000 + i}`, name, nameUnicode: name, status, type: 'NATIVE' });
  });
  const records = new Map<string, StoredRecord>();
  let nextId = 1;

  function page<T>(all: T[], b: Record<string, unknown>) {
    const limit = typeof b.limit === 'number' ? Math.min(b.limit, o.maxPageSize ?? 1000) : 25;
    const n = typeof b.page === 'number' ? b.page : 1;
    const totalPages = Math.max(1, Math.ceil(all.length / limit));
    return {
      data: all.slice((n - 1) * limit, n * limit),
      limit,
      page: n,
      totalEntries: all.length,
      totalPages,
      type: 'FindResult',
    };
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return { status: 405, text: 'only POST and OPTIONS' };
    if (
      !String(req.headers['content-type'] ?? '').startsWith('application/json') ||
      !String(req.headers.accept ?? '').includes('application/json')
    )
      return { status: 415, text: 'Accept and Content-Type must name the document format' };
    const m = /^\/api\/dns\/v1\/json\/(\w+)$/.exec(req.path);
    if (!m) return { status: 404, text: 'unknown method' };
    const b = jsonBody(req);
    if (!b) return failure(10001, 'Request body is not valid JSON');
    if (typeof b.authToken !== 'string' || !o.keys.includes(b.authToken))
      return failure(10100, 'Authentication failed', 'authToken');

    switch (m[1]) {
      case 'zoneConfigsFind': {
        const f = b.filter as { field?: unknown; value?: unknown } | undefined;
        if (f?.field !== 'zoneName' || typeof f.value !== 'string')
          return failure(10002, 'Unsupported filter', 'filter');
        const zone = zones.get(nameKey(f.value));
        return ok(page(zone ? [zone] : [], b));
      }
      case 'recordsFind': {
        const f = b.filter as
          | { subFilterConnective?: unknown; subFilter?: { field?: unknown; value?: unknown }[] }
          | undefined;
        if (f?.subFilterConnective !== 'AND' || !Array.isArray(f.subFilter))
          return failure(10002, 'Unsupported filter', 'filter');
        const wanted = new Map(f.subFilter.map((s) => [String(s.field), String(s.value)]));
        if ([...wanted.keys()].some((k) => !['zoneConfigId', 'recordName', 'recordType'].includes(k)))
          return failure(10002, 'Unsupported filter field', 'filter.subFilter');
        const all = [...records.values()].filter(
          (r) =>
            (!wanted.has('zoneConfigId') || r.zoneId === wanted.get('zoneConfigId')) &&
            (!wanted.has('recordName') || r.name === wanted.get('recordName')) &&
            (!wanted.has('recordType') || r.type === wanted.get('recordType')),
        );
        return ok(page(all, b));
      }
      case 'zoneUpdate': {
        const zc = b.zoneConfig as { id?: unknown; name?: unknown } | undefined;
        const zone = [...zones.values()].find((z) => z.id === zc?.id && z.name === zc?.name);
        if (!zone) return failure(11001, 'Zone config not found', 'zoneConfig');
        const add = Array.isArray(b.recordsToAdd) ? (b.recordsToAdd as Record<string, unknown>[]) : [];
        const del = Array.isArray(b.recordsToDelete) ? (b.recordsToDelete as Record<string, unknown>[]) : [];
        for (const r of add) {
          const name = typeof r.name === 'string' ? r.name.toLowerCase() : '';
          if (name !== zone.name && !name.endsWith(`.${zone.name}`))
            return failure(11002, 'Record name is not in the zone', 'recordsToAdd.name');
          if (r.type !== 'TXT' || typeof r.content !== 'string' || r.content === '')
            return failure(11003, 'Invalid record', 'recordsToAdd');
          if (typeof r.ttl !== 'number' || r.ttl < 60)
            return failure(11004, 'TTL must be at least 60', 'recordsToAdd.ttl');
        }
        const gone: string[] = [];
        for (const r of del) {
          const match = [...records.values()].find(
            (x) =>
              x.zoneId === zone.id &&
              x.name === String(r.name).toLowerCase() &&
              x.type === r.type &&
              x.content === r.content,
          );
          if (!match) return failure(11005, 'Record to delete not found', 'recordsToDelete');
          gone.push(match.id);
        }
        for (const id of gone) records.delete(id);
        for (const r of add) {
          const content = (r.content as string).startsWith('"')
            ? (r.content as string)
            : `"${r.content as string}"`;
          const id = `rec${nextId++}`;
          records.set(id, {
            id,
            zoneId: zone.id,
            name: (r.name as string).toLowerCase(),
            type: 'TXT',
            content,
            ttl: r.ttl as number,
          });
        }
        return ok(
          { zoneConfig: zone, records: [...records.values()].filter((x) => x.zoneId === zone.id) },
          o.pending ? 'pending' : 'success',
        );
      }
      default:
        return { status: 404, text: 'unknown method' };
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/api/dns/v1/json`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn))
        .map((r) => r.content.slice(1, -1)),
    failNext: server.failNext,
    close: server.close,
  };
}
