import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeGodaddyOptions {
  readonly ca: TestCa;
  /** Domains with a zone file in the account: "example.test". */
  readonly domains: readonly string[];
  /** API key → secret. */
  readonly keys: Readonly<Record<string, string>>;
  /** Keys whose account may not use the DNS API (too few domains): 403 ACCESS_DENIED. */
  readonly denied?: readonly string[];
}

export interface FakeGodaddy {
  /** For GODADDY_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The TTLs of the TXT records at a name. */
  ttls(fqdn: string): number[];
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly domain: string;
  /** Relative, lower case; "@" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly data: string;
  readonly ttl: number;
}

const MIN_TTL = 600;
/** GoDaddy's error body: {code, message, fields?}. */
const fail = (status: number, code: string, message: string, fields?: unknown[]): FakeReply => ({
  status,
  json: { code, message, ...(fields ? { fields } : {}) },
});

/**
 * A fake of the GoDaddy Domains API v1 DNS record endpoints as GoDaddy documents them: "Authorization:
 * sso-key <key>:<secret>", GET/PUT/DELETE /v1/domains/{domain}/records/{type}/{name} where PUT replaces
 * every record of that type and name with the array it is given (each with `data` and a `ttl` of at
 * least 600), 404 UNKNOWN_DOMAIN for a domain without a zone, 403 ACCESS_DENIED for an account the DNS
 * API is closed to, 422 with `fields` for a bad body, and {code, message} errors.
 */
export async function startFakeGodaddy(o: FakeGodaddyOptions): Promise<FakeGodaddy> {
  const domains = new Set(o.domains.map(nameKey));
  let records: StoredRecord[] = [];

  function handle(req: RecordedRequest): FakeReply {
    const m = /^sso-key ([^:\s]+):(\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || o.keys[m[1]!] !== m[2])
      return fail(401, 'UNABLE_TO_AUTHENTICATE', 'Unauthorized : Could not authenticate API key/secret');
    if (o.denied?.includes(m[1]!))
      return fail(403, 'ACCESS_DENIED', 'Authenticated user is not allowed access');

    const parts = /^\/v1\/domains\/([^/]+)\/records\/([^/]+)\/([^/]+)$/.exec(req.path);
    if (!parts) return fail(404, 'NOT_FOUND', 'The requested resource was not found');
    const domain = decodeURIComponent(parts[1]!).toLowerCase();
    if (!domains.has(domain))
      return fail(404, 'UNKNOWN_DOMAIN', `The given domain is not registered, or does not have a zone file`);
    const type = decodeURIComponent(parts[2]!);
    const name = decodeURIComponent(parts[3]!).toLowerCase();
    const here = (r: StoredRecord) => r.domain === domain && r.type === type && r.name === name;

    if (req.method === 'GET')
      return {
        status: 200,
        json: records.filter(here).map((r) => ({ data: r.data, name: r.name, ttl: r.ttl, type: r.type })),
      };
    if (req.method === 'DELETE') {
      if (!records.some(here)) return fail(404, 'NOT_FOUND', `No ${type} records found for ${name}`);
      records = records.filter((r) => !here(r));
      return { status: 204 };
    }
    if (req.method === 'PUT') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
      let body: unknown;
      try {
        body = JSON.parse(req.body);
      } catch {
        return fail(422, 'INVALID_BODY', 'Request body could not be parsed');
      }
      if (!Array.isArray(body) || body.length === 0)
        return fail(422, 'INVALID_BODY', "Request body doesn't fulfill schema, see details in `fields`", [
          { code: 'UNEXPECTED_TYPE', message: 'is not a non-empty array', path: 'records' },
        ]);
      const next: StoredRecord[] = [];
      for (const [i, item] of body.entries()) {
        const r = item as { data?: unknown; ttl?: unknown };
        if (typeof r?.data !== 'string' || r.data === '')
          return fail(422, 'INVALID_BODY', "Request body doesn't fulfill schema, see details in `fields`", [
            { code: 'MISSING_REQUIRED', message: 'is required', path: `records[${i}].data` },
          ]);
        const ttl = r.ttl ?? 3600;
        if (!Number.isInteger(ttl) || (ttl as number) < MIN_TTL)
          return fail(422, 'INVALID_BODY', "Request body doesn't fulfill schema, see details in `fields`", [
            { code: 'UNEXPECTED_TYPE', message: `must be at least ${MIN_TTL}`, path: `records[${i}].ttl` },
          ]);
        next.push({ domain, name, type, data: r.data, ttl: ttl as number });
      }
      records = [...records.filter((r) => !here(r)), ...next];
      return { status: 200, text: '' };
    }
    return fail(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const at = (fqdn: string) =>
    records.filter(
      (r) => r.type === 'TXT' && (r.name === '@' ? r.domain : `${r.name}.${r.domain}`) === nameKey(fqdn),
    );
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) => at(fqdn).map((r) => r.data),
    ttls: (fqdn) => at(fqdn).map((r) => r.ttl),
    failNext: server.failNext,
    close: server.close,
  };
}
