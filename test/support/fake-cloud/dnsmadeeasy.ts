import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDnsMadeEasyOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  /** API key → secret key. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface FakeDnsMadeEasy {
  /** For DNSMADEEASY_API_URL: https://127.0.0.1:<port>/V2.0 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly sourceId: number;
  readonly name: string;
  readonly type: string;
  /** As DNS Made Easy keeps TXT data: in double quotes. */
  readonly value: string;
  readonly ttl: number;
}

const error = (status: number, ...messages: string[]): FakeReply => ({ status, json: { error: messages } });
/** How far the request date may be from the server's clock. */
const MAX_SKEW_MS = 5 * 60_000;

/**
 * A fake of the DNS Made Easy REST API v2.0 managed-DNS endpoints. Each request needs x-dnsme-apiKey,
 * x-dnsme-requestDate (an HTTP date near the server's time) and x-dnsme-hmac, which this fake recomputes
 * (hex HMAC-SHA1 of the date string with the secret key). Domains are found by name; records are
 * filtered by recordName and type, created with name/type/value/ttl/gtdLocation (a duplicate is refused)
 * and deleted by id; TXT values come back quoted; errors read `{"error": ["..."]}`.
 */
export async function startFakeDnsMadeEasy(o: FakeDnsMadeEasyOptions): Promise<FakeDnsMadeEasy> {
  const domains = new Map(o.domains.map((d, i) => [880_000 + i, nameKey(d)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 66_000_000;

  function authenticate(req: RecordedRequest): FakeReply | undefined {
    const key = String(req.headers['x-dnsme-apikey'] ?? '');
    const date = String(req.headers['x-dnsme-requestdate'] ?? '');
    const hmac = String(req.headers['x-dnsme-hmac'] ?? '');
    const secret = o.keys[key];
    if (secret === undefined) return error(403, 'API key not found');
    const when = Date.parse(date);
    if (!/GMT$/.test(date) || Number.isNaN(when) || Math.abs(when - Date.now()) > MAX_SKEW_MS)
      return error(403, 'Request date is not a current HTTP date');
    const expected = createHmac('sha1', secret).update(date, 'utf8').digest();
    const given = Buffer.from(hmac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return error(403, 'HMAC validation failed');
    return undefined;
  }

  function handle(req: RecordedRequest): FakeReply {
    const refused = authenticate(req);
    if (refused) return refused;
    if (req.path === '/V2.0/dns/managed/name' && req.method === 'GET') {
      const name = nameKey(req.query.get('domainname') ?? '');
      const found = [...domains].find(([, d]) => d === name);
      return found
        ? { status: 200, json: { id: found[0], name: found[1], gtdEnabled: false } }
        : error(404, 'Domain not found');
    }
    const parts = /^\/V2\.0\/dns\/managed\/(\d+)\/records(?:\/(\d+))?$/.exec(req.path);
    if (!parts) return error(404, 'Not found');
    const domainId = Number(parts[1]);
    if (!domains.has(domainId)) return error(404, 'Domain not found');

    if (req.method === 'GET' && parts[2] === undefined) {
      const name = req.query.get('recordName');
      const type = req.query.get('type');
      const data = [...records.values()].filter(
        (r) =>
          r.sourceId === domainId &&
          (name === null || r.name === name.toLowerCase()) &&
          (type === null || r.type === type),
      );
      return { status: 200, json: { data, page: 0, totalPages: 1, totalRecords: data.length } };
    }
    if (req.method === 'POST' && parts[2] === undefined) {
      const b = jsonBody(req);
      if (!b) return error(400, 'Invalid JSON');
      if (typeof b.name !== 'string' || b.name.endsWith('.'))
        return error(400, 'Record name must be relative to the domain');
      if (b.type !== 'TXT') return error(400, 'Unsupported record type');
      if (typeof b.value !== 'string' || b.value === '') return error(400, 'Record value is required');
      if (typeof b.ttl !== 'number' || b.ttl < 1) return error(400, 'TTL is required');
      if (typeof b.gtdLocation !== 'string') return error(400, 'gtdLocation is required');
      const value = b.value.startsWith('"') ? b.value : `"${b.value}"`;
      const name = b.name.toLowerCase();
      if (
        [...records.values()].some(
          (r) => r.sourceId === domainId && r.name === name && r.type === 'TXT' && r.value === value,
        )
      )
        return error(
          400,
          `Record with this type (TXT), name (${name}), and value (${value}) already exists.`,
        );
      const stored: StoredRecord = { id: nextId++, sourceId: domainId, name, type: 'TXT', value, ttl: b.ttl };
      records.set(stored.id, stored);
      return { status: 201, json: { ...stored, gtdLocation: b.gtdLocation } };
    }
    if (req.method === 'DELETE' && parts[2] !== undefined) {
      const r = records.get(Number(parts[2]));
      if (!r || r.sourceId !== domainId) return error(404, 'Record not found');
      records.delete(r.id);
      return { status: 200, text: '' };
    }
    return error(405, 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => {
    const domain = domains.get(r.sourceId)!;
    return r.name === '' ? domain : `${r.name}.${domain}`;
  };
  return {
    apiUrl: `${server.origin}/V2.0`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.value.slice(1, -1)),
    failNext: server.failNext,
    close: server.close,
  };
}
