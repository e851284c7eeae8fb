import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeIonosOptions {
  readonly ca: TestCa;
  /** Zones of the customer: "example.test". */
  readonly zones: readonly string[];
  /** API keys, "<public prefix>.<secret>". */
  readonly keys: readonly string[];
}

export interface FakeIonos {
  /** For IONOS_API_URL: https://127.0.0.1:<port>/dns */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly zoneId: string;
  /** Absolute, lower case, no trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
  readonly prio: number;
  readonly disabled: boolean;
}

const errors = (status: number, code: string, message: string): FakeReply => ({
  status,
  json: [{ code, message }],
});

/**
 * A fake of the IONOS Hosting DNS API v1 as IONOS documents it: the X-API-Key header
 * ("<prefix>.<secret>"), GET /v1/zones, GET /v1/zones/{zoneId} with the recordName / recordType /
 * suffix filters, POST /v1/zones/{zoneId}/records taking an array (201, the created records back),
 * DELETE by record id, absolute record names inside the zone, TXT content listed quoted, and errors
 * as an array of {code, message}.
 */
export async function startFakeIonos(o: FakeIonosOptions): Promise<FakeIonos> {
  const zones = new Map(
    o.zones.map((z, i) => [`11111111-2222-3333-4444-${String(i).padStart(12, '0')}`, nameKey(z)]),
  );
  const records = new Map<string, StoredRecord>();
  let next = 1;
  const json = (r: StoredRecord) => ({
    id: r.id,
    name: r.name,
    rootName: zones.get(r.zoneId),
    type: r.type,
    content: r.type === 'TXT' ? `"${r.content}"` : r.content,
    changeDate: new Date().toISOString(),
    ttl: r.ttl,
    prio: r.prio,
    disabled: r.disabled,
  });

  function create(zoneId: string, req: RecordedRequest): FakeReply {
    if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? '')))
      return errors(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    let list: unknown;
    try {
      list = JSON.parse(req.body);
    } catch {
      return errors(400, 'INVALID_REQUEST_BODY', 'The request body is not valid JSON.');
    }
    if (!Array.isArray(list) || list.length === 0)
      return errors(400, 'INVALID_REQUEST_BODY', 'The request body must be a non-empty array of records.');
    const zone = zones.get(zoneId)!;
    const made: StoredRecord[] = [];
    for (const raw of list as Record<string, unknown>[]) {
      const name = typeof raw?.name === 'string' ? raw.name.toLowerCase() : '';
      if (name !== zone && !name.endsWith(`.${zone}`))
        return errors(
          400,
          'INVALID_RECORD',
          `Record name ${String(raw?.name)} does not belong to zone ${zone}.`,
        );
      if (raw.type !== 'TXT') return errors(400, 'INVALID_RECORD', 'This fake stores TXT records only.');
      if (typeof raw.content !== 'string' || raw.content === '')
        return errors(400, 'INVALID_RECORD', 'Record content is required.');
      if (raw.ttl !== undefined && (!Number.isInteger(raw.ttl) || (raw.ttl as number) < 60))
        return errors(400, 'INVALID_RECORD', 'TTL must be at least 60.');
      made.push({
        id: `aaaaaaaa-bbbb-cccc-dddd-${String(next++).padStart(12, '0')}`,
        zoneId,
        name,
        type: 'TXT',
        content: raw.content,
        ttl: typeof raw.ttl === 'number' ? raw.ttl : 3600,
        prio: typeof raw.prio === 'number' ? raw.prio : 0,
        disabled: raw.disabled === true,
      });
    }
    for (const r of made) records.set(r.id, r);
    return { status: 201, json: made.map(json) };
  }

  function handle(req: RecordedRequest): FakeReply {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !/^[^.\s]+\.[^.\s]+$/.test(key) || !o.keys.includes(key))
      return errors(401, 'UNAUTHORIZED', 'The customer is not authorized to do this operation.');
    if (req.path === '/dns/v1/zones' && req.method === 'GET')
      return { status: 200, json: [...zones].map(([id, name]) => ({ id, name, type: 'NATIVE' })) };
    const m = /^\/dns\/v1\/zones\/([^/]+)(\/records(?:\/([^/]+))?)?$/.exec(req.path);
    if (!m) return errors(404, 'NOT_FOUND', 'Not found.');
    const zoneId = decodeURIComponent(m[1]!);
    if (!zones.has(zoneId)) return errors(404, 'ZONE_NOT_FOUND', 'Zone not found.');

    if (m[2] === undefined && req.method === 'GET') {
      const recordName = req.query.get('recordName')?.toLowerCase();
      const suffix = req.query.get('suffix')?.toLowerCase();
      const types = req.query.get('recordType')?.split(',');
      const found = [...records.values()].filter(
        (r) =>
          r.zoneId === zoneId &&
          (recordName === undefined || r.name === recordName) &&
          (suffix === undefined || r.name.endsWith(suffix)) &&
          (types === undefined || types.includes(r.type)),
      );
      return {
        status: 200,
        json: { id: zoneId, name: zones.get(zoneId), type: 'NATIVE', records: found.map(json) },
      };
    }
    if (m[2] !== undefined && m[3] === undefined && req.method === 'POST') return create(zoneId, req);
    if (m[3] !== undefined && req.method === 'DELETE') {
      const r = records.get(decodeURIComponent(m[3]));
      if (!r || r.zoneId !== zoneId) return errors(404, 'RECORD_NOT_FOUND', 'Record not found.');
      records.delete(r.id);
      return { status: 200, text: '' };
    }
    return errors(405, 'METHOD_NOT_ALLOWED', 'Method not allowed.');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/dns`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn)).map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
