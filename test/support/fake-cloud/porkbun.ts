import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakePorkbunOptions {
  readonly ca: TestCa;
  /** Domains of the account; `api: false` has "API Access" turned off. */
  readonly domains: Readonly<Record<string, { readonly api?: boolean }>>;
  /** API key → secret API key. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface FakePorkbun {
  /** For PORKBUN_API_URL: https://127.0.0.1:<port>/api/json/v3 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  ttls(fqdn: string): number[];
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domain: string;
  /** The full name, lower case, without the final dot. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

const MIN_TTL = 600;
const TYPES = new Set([
  'A',
  'MX',
  'CNAME',
  'ALIAS',
  'TXT',
  'NS',
  'AAAA',
  'SRV',
  'TLSA',
  'CAA',
  'HTTPS',
  'SVCB',
]);
/** Porkbun's error body. */
const error = (status: number, message: string): FakeReply => ({
  status,
  json: { status: 'ERROR', message },
});

/**
 * A fake of the Porkbun API v3 DNS calls as Porkbun documents them: POST only, JSON bodies carrying
 * "apikey" and "secretapikey" (or the X-API-Key / X-Secret-API-Key headers), /dns/retrieveByNameType/
 * {domain}/{type}/[{subdomain}], /dns/create/{domain} (type and content required; ttl raised to 600),
 * /dns/delete/{domain}/{id}; answers {"status": "SUCCESS", …} or {"status": "ERROR", "message": …}, and
 * domains without API access refused.
 */
export async function startFakePorkbun(o: FakePorkbunOptions): Promise<FakePorkbun> {
  const domains = new Map(Object.entries(o.domains).map(([d, v]) => [nameKey(d), v.api !== false]));
  const records = new Map<number, StoredRecord>();
  let nextId = 106_926_000;

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return error(405, 'All API calls use POST.');
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return error(400, 'The request body must be JSON.');
    const b = jsonBody(req);
    if (!b) return error(400, 'The request body must be JSON.');
    const key = b.apikey ?? req.headers['x-api-key'];
    const secretKey = b.secretapikey ?? req.headers['x-secret-api-key'];
    if (typeof key !== 'string' || typeof secretKey !== 'string' || o.keys[key] !== secretKey)
      return error(403, 'Invalid API key. (002)');

    const parts =
      /^\/api\/json\/v3\/dns\/(retrieveByNameType|create|delete)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(
        req.path,
      );
    if (!parts) return error(404, 'Invalid endpoint.');
    const domain = decodeURIComponent(parts[2]!).toLowerCase();
    const access = domains.get(domain);
    if (access === undefined) return error(400, 'Invalid domain.');
    if (!access) return error(400, 'Domain is not opted in to API access.');

    if (parts[1] === 'retrieveByNameType') {
      if (parts[3] === undefined) return error(400, 'Invalid type.');
      const type = decodeURIComponent(parts[3]);
      const sub = parts[4] === undefined ? '' : decodeURIComponent(parts[4]).toLowerCase();
      const name = sub ? `${sub}.${domain}` : domain;
      const found = [...records.values()].filter(
        (r) => r.domain === domain && r.type === type && r.name === name,
      );
      return {
        status: 200,
        json: {
          status: 'SUCCESS',
          cloudflare: 'disabled',
          records: found.map((r) => ({
            id: String(r.id),
            name: r.name,
            type: r.type,
            content: r.content,
            ttl: String(r.ttl),
            prio: '0',
            notes: '',
          })),
        },
      };
    }
    if (parts[1] === 'create') {
      if (parts[3] !== undefined) return error(404, 'Invalid endpoint.');
      if (typeof b.type !== 'string' || !TYPES.has(b.type)) return error(400, 'Invalid type.');
      if (typeof b.content !== 'string' || b.content === '') return error(400, 'Content is required.');
      const sub = b.name === undefined ? '' : b.name;
      if (typeof sub !== 'string' || sub.endsWith('.') || sub.endsWith(domain))
        return error(400, 'Invalid name.');
      const ttl = b.ttl === undefined ? MIN_TTL : Number(b.ttl);
      if (!Number.isInteger(ttl)) return error(400, 'Invalid TTL.');
      const stored: StoredRecord = {
        id: nextId++,
        domain,
        name: sub ? `${sub.toLowerCase()}.${domain}` : domain,
        type: b.type,
        content: b.content,
        ttl: Math.max(MIN_TTL, ttl),
      };
      records.set(stored.id, stored);
      return { status: 200, json: { status: 'SUCCESS', id: stored.id } };
    }
    // delete
    const r = parts[3] === undefined ? undefined : records.get(Number(decodeURIComponent(parts[3])));
    if (!r || r.domain !== domain || parts[4] !== undefined) return error(400, 'Invalid record ID.');
    records.delete(r.id);
    return { status: 200, json: { status: 'SUCCESS' } };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const at = (fqdn: string) =>
    [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn));
  return {
    apiUrl: `${server.origin}/api/json/v3`,
    requests: server.requests,
    values: async (fqdn) => at(fqdn).map((r) => r.content),
    ttls: (fqdn) => at(fqdn).map((r) => r.ttl),
    failNext: server.failNext,
    close: server.close,
  };
}
