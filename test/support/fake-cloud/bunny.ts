import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeBunnyOptions {
  readonly ca: TestCa;
  /** DNS zones of the account: "example.test". */
  readonly zones: readonly string[];
  /** Account API keys the fake accepts. */
  readonly apiKeys: readonly string[];
  /** Largest page of the zone list served (bunny.net: 1000); small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeBunny {
  /** For BUNNY_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly Id: number;
  readonly zoneId: number;
  readonly Type: number;
  /** Relative, lower case; "" at the apex. */
  readonly Name: string;
  readonly Value: string;
  readonly Ttl: number;
}

/** bunny.net's record types: A 0, AAAA 1, CNAME 2, TXT 3, MX 4, Redirect 5, Flatten 6, PullZone 7, SRV 8, CAA 9, PTR 10, Script 11, NS 12. */
const MAX_TYPE = 12;
/** bunny.net's error body: {ErrorKey, Field, Message}. */
const fail = (status: number, key: string, message: string, field = ''): FakeReply => ({
  status,
  json: { ErrorKey: key, Field: field, Message: message },
});

/**
 * A fake of the bunny.net DNS zone API as bunny.net documents it: the "AccessKey" header (401 without
 * a valid one), GET /dnszone with `page`, `perPage` (5–1000) and `search` answering {Items, CurrentPage,
 * TotalItems, HasMoreItems}, GET /dnszone/{id} with its Records, PUT /dnszone/{id}/records to add one
 * (Type a number 0–12, Value required, 201 with the record), DELETE /dnszone/{id}/records/{recordId}
 * (204), and {ErrorKey, Field, Message} errors.
 */
export async function startFakeBunny(o: FakeBunnyOptions): Promise<FakeBunny> {
  const zones = new Map(o.zones.map((z, i) => [5000 + i, nameKey(z)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 900_000;
  const maxPageSize = o.maxPageSize ?? 1000;

  function zoneJson(id: number, domain: string) {
    return {
      Id: id,
      Domain: domain,
      Records: [...records.values()]
        .filter((r) => r.zoneId === id)
        .map(({ zoneId: _z, ...r }) => ({
          ...r,
          Weight: 0,
          Priority: 0,
          Port: 0,
          Flags: 0,
          Tag: '',
          Accelerated: false,
          Disabled: false,
        })),
      Nameserver1: 'kiki.bunny.net',
      Nameserver2: 'coco.bunny.net',
      SoaEmail: 'hostmaster@bunny.net',
    };
  }

  function handle(req: RecordedRequest): FakeReply {
    const key = req.headers.accesskey;
    if (typeof key !== 'string' || !o.apiKeys.includes(key)) return { status: 401, text: '' };

    if (req.path === '/dnszone' && req.method === 'GET') {
      const page = Number(req.query.get('page') ?? 1);
      const perPage = Number(req.query.get('perPage') ?? 1000);
      if (!Number.isInteger(page) || page < 1) return fail(400, 'validation_error', 'Invalid page', 'page');
      if (!Number.isInteger(perPage) || perPage < 5 || perPage > 1000)
        return fail(400, 'validation_error', 'perPage must be between 5 and 1000', 'perPage');
      const size = Math.min(perPage, maxPageSize);
      const search = req.query.get('search')?.toLowerCase();
      const all = [...zones]
        .filter(([, d]) => !search || d.includes(search))
        .map(([id, d]) => zoneJson(id, d));
      return {
        status: 200,
        json: {
          Items: all.slice((page - 1) * size, page * size),
          CurrentPage: page,
          TotalItems: all.length,
          HasMoreItems: page * size < all.length,
        },
      };
    }
    const parts = /^\/dnszone\/(\d+)(\/records(?:\/(\d+))?)?$/.exec(req.path);
    if (!parts) return fail(404, 'not_found', 'The requested resource was not found');
    const zoneId = Number(parts[1]);
    const domain = zones.get(zoneId);
    if (!domain) return fail(404, 'dnszone.not_found', 'The requested DNS zone was not found');

    if (parts[2] === undefined) {
      if (req.method !== 'GET') return fail(405, 'method_not_allowed', 'Method not allowed');
      return { status: 200, json: zoneJson(zoneId, domain) };
    }
    if (req.method === 'PUT' && parts[3] === undefined) {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(415, 'unsupported_media_type', 'Content-Type must be application/json');
      const b = jsonBody(req);
      if (!b) return fail(400, 'validation_error', 'Invalid JSON body');
      if (!Number.isInteger(b.Type) || (b.Type as number) < 0 || (b.Type as number) > MAX_TYPE)
        return fail(400, 'validation_error', 'Invalid record type', 'Type');
      if (typeof b.Value !== 'string' || b.Value === '')
        return fail(400, 'validation_error', 'The Value field is required', 'Value');
      if (b.Name !== undefined && (typeof b.Name !== 'string' || b.Name.endsWith('.')))
        return fail(400, 'validation_error', 'Invalid record name', 'Name');
      if (b.Ttl !== undefined && (!Number.isInteger(b.Ttl) || (b.Ttl as number) < 0))
        return fail(400, 'validation_error', 'Invalid TTL', 'Ttl');
      const stored: StoredRecord = {
        Id: nextId++,
        zoneId,
        Type: b.Type as number,
        Name: String(b.Name ?? '').toLowerCase(),
        Value: b.Value,
        Ttl: (b.Ttl as number | undefined) ?? 300,
      };
      records.set(stored.Id, stored);
      const { zoneId: _z, ...shown } = stored;
      return { status: 201, json: shown };
    }
    if (req.method === 'DELETE' && parts[3] !== undefined) {
      const r = records.get(Number(parts[3]));
      if (!r || r.zoneId !== zoneId)
        return fail(404, 'dnsrecord.not_found', 'The requested DNS record was not found');
      records.delete(r.Id);
      return { status: 204 };
    }
    return fail(405, 'method_not_allowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => {
    const domain = zones.get(r.zoneId)!;
    return r.Name === '' ? domain : `${r.Name}.${domain}`;
  };
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.Type === 3 && fqdnOf(r) === nameKey(fqdn)).map((r) => r.Value),
    failNext: server.failNext,
    close: server.close,
  };
}
