import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeEasyDnsOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  /** API token → API key. */
  readonly users: Readonly<Record<string, string>>;
}

export interface FakeEasyDns {
  /** For EASYDNS_ENDPOINT: https://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domain: string;
  readonly host: string;
  readonly ttl: string;
  readonly prio: string;
  readonly type: string;
  readonly rdata: string;
}

const error = (code: number, message: string): FakeReply => ({
  status: code,
  json: { error: { code, message } },
});

/**
 * A fake of the easyDNS REST API zone-record endpoints: HTTP Basic (token, key), `format=json` required,
 * records of a domain listed under `data` with count/total, a TXT record added with PUT
 * /zones/records/add/<domain>/TXT (domain, host relative or "@", ttl and prio as strings, rdata; the body
 * domain must match the path), deleted by id, and `{"error": {"code", "message"}}` errors.
 */
export async function startFakeEasyDns(o: FakeEasyDnsOptions): Promise<FakeEasyDns> {
  const domains = new Set(o.domains.map(nameKey));
  const records = new Map<string, StoredRecord>();
  let nextId = 1_200_000;
  for (const d of domains) {
    const id = String(nextId++);
    records.set(id, {
      id,
      domain: d,
      host: '@',
      ttl: '3600',
      prio: '0',
      type: 'NS',
      rdata: 'dns1.easydns.com.',
    });
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    const [token, key] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(/:(.*)/s) : [];
    if (!token || o.users[token] === undefined || o.users[token] !== key)
      return error(401, 'Invalid API token or key');
    if (req.query.get('format') !== 'json') return error(400, 'format=json is required for JSON answers');

    const all = /^\/zones\/records\/all\/([^/]+)$/.exec(req.path);
    if (all && req.method === 'GET') {
      const domain = nameKey(decodeURIComponent(all[1]!));
      if (!domains.has(domain)) return error(404, 'No such domain in this account');
      const data = [...records.values()].filter((r) => r.domain === domain);
      return {
        status: 200,
        json: {
          tm: Math.floor(Date.now() / 1000),
          data,
          count: data.length,
          total: data.length,
          start: 0,
          max: 1000,
          status: 200,
        },
      };
    }
    const add = /^\/zones\/records\/add\/([^/]+)\/([A-Z]+)$/.exec(req.path);
    if (add && req.method === 'PUT') {
      const domain = nameKey(decodeURIComponent(add[1]!));
      if (!domains.has(domain)) return error(404, 'No such domain in this account');
      const b = jsonBody(req);
      if (!b) return error(400, 'Invalid JSON');
      if (b.domain !== domain) return error(400, 'domain in the body does not match the URL');
      if (b.type !== add[2] || b.type !== 'TXT') return error(400, 'type does not match the URL');
      if (typeof b.host !== 'string' || b.host === '' || b.host.endsWith('.'))
        return error(400, 'host: relative to the domain, @ at the apex');
      if (typeof b.ttl !== 'string' || !/^\d+$/.test(b.ttl)) return error(400, 'ttl: a number as a string');
      if (typeof b.prio !== 'string' || !/^\d+$/.test(b.prio))
        return error(400, 'prio: a number as a string');
      if (typeof b.rdata !== 'string' || b.rdata === '') return error(400, 'rdata: required');
      const stored: StoredRecord = {
        id: String(nextId++),
        domain,
        host: b.host.toLowerCase(),
        ttl: b.ttl,
        prio: b.prio,
        type: 'TXT',
        rdata: b.rdata,
      };
      records.set(stored.id, stored);
      return {
        status: 201,
        json: { msg: 'OK', tm: Math.floor(Date.now() / 1000), data: stored, status: 201 },
      };
    }
    const del = /^\/zones\/records\/([^/]+)\/(\d+)$/.exec(req.path);
    if (del && req.method === 'DELETE') {
      const domain = nameKey(decodeURIComponent(del[1]!));
      const r = records.get(del[2]!);
      if (!domains.has(domain) || !r || r.domain !== domain) return error(404, 'No such record');
      records.delete(r.id);
      return {
        status: 200,
        json: { msg: 'OK', tm: Math.floor(Date.now() / 1000), data: { domain, id: r.id }, status: 200 },
      };
    }
    return error(404, 'Not found');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => (r.host === '@' ? r.domain : `${r.host}.${r.domain}`);
  return {
    endpoint: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.rdata),
    failNext: server.failNext,
    close: server.close,
  };
}
