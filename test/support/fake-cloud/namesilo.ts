import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNamesiloOptions {
  readonly ca: TestCa;
  /** Active domains of the account: "example.test". */
  readonly domains: readonly string[];
  readonly apiKeys: readonly string[];
}

export interface FakeNamesilo {
  /** For NAMESILO_API_URL: https://127.0.0.1:<port>/api */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domain: string;
  /** Full host name, lower case. */
  readonly host: string;
  readonly type: string;
  readonly value: string;
  readonly ttl: number;
}

/**
 * A fake of the NameSilo API's DNS operations as NameSilo documents them: GET /api/{operation} with
 * version=1, type=json and key in the query; every answer HTTP 200 with {request, reply: {code, detail}}
 * (300 success, 102–110 request and key errors, 200 a domain not active in the account, 280 a DNS
 * change refused); dnsListRecords listing full host names (one record comes as an object, not a list, as
 * in NameSilo's XML-shaped JSON), dnsAddRecord with a relative rrhost and an rrttl of 3600–2592000 s,
 * dnsDeleteRecord by rrid.
 */
export async function startFakeNamesilo(o: FakeNamesiloOptions): Promise<FakeNamesilo> {
  const domains = new Set(o.domains.map(nameKey));
  const records = new Map<string, StoredRecord>();

  function handle(req: RecordedRequest): FakeReply {
    const operation = /^\/api\/([A-Za-z]+)$/.exec(req.path)?.[1];
    const q = req.query;
    const answer = (code: number, detail: string, extra: object = {}): FakeReply => ({
      status: 200,
      json: { request: { operation: operation ?? '', ip: '127.0.0.1' }, reply: { code, detail, ...extra } },
    });
    if (req.method !== 'GET') return answer(107, 'Invalid API operation');
    if (q.get('type') !== 'json')
      return {
        status: 200,
        text: '<?xml version="1.0"?><namesilo><reply><code>104</code></reply></namesilo>',
      };
    if (q.get('version') === null) return answer(102, 'No version specified');
    if (q.get('version') !== '1') return answer(103, 'Invalid API version');
    if (!operation) return answer(106, 'No operation specified');
    const key = q.get('key');
    if (!key) return answer(109, 'No API key specified');
    if (!o.apiKeys.includes(key)) return answer(110, 'Invalid API Key');
    const domain = q.get('domain')?.toLowerCase();
    if (!domain) return answer(108, 'Missing parameters: domain');
    if (!/^[a-z0-9.-]+$/.test(domain)) return answer(114, 'Invalid Domain Syntax');
    if (!domains.has(domain)) return answer(200, 'Domain is not active, or does not belong to this user');

    switch (operation) {
      case 'dnsListRecords': {
        const list = [...records.values()]
          .filter((r) => r.domain === domain)
          .map((r) => ({
            record_id: r.id,
            type: r.type,
            host: r.host,
            value: r.value,
            ttl: String(r.ttl),
            distance: 0,
          }));
        return answer(
          300,
          'success',
          list.length === 0 ? {} : { resource_record: list.length === 1 ? list[0] : list },
        );
      }
      case 'dnsAddRecord': {
        const type = q.get('rrtype');
        const host = q.get('rrhost');
        const value = q.get('rrvalue');
        const ttl = q.get('rrttl') === null ? 7207 : Number(q.get('rrttl'));
        if (type === null || host === null || value === null) return answer(108, 'Missing parameters');
        if (type !== 'TXT') return answer(280, 'DNS modification error: this fake stores TXT records only');
        if (host.endsWith('.') || host.endsWith(domain))
          return answer(280, 'DNS modification error: rrhost must be relative to the domain');
        if (!Number.isInteger(ttl) || ttl < 3600 || ttl > 2_592_000)
          return answer(280, 'DNS modification error: the TTL must be between 3600 and 2592000');
        const stored: StoredRecord = {
          id: randomBytes(16).toString('hex'),
          domain,
          host: host === '' ? domain : `${host.toLowerCase()}.${domain}`,
          type,
          value,
          ttl,
        };
        records.set(stored.id, stored);
        return answer(300, 'success', { record_id: stored.id });
      }
      case 'dnsDeleteRecord': {
        const id = q.get('rrid');
        if (id === null) return answer(108, 'Missing parameters: rrid');
        const r = records.get(id);
        if (!r || r.domain !== domain) return answer(280, 'DNS modification error');
        records.delete(id);
        return answer(300, 'success');
      }
      default:
        return answer(107, 'Invalid API operation');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/api`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.host === nameKey(fqdn)).map((r) => r.value),
    failNext: server.failNext,
    close: server.close,
  };
}
