import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeLinodeOptions {
  readonly ca: TestCa;
  /** Domains (zones) in the account: "example.test". */
  readonly domains: readonly string[];
  /** Personal access tokens; `write: false` is a read-only token. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
  /** Largest page the records list serves (Linode: 500); small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeLinode {
  /** For LINODE_API_URL: https://127.0.0.1:<port>/v4 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domainId: number;
  /** Relative to the domain, lower case; "" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly target: string;
  readonly ttl_sec: number;
}

const errors = (status: number, reason: string, field?: string): FakeReply => ({
  status,
  json: { errors: [{ reason, ...(field ? { field } : {}) }] },
});
const NOT_FOUND = errors(404, 'Not found');

/**
 * A fake of the Linode API v4 Domains endpoints as Linode documents them: Bearer tokens, the X-Filter
 * header on the domain list, pages (`page`, `page_size` 25–500, `pages`), `{errors: [{reason, field}]}`
 * bodies, and TTLs rounded to Linode's allowed values. Duplicate records are accepted, as by the real API.
 */
export async function startFakeLinode(o: FakeLinodeOptions): Promise<FakeLinode> {
  const domains = new Map(o.domains.map((d, i) => [100 + i, nameKey(d)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 5000;
  const maxPageSize = o.maxPageSize ?? 500;

  function page<T>(req: RecordedRequest, all: T[]): FakeReply {
    const size = Number(req.query.get('page_size') ?? 100);
    if (!Number.isInteger(size) || size < 25 || size > 500) return errors(400, 'Must be 25-500', 'page_size');
    const per = Math.min(size, maxPageSize);
    const n = Number(req.query.get('page') ?? 1);
    const pages = Math.max(1, Math.ceil(all.length / per));
    return {
      status: 200,
      json: { data: all.slice((n - 1) * per, n * per), page: n, pages, results: all.length },
    };
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? o.tokens[m[1]!] : undefined;
    if (!token) return errors(401, 'Invalid Token');
    if (req.method !== 'GET' && token.write === false)
      return errors(401, 'Your OAuth token is not authorized to use this endpoint.');

    if (req.path === '/v4/domains' && req.method === 'GET') {
      let filter: { domain?: string } = {};
      try {
        filter = JSON.parse(String(req.headers['x-filter'] ?? '{}')) as { domain?: string };
      } catch {
        return errors(400, 'Cannot parse X-Filter');
      }
      const all = [...domains]
        .filter(([, d]) => filter.domain === undefined || d === nameKey(filter.domain))
        .map(([id, domain]) => ({ id, domain, type: 'master', status: 'active' }));
      return page(req, all);
    }
    const parts = /^\/v4\/domains\/(\d+)\/records(?:\/(\d+))?$/.exec(req.path);
    if (!parts) return NOT_FOUND;
    const domainId = Number(parts[1]);
    if (!domains.has(domainId)) return NOT_FOUND;

    if (req.method === 'GET' && parts[2] === undefined) {
      return page(
        req,
        [...records.values()].filter((r) => r.domainId === domainId),
      );
    }
    if (req.method === 'POST' && parts[2] === undefined) {
      const b = jsonBody(req);
      if (b?.type !== 'TXT') return errors(400, 'type is required', 'type');
      if (typeof b.target !== 'string' || b.target === '') return errors(400, 'target is required', 'target');
      if (typeof b.name !== 'string' || b.name.endsWith('.')) return errors(400, 'Invalid name', 'name');
      const ttl = typeof b.ttl_sec === 'number' ? Math.max(300, b.ttl_sec) : 0;
      const stored: StoredRecord = {
        id: nextId++,
        domainId,
        name: b.name.toLowerCase(),
        type: 'TXT',
        target: b.target,
        ttl_sec: ttl,
      };
      records.set(stored.id, stored);
      return { status: 200, json: stored };
    }
    if (req.method === 'DELETE' && parts[2] !== undefined) {
      const r = records.get(Number(parts[2]));
      if (!r || r.domainId !== domainId) return NOT_FOUND;
      records.delete(r.id);
      return { status: 200, json: {} };
    }
    return errors(405, 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => {
    const domain = domains.get(r.domainId)!;
    return r.name === '' ? domain : `${r.name}.${domain}`;
  };
  return {
    apiUrl: `${server.origin}/v4`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.target),
    failNext: server.failNext,
    close: server.close,
  };
}
