import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeVultrOptions {
  readonly ca: TestCa;
  /** Domains in the account: "example.test". */
  readonly domains: readonly string[];
  /** API keys the fake accepts. */
  readonly apiKeys: readonly string[];
  /** Largest page served whatever per_page asks (Vultr: 500); small values exercise the cursor. */
  readonly maxPageSize?: number;
}

export interface FakeVultr {
  /** For VULTR_API_URL: https://127.0.0.1:<port>/v2 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** TXT values at a name, without the quotes Vultr keeps around TXT data. */
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domain: string;
  /** Relative to the domain, lower case; "" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly data: string;
  readonly priority: number;
  readonly ttl: number;
}

const TYPES = new Set(['A', 'AAAA', 'CNAME', 'NS', 'MX', 'SRV', 'TXT', 'CAA', 'SSHFP']);
/** Vultr's error body: {"error": "...", "status": n}. */
const fail = (status: number, error: string): FakeReply => ({ status, json: { error, status } });

/**
 * A fake of the Vultr API v2 DNS endpoints as Vultr documents them: Bearer API keys, domains addressed
 * by name, cursor pagination (`per_page` 1–500, `cursor`, `meta.links.next`), record fields name/type/
 * data/ttl/priority with name, type and data required, 201 with {record} on create, 204 on delete, and
 * {error, status} bodies. Duplicate records are accepted, as by the real API.
 */
export async function startFakeVultr(o: FakeVultrOptions): Promise<FakeVultr> {
  const domains = new Set(o.domains.map(nameKey));
  const records = new Map<string, StoredRecord>();
  let nextId = 1;
  const maxPageSize = o.maxPageSize ?? 500;

  function page(req: RecordedRequest, key: string, all: unknown[]): FakeReply {
    const per = Number(req.query.get('per_page') ?? 100);
    if (!Number.isInteger(per) || per < 1 || per > 500) return fail(400, 'Invalid per_page value.');
    const size = Math.min(per, maxPageSize);
    const cursor = req.query.get('cursor');
    let start = 0;
    if (cursor) {
      const decoded = /^next__(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!decoded) return fail(400, 'Invalid cursor.');
      start = Number(decoded[1]);
    }
    const end = start + size;
    const next = end < all.length ? Buffer.from(`next__${end}`).toString('base64') : '';
    const prev = start > 0 ? Buffer.from(`prev__${start}`).toString('base64') : '';
    return {
      status: 200,
      json: { [key]: all.slice(start, end), meta: { total: all.length, links: { next, prev } } },
    };
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !o.apiKeys.includes(m[1]!)) return fail(401, 'Invalid API token.');

    if (req.path === '/v2/domains' && req.method === 'GET') {
      return page(
        req,
        'domains',
        [...domains].map((domain) => ({
          domain,
          date_created: '2024-01-01T00:00:00+00:00',
          dns_sec: 'disabled',
        })),
      );
    }
    const parts = /^\/v2\/domains\/([^/]+)\/records(?:\/([^/]+))?$/.exec(req.path);
    if (!parts) return fail(404, 'Not found.');
    const domain = decodeURIComponent(parts[1]!).toLowerCase();
    if (!domains.has(domain)) return fail(404, 'Domain not found.');
    const id = parts[2] === undefined ? undefined : decodeURIComponent(parts[2]);

    if (req.method === 'GET' && id === undefined) {
      const all = [...records.values()].filter((r) => r.domain === domain).map(({ domain: _d, ...r }) => r);
      return page(req, 'records', all);
    }
    if (req.method === 'POST' && id === undefined) {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(400, 'Invalid JSON body.');
      const b = jsonBody(req);
      if (!b) return fail(400, 'Invalid JSON body.');
      if (typeof b.name !== 'string') return fail(400, 'name is required.');
      if (typeof b.type !== 'string' || !TYPES.has(b.type)) return fail(400, 'Invalid record type.');
      if (typeof b.data !== 'string' || b.data === '') return fail(400, 'data is required.');
      if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || (b.ttl as number) < 0))
        return fail(400, 'Invalid ttl.');
      if (b.priority !== undefined && !Number.isInteger(b.priority)) return fail(400, 'Invalid priority.');
      if (b.name.endsWith('.')) return fail(400, 'Invalid record name.');
      const stored: StoredRecord = {
        id: `a1b2c3d4-0000-4000-8000-${String(nextId++).padStart(12, '0')}`,
        domain,
        name: b.name.toLowerCase(),
        type: b.type,
        data: b.data,
        priority: (b.priority as number | undefined) ?? 0,
        ttl: (b.ttl as number | undefined) ?? 300,
      };
      records.set(stored.id, stored);
      const { domain: _d, ...shown } = stored;
      return { status: 201, json: { record: shown } };
    }
    if (req.method === 'DELETE' && id !== undefined) {
      const r = records.get(id);
      if (!r || r.domain !== domain) return fail(404, 'Record not found.');
      records.delete(id);
      return { status: 204 };
    }
    return fail(405, 'Method not allowed.');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => (r.name === '' ? r.domain : `${r.name}.${r.domain}`);
  return {
    apiUrl: `${server.origin}/v2`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.data.replace(/^"(.*)"$/, '$1')),
    failNext: server.failNext,
    close: server.close,
  };
}
