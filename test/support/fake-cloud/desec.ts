import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDesecOptions {
  readonly ca: TestCa;
  /** Domains of the account with their minimum TTL (deSEC's default is 3600). */
  readonly domains: Readonly<Record<string, { readonly minimumTtl?: number }>>;
  /** Tokens the fake accepts. */
  readonly tokens: readonly string[];
}

export interface FakeDesec {
  /** For DESEC_API_URL: https://127.0.0.1:<port>/api/v1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** TXT values at a name, without the zone-file quotes. */
  values(fqdn: string): Promise<string[]>;
  /** The TTL of the TXT RRset at a name, if any. */
  ttl(fqdn: string): number | undefined;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface RrSet {
  readonly domain: string;
  readonly subname: string;
  readonly type: string;
  ttl: number;
  records: string[];
  readonly created: string;
  touched: string;
}

const MAX_TTL = 604_800;
const detail = (status: number, text: string): FakeReply => ({ status, json: { detail: text } });
const invalid = (field: string, text: string): FakeReply => ({ status: 400, json: { [field]: [text] } });
/** One or more zone-file character-strings: "…" "…". */
const TXT_PRESENTATION = /^"(?:[^"\\]|\\.){0,255}"(?:\s+"(?:[^"\\]|\\.){0,255}")*$/;

/**
 * A fake of the deSEC DNS API as deSEC documents it: "Authorization: Token …", domains at
 * /api/v1/domains/{name}/ with their minimum_ttl, RRsets listed at …/rrsets/ (filters `subname` and
 * `type`), created by POST (type upper case; ttl between the domain's minimum_ttl and one week; records
 * required; 400 for an RRset that already exists), changed by PATCH/PUT at …/rrsets/{subname}/{type}/
 * (the apex as "@" or with the "…" suffix), an empty records array deleting the RRset (204). TXT contents
 * are kept in canonical zone-file form (a bare word gets its quotes). Errors are {"detail": …} or
 * {"field": ["…"]}.
 */
export async function startFakeDesec(o: FakeDesecOptions): Promise<FakeDesec> {
  const domains = new Map(Object.entries(o.domains).map(([d, v]) => [nameKey(d), v.minimumTtl ?? 3600]));
  const sets: RrSet[] = [];

  const shown = (s: RrSet) => ({
    created: s.created,
    domain: s.domain,
    subname: s.subname,
    name: `${s.subname ? `${s.subname}.` : ''}${s.domain}.`,
    type: s.type,
    records: s.records,
    ttl: s.ttl,
    touched: s.touched,
  });

  /** Canonical TXT contents, or an error reply. */
  function txtRecords(records: unknown): string[] | FakeReply {
    if (!Array.isArray(records)) return invalid('records', 'Expected a list of items.');
    const out: string[] = [];
    for (const r of records) {
      if (typeof r !== 'string') return invalid('records', 'Not a valid string.');
      const canonical = r.startsWith('"') ? r : `"${r}"`;
      if (!TXT_PRESENTATION.test(canonical)) return invalid('records', `Cannot parse record contents: ${r}`);
      if (out.includes(canonical)) return invalid('records', `Duplicate record content: ${r}`);
      out.push(canonical);
    }
    return out;
  }

  function checkTtl(ttl: unknown, minimum: number): FakeReply | undefined {
    if (!Number.isInteger(ttl)) return invalid('ttl', 'A valid integer is required.');
    if ((ttl as number) < minimum)
      return invalid('ttl', `Ensure this value is greater than or equal to ${minimum}.`);
    if ((ttl as number) > MAX_TTL)
      return invalid('ttl', `Ensure this value is less than or equal to ${MAX_TTL}.`);
    return undefined;
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Token (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !o.tokens.includes(m[1]!)) return detail(401, 'Invalid token.');
    const parts = /^\/api\/v1\/domains\/([^/]+)\/(?:rrsets\/(?:([^/]*)\/([^/]+)\/)?)?$/.exec(req.path);
    if (!parts) return detail(404, 'Not found.');
    const domain = decodeURIComponent(parts[1]!).toLowerCase();
    const minimum = domains.get(domain);
    if (minimum === undefined) return detail(404, 'Not found.');
    const now = new Date().toISOString();

    // The domain itself.
    if (!req.path.includes('/rrsets/')) {
      if (req.method !== 'GET') return detail(405, `Method "${req.method}" not allowed.`);
      return {
        status: 200,
        json: { name: domain, minimum_ttl: minimum, created: now, published: now, touched: now },
      };
    }
    // The RRset collection.
    if (parts[3] === undefined) {
      if (req.method === 'GET') {
        const subname = req.query.get('subname');
        const type = req.query.get('type');
        const all = sets.filter(
          (s) =>
            s.domain === domain &&
            (subname === null || s.subname === subname) &&
            (type === null || s.type === type),
        );
        if (all.length > 500 && !req.query.has('cursor'))
          return detail(400, 'Pagination required. You can query up to 500 items at a time.');
        return { status: 200, json: all.map(shown) };
      }
      if (req.method === 'POST') {
        if (!String(req.headers['content-type']).startsWith('application/json'))
          return detail(415, 'Unsupported media type in request.');
        const b = jsonBody(req);
        if (!b) return detail(400, 'JSON parse error.');
        if (typeof b.type !== 'string' || b.type === '') return invalid('type', 'This field is required.');
        if (b.type !== b.type.toUpperCase()) return invalid('type', 'Type must be uppercase.');
        const subname = b.subname === undefined ? '' : b.subname;
        if (typeof subname !== 'string' || !/^(\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]*$/.test(subname))
          return invalid('subname', 'Subname can only use (lowercase) a-z, 0-9, ., -, and _.');
        if (b.ttl === undefined) return invalid('ttl', 'This field is required.');
        const badTtl = checkTtl(b.ttl, minimum);
        if (badTtl) return badTtl;
        if (b.records === undefined) return invalid('records', 'This field is required.');
        const records = b.type === 'TXT' ? txtRecords(b.records) : (b.records as string[]);
        if (!Array.isArray(records)) return records;
        if (sets.some((s) => s.domain === domain && s.subname === subname && s.type === b.type))
          return {
            status: 400,
            json: {
              non_field_errors: ['Another RRset with the same subdomain and type exists for this domain.'],
            },
          };
        if (records.length === 0) return { status: 201, json: [] };
        const set: RrSet = {
          domain,
          subname,
          type: b.type,
          ttl: b.ttl as number,
          records,
          created: now,
          touched: now,
        };
        sets.push(set);
        return { status: 201, json: shown(set) };
      }
      return detail(405, `Method "${req.method}" not allowed.`);
    }
    // One RRset: …/rrsets/{subname}/{type}/, the apex as "@" or "…".
    let subname = decodeURIComponent(parts[2]!);
    if (subname === '@') subname = '';
    else if (subname.endsWith('...')) subname = subname.slice(0, -3);
    const type = decodeURIComponent(parts[3]);
    const i = sets.findIndex((s) => s.domain === domain && s.subname === subname && s.type === type);
    const set = sets[i];
    if (!set) return detail(404, 'Not found.');
    if (req.method === 'GET') return { status: 200, json: shown(set) };
    if (req.method === 'DELETE') {
      sets.splice(i, 1);
      return { status: 204 };
    }
    if (req.method === 'PATCH' || req.method === 'PUT') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return detail(415, 'Unsupported media type in request.');
      const b = jsonBody(req);
      if (!b) return detail(400, 'JSON parse error.');
      if (req.method === 'PUT') {
        for (const f of ['subname', 'type', 'ttl', 'records'])
          if (b[f] === undefined) return invalid(f, 'This field is required.');
      }
      if (b.ttl !== undefined) {
        const badTtl = checkTtl(b.ttl, minimum);
        if (badTtl) return badTtl;
      }
      if (b.records !== undefined) {
        const records = type === 'TXT' ? txtRecords(b.records) : (b.records as string[]);
        if (!Array.isArray(records)) return records;
        if (records.length === 0) {
          sets.splice(i, 1);
          return { status: 204 };
        }
        set.records = records;
      }
      if (b.ttl !== undefined) set.ttl = b.ttl as number;
      set.touched = now;
      return { status: 200, json: shown(set) };
    }
    return detail(405, `Method "${req.method}" not allowed.`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const find = (fqdn: string) =>
    sets.find(
      (s) => s.type === 'TXT' && (s.subname ? `${s.subname}.${s.domain}` : s.domain) === nameKey(fqdn),
    );
  return {
    apiUrl: `${server.origin}/api/v1`,
    requests: server.requests,
    values: async (fqdn) => (find(fqdn)?.records ?? []).map((r) => r.slice(1, -1)),
    ttl: (fqdn) => find(fqdn)?.ttl,
    failNext: server.failNext,
    close: server.close,
  };
}
