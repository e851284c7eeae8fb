import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeVercelOptions {
  readonly ca: TestCa;
  /** Domains and who owns them: a team id, or null for the token's personal account. */
  readonly domains: Readonly<Record<string, string | null>>;
  /** Access tokens and the teams each may act for. */
  readonly tokens: Readonly<Record<string, readonly string[]>>;
  /** Largest page served (Vercel: 100); small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeVercel {
  /** For VERCEL_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domain: string;
  /** Relative, lower case; "" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly ttl: number;
  /** Creation time in ms; also the pagination key. */
  readonly created: number;
}

const TYPES = new Set(['A', 'AAAA', 'ALIAS', 'CAA', 'CNAME', 'HTTPS', 'MX', 'SRV', 'TXT', 'NS']);
/** Vercel's error body: {error: {code, message}}. */
const fail = (status: number, code: string, message: string, extra: object = {}): FakeReply => ({
  status,
  json: { error: { code, message, ...extra } },
});

/**
 * A fake of the Vercel REST API DNS endpoints as Vercel documents them: Bearer tokens (403 with
 * invalidToken for an unknown one), the scope chosen by ?teamId= (403 for a team the token is not in,
 * 404 for a domain outside the scope), GET /v5/domains/{domain}/records newest first with `limit` and
 * `until` = pagination.next, POST /v2/domains/{domain}/records (type, name and value required; answers
 * {uid, updated}), DELETE /v2/domains/{domain}/records/{id}, and {error: {code, message}} bodies.
 */
export async function startFakeVercel(o: FakeVercelOptions): Promise<FakeVercel> {
  const domains = new Map(Object.entries(o.domains).map(([d, team]) => [nameKey(d), team]));
  const records = new Map<string, StoredRecord>();
  let clock = 1_700_000_000_000;
  let nextId = 1;
  const maxPageSize = o.maxPageSize ?? 100;

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const teams = m ? o.tokens[m[1]!] : undefined;
    if (!teams) return fail(403, 'forbidden', 'Not authorized', { invalidToken: true });
    const teamId = req.query.get('teamId');
    if (teamId !== null && !teams.includes(teamId)) return fail(403, 'forbidden', 'Not authorized');

    const parts = /^\/(v5|v2)\/domains\/([^/]+)\/records(?:\/([^/]+))?$/.exec(req.path);
    if (!parts) return fail(404, 'not_found', 'The requested path was not found');
    const domain = decodeURIComponent(parts[2]!).toLowerCase();
    if (!domains.has(domain) || domains.get(domain) !== (teamId ?? null))
      return fail(404, 'not_found', `Domain ${domain} not found`);
    const id = parts[3] === undefined ? undefined : decodeURIComponent(parts[3]);

    if (req.method === 'GET' && parts[1] === 'v5' && id === undefined) {
      const limit = Math.min(Number(req.query.get('limit') ?? 20), maxPageSize);
      if (!Number.isInteger(limit) || limit < 1) return fail(400, 'bad_request', 'Invalid limit');
      const until = req.query.get('until');
      const all = [...records.values()]
        .filter((r) => r.domain === domain && (until === null || r.created < Number(until)))
        .sort((a, b) => b.created - a.created);
      const page = all.slice(0, limit);
      const more = all.length > limit;
      return {
        status: 200,
        json: {
          records: page.map((r) => ({
            id: r.id,
            slug: `${r.name}.${r.domain}-${r.type}`,
            name: r.name,
            type: r.type,
            value: r.value,
            ttl: r.ttl,
            creator: 'user_1',
            created: r.created,
            updated: r.created,
            createdAt: r.created,
            updatedAt: r.created,
          })),
          pagination: { count: page.length, next: more ? page[page.length - 1]!.created : null, prev: null },
        },
      };
    }
    if (req.method === 'POST' && parts[1] === 'v2' && id === undefined) {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(400, 'bad_request', 'Invalid request body');
      const b = jsonBody(req);
      if (!b) return fail(400, 'bad_request', 'Invalid request body');
      if (typeof b.type !== 'string' || !TYPES.has(b.type))
        return fail(400, 'invalid_type', 'Invalid request: `type` should be one of the allowed values');
      if (typeof b.name !== 'string')
        return fail(400, 'bad_request', 'Invalid request: missing required property `name`');
      if (typeof b.value !== 'string')
        return fail(400, 'bad_request', 'Invalid request: missing required property `value`');
      if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || (b.ttl as number) < 60))
        return fail(400, 'bad_request', 'Invalid request: `ttl` should be >= 60');
      const stored: StoredRecord = {
        id: `rec_${String(nextId++).padStart(24, '0')}`,
        domain,
        name: b.name.toLowerCase(),
        type: b.type,
        value: b.value,
        ttl: (b.ttl as number | undefined) ?? 60,
        created: clock++,
      };
      records.set(stored.id, stored);
      return { status: 200, json: { uid: stored.id, updated: stored.created } };
    }
    if (req.method === 'DELETE' && parts[1] === 'v2' && id !== undefined) {
      const r = records.get(id);
      if (!r || r.domain !== domain) return fail(404, 'not_found', 'DNS record not found');
      records.delete(id);
      return { status: 200, json: {} };
    }
    return fail(405, 'method_not_allowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => (r.name === '' ? r.domain : `${r.name}.${r.domain}`);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.value),
    failNext: server.failNext,
    close: server.close,
  };
}
