import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNetlifyOptions {
  readonly ca: TestCa;
  /** DNS zones of the account: "example.test". */
  readonly zones: readonly string[];
  /** Personal access tokens the fake accepts. */
  readonly tokens: readonly string[];
}

export interface FakeNetlify {
  /** For NETLIFY_API_URL: https://127.0.0.1:<port>/api/v1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The zone id Netlify gave a zone. */
  zoneId(zone: string): string;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly dns_zone_id: string;
  /** Full name, lower case, without the final dot. */
  readonly hostname: string;
  readonly type: string;
  readonly value: string;
  readonly ttl: number;
  readonly priority: null;
  readonly managed: false;
}

const TYPES = new Set(['A', 'AAAA', 'ALIAS', 'CAA', 'CNAME', 'MX', 'NS', 'SPF', 'SRV', 'TXT']);
/** Netlify's error body: {code, message}. */
const fail = (code: number, message: string): FakeReply => ({ status: code, json: { code, message } });
const hexId = (): string => randomBytes(12).toString('hex');

/**
 * A fake of the Netlify API v1 DNS endpoints as Netlify's OpenAPI document describes them: Bearer tokens,
 * GET /dns_zones (an array of zones with opaque ids), GET/POST /dns_zones/{zone_id}/dns_records (records
 * named by their full hostname, which must lie in the zone; type and value required), DELETE
 * /dns_zones/{zone_id}/dns_records/{dns_record_id} (204), and {code, message} errors.
 */
export async function startFakeNetlify(o: FakeNetlifyOptions): Promise<FakeNetlify> {
  const zones = new Map(o.zones.map((z) => [hexId(), nameKey(z)]));
  const records = new Map<string, StoredRecord>();

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !o.tokens.includes(m[1]!)) return fail(401, 'Access Denied: your token is invalid or expired');

    if (req.path === '/api/v1/dns_zones' && req.method === 'GET')
      return {
        status: 200,
        json: [...zones].map(([id, name]) => ({
          id,
          name,
          account_slug: 'team',
          dns_servers: ['dns1.p01.nsone.net', 'dns2.p01.nsone.net'],
          supported_record_types: [...TYPES],
        })),
      };
    const parts = /^\/api\/v1\/dns_zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(req.path);
    if (!parts) return fail(404, 'Not Found');
    const zoneId = decodeURIComponent(parts[1]!);
    const zone = zones.get(zoneId);
    if (!zone) return fail(404, 'Not Found');
    const id = parts[2] === undefined ? undefined : decodeURIComponent(parts[2]);

    if (req.method === 'GET' && id === undefined)
      return { status: 200, json: [...records.values()].filter((r) => r.dns_zone_id === zoneId) };
    if (req.method === 'POST' && id === undefined) {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(415, 'Unsupported Media Type');
      const b = jsonBody(req);
      if (!b) return fail(400, 'Invalid JSON');
      if (typeof b.type !== 'string' || !TYPES.has(b.type)) return fail(422, 'Invalid record type');
      if (typeof b.value !== 'string' || b.value === '') return fail(422, "Value can't be blank");
      const hostname = typeof b.hostname === 'string' ? b.hostname.toLowerCase() : '';
      if (hostname !== zone && !hostname.endsWith(`.${zone}`))
        return fail(422, 'Hostname must be within the zone');
      if (b.ttl !== undefined && !Number.isInteger(b.ttl)) return fail(422, 'TTL must be a number');
      const stored: StoredRecord = {
        id: hexId(),
        dns_zone_id: zoneId,
        hostname,
        type: b.type,
        value: b.value,
        ttl: (b.ttl as number | undefined) ?? 3600,
        priority: null,
        managed: false,
      };
      records.set(stored.id, stored);
      return { status: 201, json: stored };
    }
    if (req.method === 'DELETE' && id !== undefined) {
      const r = records.get(id);
      if (!r || r.dns_zone_id !== zoneId) return fail(404, 'Not Found');
      records.delete(id);
      return { status: 204 };
    }
    return fail(405, 'Method Not Allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/api/v1`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && r.hostname === nameKey(fqdn))
        .map((r) => r.value),
    zoneId: (zone) => [...zones].find(([, name]) => name === nameKey(zone))![0],
    failNext: server.failNext,
    close: server.close,
  };
}
