import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNjallaOptions {
  readonly ca: TestCa;
  /** API tokens and the domains of their account. */
  readonly tokens: Readonly<Record<string, readonly string[]>>;
}

export interface FakeNjalla {
  /** For NJALLA_API_URL: https://127.0.0.1:<port>/api/1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domain: string;
  /** Relative to the domain, "@" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

const rpcError = (code: number, message: string): FakeReply => ({
  status: 200,
  json: { jsonrpc: '2.0', error: { code, message } },
});
const rpcResult = (result: unknown): FakeReply => ({ status: 200, json: { jsonrpc: '2.0', result } });

/**
 * A fake of the Njalla API as Njalla documents it: one endpoint (POST /api/1/) taking {method, params}
 * JSON with "Authorization: Njalla <token>", answering {result} or {error: {code, message}}; list-records,
 * add-record (TXT with a relative name, "@" at the apex) and remove-record by id, only for domains of the
 * token's account. Duplicate records are accepted, as by the real API.
 */
export async function startFakeNjalla(o: FakeNjallaOptions): Promise<FakeNjalla> {
  const records = new Map<number, StoredRecord>();
  let nextId = 7000;

  function handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/api/1/') return { status: 404, text: 'Not Found' };
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    const m = /^Njalla (\S+)$/.exec(req.headers.authorization ?? '');
    const domains = m ? o.tokens[m[1]!] : undefined;
    if (!domains) return rpcError(403, 'Invalid token.');
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return rpcError(400, 'Invalid request: expected JSON');
    const body = jsonBody(req);
    const params = body?.params as Record<string, unknown> | undefined;
    if (typeof body?.method !== 'string' || !params || typeof params !== 'object')
      return rpcError(400, 'Invalid request: method and params are required');
    const domain = typeof params.domain === 'string' ? nameKey(params.domain) : undefined;
    if (!domain) return rpcError(400, 'missing domain');
    if (!domains.map(nameKey).includes(domain)) return rpcError(403, 'Permission denied');

    switch (body.method) {
      case 'list-records':
        return rpcResult({
          records: [...records.values()].filter((r) => r.domain === domain).map(({ domain: _d, ...r }) => r),
        });
      case 'add-record': {
        const { type, name, content, ttl } = params;
        if (type !== 'TXT') return rpcError(400, 'invalid type');
        if (typeof name !== 'string' || name === '' || name.endsWith('.'))
          return rpcError(400, 'invalid name');
        if (typeof content !== 'string' || content === '') return rpcError(400, 'missing content');
        if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1))
          return rpcError(400, 'invalid ttl');
        const stored: StoredRecord = {
          id: nextId++,
          domain,
          name: name.toLowerCase(),
          type,
          content,
          ttl: typeof ttl === 'number' ? ttl : 10800,
        };
        records.set(stored.id, stored);
        const { domain: _d, ...shown } = stored;
        return rpcResult(shown);
      }
      case 'remove-record': {
        const id = Number(params.id);
        if (params.id === undefined) return rpcError(400, 'missing ID');
        const r = records.get(id);
        if (!r || r.domain !== domain) return rpcError(404, 'Record not found');
        records.delete(id);
        return rpcResult({});
      }
      default:
        return rpcError(-32601, 'Method not found');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/api/1`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter(
          (r) => r.type === 'TXT' && (r.name === '@' ? r.domain : `${r.name}.${r.domain}`) === nameKey(fqdn),
        )
        .map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
