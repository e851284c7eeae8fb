import { randomUUID } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeCivoOptions {
  readonly ca: TestCa;
  /** DNS domains of the account: "example.test". */
  readonly domains: readonly string[];
  /** API keys the fake accepts. */
  readonly tokens: readonly string[];
}

export interface FakeCivo {
  /** For CIVO_API_URL: https://127.0.0.1:<port>/v2 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  ttls(fqdn: string): number[];
  /** The id Civo gave a domain. */
  domainId(domain: string): string;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly account_id: string;
  readonly domain_id: string;
  /** Relative, lower case; "@" at the apex. */
  readonly name: string;
  readonly value: string;
  readonly type: string;
  readonly priority: number;
  readonly ttl: number;
  readonly created_at: string;
  readonly updated_at: string;
}

const ACCOUNT = '3b7f5c1e-0000-4000-8000-000000000001';
const MIN_TTL = 600;
const TYPES = new Set(['a', 'aaaa', 'cname', 'mx', 'txt', 'srv', 'ns']);
/** Civo's error body: {code, reason}. */
const fail = (status: number, code: string, reason: string): FakeReply => ({
  status,
  json: { code, reason },
});

/**
 * A fake of the Civo API v2 DNS endpoints as Civo documents them: Bearer API keys, GET /v2/dns (an array
 * of domains with UUIDs), GET/POST /v2/dns/{domain_id}/records (type one of a, aaaa, cname, mx, txt,
 * srv, ns in either case; name, value required; TTL at least 600), DELETE /v2/dns/{domain_id}/records/
 * {id} answering {"result": "success"}, and {code, reason} errors.
 */
export async function startFakeCivo(o: FakeCivoOptions): Promise<FakeCivo> {
  const domains = new Map<string, string>(o.domains.map((d) => [randomUUID(), nameKey(d)]));
  const records = new Map<string, StoredRecord>();

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !o.tokens.includes(m[1]!))
      return fail(401, 'authentication_invalid_key', 'The API key provided is invalid');

    if (req.path === '/v2/dns' && req.method === 'GET')
      return { status: 200, json: [...domains].map(([id, name]) => ({ id, account_id: ACCOUNT, name })) };
    const parts = /^\/v2\/dns\/([^/]+)\/records(?:\/([^/]+))?$/.exec(req.path);
    if (!parts) return fail(404, 'not_found', 'The requested resource was not found');
    const domainId = decodeURIComponent(parts[1]!);
    if (!domains.has(domainId))
      return fail(404, 'database_dns_domain_not_found', 'The DNS domain could not be found');
    const id = parts[2] === undefined ? undefined : decodeURIComponent(parts[2]);

    if (req.method === 'GET' && id === undefined)
      return { status: 200, json: [...records.values()].filter((r) => r.domain_id === domainId) };
    if (req.method === 'POST' && id === undefined) {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(400, 'parameter_invalid', 'The request body must be JSON');
      const b = jsonBody(req);
      if (!b) return fail(400, 'parameter_invalid', 'The request body must be JSON');
      if (typeof b.type !== 'string' || !TYPES.has(b.type.toLowerCase()))
        return fail(400, 'parameter_dns_record_type_invalid', 'The DNS record type is invalid');
      if (typeof b.name !== 'string' || b.name === '' || b.name.endsWith('.'))
        return fail(400, 'parameter_dns_record_name_invalid', 'The DNS record name is invalid');
      if (typeof b.value !== 'string' || b.value === '')
        return fail(400, 'parameter_dns_record_value_invalid', 'The DNS record value is invalid');
      if (b.ttl !== undefined && !Number.isInteger(b.ttl))
        return fail(400, 'parameter_dns_record_ttl_invalid', 'The DNS record TTL is invalid');
      const now = new Date().toISOString();
      const stored: StoredRecord = {
        id: randomUUID(),
        account_id: ACCOUNT,
        domain_id: domainId,
        name: b.name.toLowerCase(),
        value: b.value,
        type: b.type.toUpperCase(),
        priority: 0,
        ttl: Math.max(MIN_TTL, (b.ttl as number | undefined) ?? MIN_TTL),
        created_at: now,
        updated_at: now,
      };
      records.set(stored.id, stored);
      return { status: 200, json: stored };
    }
    if (req.method === 'DELETE' && id !== undefined) {
      const r = records.get(id);
      if (!r || r.domain_id !== domainId)
        return fail(404, 'database_dns_record_not_found', 'The DNS record could not be found');
      records.delete(id);
      return { status: 200, json: { result: 'success' } };
    }
    return fail(405, 'method_not_allowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const at = (fqdn: string) =>
    [...records.values()].filter((r) => {
      const domain = domains.get(r.domain_id)!;
      return r.type === 'TXT' && (r.name === '@' ? domain : `${r.name}.${domain}`) === nameKey(fqdn);
    });
  return {
    apiUrl: `${server.origin}/v2`,
    requests: server.requests,
    values: async (fqdn) => at(fqdn).map((r) => r.value),
    ttls: (fqdn) => at(fqdn).map((r) => r.ttl),
    domainId: (domain) => [...domains].find(([, name]) => name === nameKey(domain))![0],
    failNext: server.failNext,
    close: server.close,
  };
}
