import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeSelectelOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  readonly tokens: readonly string[];
}

export interface FakeSelectel {
  /** For SELECTEL_API_URL: https://127.0.0.1:<port>/domains/v1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domainId: number;
  /** Absolute, no trailing dot, lower case. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

const error = (code: number, message: string, field?: string): FakeReply => ({
  status: code,
  json: { error: message, code, ...(field ? { field } : {}) },
});

/**
 * A fake of the Selectel DNS API v1 (domains/v1, legacy): the X-Token header, a domain read by name or
 * id, records listed as an array, created with an absolute name inside the domain and a TTL of at least
 * 60 (an identical record is a conflict), deleted by id with 204, and `{error, code, field}` bodies.
 */
export async function startFakeSelectel(o: FakeSelectelOptions): Promise<FakeSelectel> {
  const domains = new Map(o.domains.map((d, i) => [300 + i, nameKey(d)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 7000;

  function domainOf(ref: string): [number, string] | undefined {
    for (const [id, name] of domains)
      if (String(id) === ref || name === nameKey(decodeURIComponent(ref))) return [id, name];
    return undefined;
  }

  function handle(req: RecordedRequest): FakeReply {
    if (!o.tokens.includes(String(req.headers['x-token'] ?? '')))
      return error(401, 'Unauthorized: invalid token');
    const one = /^\/domains\/v1\/([^/]+)$/.exec(req.path);
    if (one && req.method === 'GET') {
      const d = domainOf(one[1]!);
      return d
        ? { status: 200, json: { id: d[0], name: d[1], user_id: 1, tags: [] } }
        : error(404, 'domain not found');
    }
    const parts = /^\/domains\/v1\/(\d+)\/records(?:\/(\d+)?)?$/.exec(req.path);
    if (!parts) return error(404, 'not found');
    const domainId = Number(parts[1]);
    const domain = domains.get(domainId);
    if (!domain) return error(404, 'domain not found');
    const recordId = parts[2];

    if (req.method === 'GET' && recordId === undefined) {
      return {
        status: 200,
        json: [...records.values()].filter((r) => r.domainId === domainId).map(({ domainId: _, ...r }) => r),
      };
    }
    if (req.method === 'POST' && recordId === undefined) {
      const b = jsonBody(req);
      if (!b) return error(400, 'invalid JSON');
      if (b.type !== 'TXT') return error(400, 'unsupported type', 'type');
      if (typeof b.name !== 'string') return error(422, 'name is required', 'name');
      const name = nameKey(b.name);
      if (name !== domain && !name.endsWith(`.${domain}`))
        return error(400, 'name is outside the domain', 'name');
      if (typeof b.content !== 'string' || b.content === '')
        return error(422, 'content is required', 'content');
      if (typeof b.ttl !== 'number' || b.ttl < 60) return error(400, 'ttl must be at least 60', 'ttl');
      if (
        [...records.values()].some(
          (r) => r.domainId === domainId && r.name === name && r.type === 'TXT' && r.content === b.content,
        )
      )
        return error(409, 'such record already exists');
      const stored: StoredRecord = {
        id: nextId++,
        domainId,
        name,
        type: 'TXT',
        content: b.content,
        ttl: b.ttl,
      };
      records.set(stored.id, stored);
      const { domainId: _, ...view } = stored;
      return { status: 200, json: view };
    }
    if (req.method === 'DELETE' && recordId !== undefined) {
      const r = records.get(Number(recordId));
      if (!r || r.domainId !== domainId) return error(404, 'record not found');
      records.delete(r.id);
      return { status: 204 };
    }
    return error(405, 'method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/domains/v1`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn)).map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
