import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeTechnitiumOptions {
  readonly ca: TestCa;
  /** Primary zones on the server: "example.test". */
  readonly zones: readonly string[];
  /** API tokens; `modify: false` belongs to a user who may only view the zones. */
  readonly tokens: Readonly<Record<string, { readonly modify?: boolean }>>;
  /** Accept the token only in the Authorization header (version 15 and later) or only as the form field (earlier). */
  readonly tokenIn?: 'header' | 'form' | 'either';
}

export interface FakeTechnitium {
  /** For TECHNITIUM_SERVER_BASE_URL: https://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredTxt {
  readonly name: string;
  readonly text: string;
  readonly ttl: number;
}

/** Thrown inside a handler: becomes Technitium's HTTP 200 {status: "error", errorMessage} answer. */
class ApiError extends Error {
  readonly status: 'error' | 'invalid-token';
  constructor(message: string, status: 'error' | 'invalid-token' = 'error') {
    super(message);
    this.status = status;
  }
}

const DEFAULT_TTL = 3600;

/**
 * A fake of the Technitium DNS Server HTTP API record calls as its APIDOCS.md describes them:
 * /api/zones/records/get, /add and /delete by GET or POST (a POST body must be a form with the
 * application/x-www-form-urlencoded content type), the token as "Authorization: Bearer" or the "token"
 * parameter, every answer HTTP 200 with status ok / error / invalid-token and errorMessage, the zone
 * parameter naming an existing zone (otherwise the closest one), a TXT text required, an identical
 * record added only once, and "Cannot delete record: no such record exists." for a missing one.
 */
export async function startFakeTechnitium(o: FakeTechnitiumOptions): Promise<FakeTechnitium> {
  const zones = new Set(o.zones.map(nameKey));
  const records: StoredTxt[] = [];
  const tokenIn = o.tokenIn ?? 'either';

  function params(req: RecordedRequest): URLSearchParams {
    const all = new URLSearchParams(req.query);
    if (req.method === 'POST' && req.body !== '') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        throw new ApiError('Content-Type must be application/x-www-form-urlencoded for form data.');
      for (const [k, v] of new URLSearchParams(req.body)) all.append(k, v);
    }
    return all;
  }

  function required(p: URLSearchParams, name: string): string {
    const v = p.get(name);
    if (v === null || v === '') throw new ApiError(`Parameter '${name}' missing.`);
    return v;
  }

  function session(req: RecordedRequest, p: URLSearchParams): { modify: boolean } {
    const header = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]?.trim();
    const token =
      tokenIn === 'form' ? p.get('token') : tokenIn === 'header' ? header : (header ?? p.get('token'));
    const found = token ? o.tokens[token] : undefined;
    if (!found) throw new ApiError('Invalid token or session expired.', 'invalid-token');
    return { modify: found.modify !== false };
  }

  /** The zone a call is about: the one named, or the closest that holds the domain. */
  function zoneOf(p: URLSearchParams, domain: string): string {
    const named = p.get('zone');
    const zone = named
      ? nameKey(named)
      : [...zones]
          .filter((z) => domain === z || domain.endsWith(`.${z}`))
          .sort((a, b) => b.length - a.length)[0];
    if (!zone || !zones.has(zone)) throw new ApiError(`No such zone was found: ${named ?? domain}`);
    if (domain !== zone && !domain.endsWith(`.${zone}`))
      throw new ApiError(`The domain name does not belong to the zone: ${domain}`);
    return zone;
  }

  function handle(req: RecordedRequest): FakeReply {
    const action = /^\/api\/zones\/records\/(get|add|delete)$/.exec(req.path)?.[1];
    if (!action) return { status: 404, text: '' };
    if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, text: '' };
    try {
      const p = params(req);
      const user = session(req, p);
      const domain = nameKey(required(p, 'domain'));
      const zone = zoneOf(p, domain);
      if (action === 'get') {
        const found = records
          .filter((r) => r.name === domain)
          .map((r) => ({
            disabled: false,
            name: r.name,
            type: 'TXT',
            ttl: r.ttl,
            rData: { text: r.text, splitText: false, characterStrings: [r.text] },
            dnssecStatus: 'Unknown',
          }));
        return ok({
          zone: { name: zone, type: 'Primary', internal: false, disabled: false },
          records: found,
        });
      }
      if (!user.modify) throw new ApiError('Access was denied.');
      const type = required(p, 'type').toUpperCase();
      if (type !== 'TXT') throw new ApiError(`This fake serves TXT records only, got ${type}.`);
      const text = p.get('text') ?? p.get('value');
      if (text === null || text === '') throw new ApiError("Parameter 'text' missing.");
      if (action === 'add') {
        const ttlRaw = p.get('ttl');
        const ttl = ttlRaw === null ? DEFAULT_TTL : Number(ttlRaw);
        if (!Number.isInteger(ttl) || ttl < 0) throw new ApiError(`Invalid TTL value: ${ttlRaw}`);
        if (p.get('overwrite') === 'true') {
          for (let i = records.length - 1; i >= 0; i--) if (records[i]!.name === domain) records.splice(i, 1);
        }
        const added = records.some((r) => r.name === domain && r.text === text)
          ? undefined
          : { name: domain, text, ttl };
        if (added) records.push(added);
        return ok({
          zone: { name: zone, type: 'Primary', internal: false, disabled: false },
          addedRecord: {
            disabled: false,
            name: domain,
            type: 'TXT',
            ttl,
            rData: { text, splitText: false, characterStrings: [text] },
          },
        });
      }
      const i = records.findIndex((r) => r.name === domain && r.text === text);
      if (i < 0) throw new ApiError('Cannot delete record: no such record exists.');
      records.splice(i, 1);
      return ok({});
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return {
        status: 200,
        json: {
          server: 'fake-technitium',
          status: err.status,
          errorMessage: err.message,
          ...(err.status === 'error' ? { stackTrace: '   at DnsServerCore.WebServiceZonesApi (fake)' } : {}),
        },
      };
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    baseUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) => records.filter((r) => r.name === nameKey(fqdn)).map((r) => r.text),
    failNext: server.failNext,
    close: server.close,
  };
}

function ok(response: unknown): FakeReply {
  return { status: 200, json: { server: 'fake-technitium', response, status: 'ok' } };
}
