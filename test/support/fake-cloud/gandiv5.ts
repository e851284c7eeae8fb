import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeGandiOptions {
  readonly ca: TestCa;
  /** Domains on LiveDNS: "example.test". */
  readonly domains: readonly string[];
  /** Personal access tokens; `write: false` lacks the permission to change DNS records. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
  /** Deprecated API keys. */
  readonly apiKeys: readonly string[];
}

export interface FakeGandi {
  /** For GANDIV5_API_URL: https://127.0.0.1:<port>/v5/livedns */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The TTL of the TXT RRset at a name, if any. */
  ttl(fqdn: string): number | undefined;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface RrSet {
  readonly domain: string;
  /** Relative, lower case; "@" at the apex. */
  readonly name: string;
  readonly type: string;
  ttl: number;
  values: string[];
}

const MIN_TTL = 300;
const MAX_TTL = 2_592_000;
/** Gandi's error body: {code, message, object, cause}. */
const fail = (code: number, message: string, object: string, cause: string): FakeReply => ({
  status: code,
  json: { code, message, object, cause },
});
const UNAUTHORIZED = fail(
  401,
  'The server could not verify that you authenticated successfully.',
  'HTTPUnauthorized',
  'Unauthorized',
);
const NOT_FOUND = fail(404, 'The resource could not be found.', 'HTTPNotFound', 'Not Found');
const invalid = (message: string): FakeReply => fail(400, message, 'HTTPBadRequest', 'Bad Request');

/**
 * A fake of the Gandi LiveDNS API as Gandi documents it: "Authorization: Bearer <personal access token>"
 * or the deprecated "Authorization: Apikey <key>", domains at /v5/livedns/domains/{fqdn}, RRsets at
 * …/records/{name}/{type} (GET; POST creates, 409 when it exists; PUT creates or replaces; DELETE), bodies
 * {rrset_ttl (300–2592000), rrset_values (non-empty)}, 201 {"message": "DNS Record Created"}, 403 for a
 * token without the DNS permission, and {code, message, object, cause} errors.
 */
export async function startFakeGandi(o: FakeGandiOptions): Promise<FakeGandi> {
  const domains = new Set(o.domains.map(nameKey));
  const sets: RrSet[] = [];

  function handle(req: RecordedRequest): FakeReply {
    const auth = /^(Bearer|Apikey) (\S+)$/.exec(req.headers.authorization ?? '');
    if (!auth) return UNAUTHORIZED;
    const pat = auth[1] === 'Bearer' ? o.tokens[auth[2]!] : undefined;
    if (auth[1] === 'Bearer' ? !pat : !o.apiKeys.includes(auth[2]!)) return UNAUTHORIZED;
    if (req.method !== 'GET' && pat?.write === false)
      return fail(403, 'Access was denied to this resource.', 'HTTPForbidden', 'Forbidden');

    const parts = /^\/v5\/livedns\/domains\/([^/]+)(?:\/records\/([^/]+)\/([^/]+))?$/.exec(req.path);
    if (!parts) return NOT_FOUND;
    const domain = decodeURIComponent(parts[1]!).toLowerCase();
    if (!domains.has(domain)) return NOT_FOUND;
    if (parts[2] === undefined) {
      if (req.method !== 'GET')
        return fail(405, 'Method not allowed.', 'HTTPMethodNotAllowed', 'Method Not Allowed');
      return {
        status: 200,
        json: {
          fqdn: domain,
          automatic_snapshots: true,
          domain_href: `https://api.gandi.net/v5/livedns/domains/${domain}`,
          domain_records_href: `https://api.gandi.net/v5/livedns/domains/${domain}/records`,
        },
      };
    }
    const name = decodeURIComponent(parts[2]).toLowerCase();
    const type = decodeURIComponent(parts[3]!);
    const i = sets.findIndex((s) => s.domain === domain && s.name === name && s.type === type);
    const set = sets[i];
    const shown = (s: RrSet) => ({
      rrset_name: s.name,
      rrset_type: s.type,
      rrset_ttl: s.ttl,
      rrset_values: s.values,
      rrset_href: `https://api.gandi.net/v5/livedns/domains/${s.domain}/records/${s.name}/${s.type}`,
    });

    if (req.method === 'GET') return set ? { status: 200, json: shown(set) } : NOT_FOUND;
    if (req.method === 'DELETE') {
      if (!set) return NOT_FOUND;
      sets.splice(i, 1);
      return { status: 204 };
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return invalid('The request body must be JSON.');
      const b = jsonBody(req);
      if (!b) return invalid('The request body must be JSON.');
      const values = b.rrset_values;
      if (
        !Array.isArray(values) ||
        values.length === 0 ||
        values.some((v) => typeof v !== 'string' || v === '')
      )
        return invalid('rrset_values: must be a non-empty list of strings');
      const ttl = b.rrset_ttl ?? 10800;
      if (!Number.isInteger(ttl) || (ttl as number) < MIN_TTL || (ttl as number) > MAX_TTL)
        return invalid(`rrset_ttl: must be between ${MIN_TTL} and ${MAX_TTL}`);
      if (req.method === 'POST' && set)
        return fail(409, 'A record with that name / type pair already exists', 'HTTPConflict', 'Conflict');
      if (set) {
        set.ttl = ttl as number;
        set.values = values as string[];
      } else sets.push({ domain, name, type, ttl: ttl as number, values: values as string[] });
      return { status: 201, json: { message: 'DNS Record Created' } };
    }
    return fail(405, 'Method not allowed.', 'HTTPMethodNotAllowed', 'Method Not Allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const find = (fqdn: string) =>
    sets.find(
      (s) => s.type === 'TXT' && (s.name === '@' ? s.domain : `${s.name}.${s.domain}`) === nameKey(fqdn),
    );
  return {
    apiUrl: `${server.origin}/v5/livedns`,
    requests: server.requests,
    values: async (fqdn) => (find(fqdn)?.values ?? []).map((v) => v.replace(/^"(.*)"$/, '$1')),
    ttl: (fqdn) => find(fqdn)?.ttl,
    failNext: server.failNext,
    close: server.close,
  };
}
