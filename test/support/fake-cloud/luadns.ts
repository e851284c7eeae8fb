import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeLuadnsOptions {
  readonly ca: TestCa;
  readonly zones: readonly string[];
  /** Account email → API token. */
  readonly accounts: Readonly<Record<string, string>>;
}

export interface FakeLuadns {
  /** For LUADNS_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly zone_id: number;
  /** Absolute, with the trailing dot, lower case. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

let requestIds = 0;
const error = (status: number, statusText: string, message: string): FakeReply => ({
  status,
  json: { status: statusText, request_id: `req-${++requestIds}`, message },
});

/**
 * A fake of the LuaDNS REST API v1: HTTP Basic (email, API token), `Accept: application/json` required,
 * zones listed as an array, records with absolute names ending in a dot, TTL at least 300, and
 * `{status, request_id, message}` error bodies.
 */
export async function startFakeLuadns(o: FakeLuadnsOptions): Promise<FakeLuadns> {
  const zones = new Map(o.zones.map((z, i) => [1000 + i, nameKey(z)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 50_000;
  for (const [id, zone] of zones) {
    records.set(nextId, {
      id: nextId++,
      zone_id: id,
      name: `${zone}.`,
      type: 'NS',
      content: 'ns1.luadns.net.',
      ttl: 86400,
    });
  }

  function handle(req: RecordedRequest): FakeReply {
    if (!String(req.headers.accept ?? '').includes('application/json'))
      return error(406, 'Not Acceptable', 'the Accept header must be application/json');
    const m = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    const [user, token] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(/:(.*)/s) : [];
    if (!user || o.accounts[user] === undefined || o.accounts[user] !== token)
      return error(401, 'Unauthorized', 'invalid email or API key');

    if (req.path === '/v1/zones' && req.method === 'GET') {
      return { status: 200, json: [...zones].map(([id, name]) => ({ id, name, synced: true })) };
    }
    const parts = /^\/v1\/zones\/(\d+)\/records(?:\/(\d+))?$/.exec(req.path);
    if (!parts) return error(404, 'Not Found', 'resource not found');
    const zoneId = Number(parts[1]);
    const zone = zones.get(zoneId);
    if (!zone) return error(404, 'Not Found', 'zone not found');

    if (req.method === 'GET' && parts[2] === undefined) {
      return { status: 200, json: [...records.values()].filter((r) => r.zone_id === zoneId) };
    }
    if (req.method === 'POST' && parts[2] === undefined) {
      const b = jsonBody(req);
      if (!b) return error(400, 'Bad Request', 'invalid JSON');
      if (typeof b.name !== 'string' || !b.name.endsWith('.'))
        return error(400, 'Bad Request', 'name: must be a fully qualified name ending with a dot');
      const name = b.name.toLowerCase();
      if (name !== `${zone}.` && !name.endsWith(`.${zone}.`))
        return error(400, 'Bad Request', 'name: outside the zone');
      if (b.type !== 'TXT') return error(400, 'Bad Request', 'type: not supported here');
      if (typeof b.content !== 'string' || b.content === '')
        return error(400, 'Bad Request', 'content: required');
      if (typeof b.ttl !== 'number' || b.ttl < 300)
        return error(400, 'Bad Request', 'ttl: must be at least 300');
      const stored: StoredRecord = {
        id: nextId++,
        zone_id: zoneId,
        name,
        type: 'TXT',
        content: b.content,
        ttl: b.ttl,
      };
      records.set(stored.id, stored);
      return { status: 200, json: stored };
    }
    if (req.method === 'DELETE' && parts[2] !== undefined) {
      const r = records.get(Number(parts[2]));
      if (!r || r.zone_id !== zoneId) return error(404, 'Not Found', 'record not found');
      records.delete(r.id);
      return { status: 200, json: r };
    }
    return error(405, 'Method Not Allowed', 'method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && nameKey(r.name) === nameKey(fqdn))
        .map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
