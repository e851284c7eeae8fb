import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDnsimpleOptions {
  readonly ca: TestCa;
  /** The account id of the account tokens. */
  readonly accountId: number;
  /** Zones in that account: "example.test". */
  readonly zones: readonly string[];
  /** Access tokens: an account token, or a user token (no account in /whoami). */
  readonly tokens: Readonly<Record<string, 'account' | 'user'>>;
  /** Largest page served (DNSimple: 100); small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeDnsimple {
  /** For DNSIMPLE_BASE_URL: https://127.0.0.1:<port> (the API lives under /v2). */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly zone_id: string;
  readonly parent_id: null;
  /** Relative to the zone, lower case; "" at the apex. */
  readonly name: string;
  readonly content: string;
  readonly ttl: number;
  readonly priority: null;
  readonly type: string;
  readonly regions: string[];
  readonly system_record: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

const message = (status: number, text: string, errors?: Record<string, string[]>): FakeReply => ({
  status,
  json: { message: text, ...(errors ? { errors } : {}) },
});

/**
 * A fake of the DNSimple API v2 as DNSimple documents it: Bearer tokens, /v2/whoami naming the account
 * (none for a user token), zones under /v2/{account}/zones/{zone}, the records list filtered by exact
 * `name` and `type` with `page`/`per_page` pagination ({pagination: {current_page, per_page,
 * total_entries, total_pages}}), 201 {data} on create, 204 on delete, and {message, errors} bodies.
 */
export async function startFakeDnsimple(o: FakeDnsimpleOptions): Promise<FakeDnsimple> {
  const zones = new Set(o.zones.map(nameKey));
  const records = new Map<number, StoredRecord>();
  let nextId = 1000;
  const maxPageSize = o.maxPageSize ?? 100;

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const kind = m ? o.tokens[m[1]!] : undefined;
    if (!kind) return message(401, 'Authentication failed');

    if (req.path === '/v2/whoami' && req.method === 'GET') {
      const account =
        kind === 'account'
          ? { id: o.accountId, email: 'ops@example.test', plan_identifier: 'teams-v1-monthly' }
          : null;
      const user = kind === 'user' ? { id: 7, email: 'someone@example.test' } : null;
      return { status: 200, json: { data: { user, account } } };
    }
    const parts = /^\/v2\/([^/]+)\/zones\/([^/]+)(\/records(?:\/([^/]+))?)?$/.exec(req.path);
    if (!parts) return message(404, 'Not found');
    if (parts[1] !== String(o.accountId) || kind !== 'account')
      return message(404, `Account \`${decodeURIComponent(parts[1]!)}\` not found`);
    const zone = decodeURIComponent(parts[2]!).toLowerCase();
    if (!zones.has(zone)) return message(404, `Zone \`${zone}\` not found`);

    if (parts[3] === undefined) {
      if (req.method !== 'GET') return message(405, 'Method not allowed');
      return { status: 200, json: { data: { id: 1, account_id: o.accountId, name: zone, reverse: false } } };
    }
    const id = parts[4];
    if (req.method === 'GET' && id === undefined) {
      const name = req.query.get('name');
      const type = req.query.get('type');
      const all = [...records.values()].filter(
        (r) => r.zone_id === zone && (name === null || r.name === name) && (type === null || r.type === type),
      );
      const per = Math.min(Number(req.query.get('per_page') ?? 30), 100, maxPageSize);
      const page = Number(req.query.get('page') ?? 1);
      if (!Number.isInteger(per) || per < 1 || !Number.isInteger(page) || page < 1)
        return message(400, 'Invalid pagination parameters');
      return {
        status: 200,
        json: {
          data: all.slice((page - 1) * per, page * per),
          pagination: {
            current_page: page,
            per_page: per,
            total_entries: all.length,
            total_pages: Math.max(1, Math.ceil(all.length / per)),
          },
        },
      };
    }
    if (req.method === 'POST' && id === undefined) {
      const b = jsonBody(req);
      if (!b) return message(400, 'Invalid JSON');
      const errors: Record<string, string[]> = {};
      if (typeof b.type !== 'string' || b.type === '') errors.type = ["can't be blank"];
      if (typeof b.content !== 'string' || b.content === '') errors.content = ["can't be blank"];
      if (b.name !== undefined && (typeof b.name !== 'string' || b.name.endsWith('.')))
        errors.name = ['is invalid'];
      if (b.ttl !== undefined && !Number.isInteger(b.ttl)) errors.ttl = ['is not a number'];
      if (Object.keys(errors).length > 0) return message(400, 'Validation failed', errors);
      const now = new Date().toISOString();
      const stored: StoredRecord = {
        id: nextId++,
        zone_id: zone,
        parent_id: null,
        name: String(b.name ?? '').toLowerCase(),
        content: b.content as string,
        ttl: (b.ttl as number | undefined) ?? 3600,
        priority: null,
        type: b.type as string,
        regions: ['global'],
        system_record: false,
        created_at: now,
        updated_at: now,
      };
      records.set(stored.id, stored);
      return { status: 201, json: { data: stored } };
    }
    if (req.method === 'DELETE' && id !== undefined) {
      const r = records.get(Number(id));
      if (!r || r.zone_id !== zone) return message(404, `Record \`${id}\` not found`);
      records.delete(r.id);
      return { status: 204 };
    }
    return message(405, 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => (r.name === '' ? r.zone_id : `${r.name}.${r.zone_id}`);
  return {
    baseUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
