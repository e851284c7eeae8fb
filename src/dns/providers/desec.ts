import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// deSEC DNS API: https://desec.readthedocs.io/en/latest/dns/rrsets.html
// "Authorization: Token …"; records live in RRsets (one set of values per subname and type): a value is
// added by writing the set with it and removed by writing the set without it, and an empty set deletes
// the RRset. TXT values are given in zone-file form, in double quotes. A TTL below the domain's
// minimum_ttl is refused by deSEC, so it is raised to that minimum.

const CODE = 'desec';
const DEFAULT_API_URL = 'https://desec.io/api/v1';

interface DesecConfig {
  readonly token: Secret;
  readonly apiUrl: string;
  /** Domain → its minimum_ttl, learnt when the domain is first looked up. */
  readonly minimumTtl: Map<string, number>;
}

interface RrSet {
  readonly subname?: unknown;
  readonly type?: unknown;
  readonly records?: unknown;
}

const api: RestApi<DesecConfig> = {
  code: CODE,
  apiName: 'deSEC',
  urlVariable: 'DESEC_API_URL',
  credentialVariables: 'DESEC_TOKEN',
  oneWriterPerName: true,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Token ${c.token.reveal()}` }),
  async zoneRef(c, zone, ctx) {
    // 404 is a domain this token does not own: said in words below rather than as a bare 404.
    const body = await ctx.json(
      { method: 'GET', path: `/domains/${encodeURIComponent(zone)}/` },
      `read the domain ${zone}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    if (typeof body.name !== 'string')
      throw ctx.fail(
        `domain ${zone} is not in the deSEC account of DESEC_TOKEN (or the token may not use it)`,
      );
    if (typeof body.minimum_ttl === 'number') c.minimumTtl.set(zone, body.minimum_ttl);
    return zone;
  },
  async list(_c, record, domain, ctx) {
    return (await currentSet(record, domain, ctx)).map((raw) => ({ id: raw, value: unquoteTxt(raw) }));
  },
  async create(c, record, domain, ctx) {
    const current = await currentSet(record, domain, ctx);
    const quoted = `"${record.value}"`;
    if (current.some((raw) => unquoteTxt(raw) === record.value)) return quoted;
    if (current.length === 0) {
      await ctx.json(
        {
          method: 'POST',
          path: `/domains/${encodeURIComponent(domain)}/rrsets/`,
          body: {
            subname: subname(record),
            type: 'TXT',
            ttl: Math.max(record.ttl, c.minimumTtl.get(domain) ?? 0),
            records: [quoted],
          },
        },
        `create the TXT record ${record.fqdn}`,
      );
    } else {
      await writeSet(
        record,
        domain,
        [...current, quoted],
        ctx,
        `add a value to the TXT record ${record.fqdn}`,
      );
    }
    return quoted;
  },
  async remove(_c, record, domain, _id, ctx) {
    const current = await currentSet(record, domain, ctx);
    const keep = current.filter((raw) => unquoteTxt(raw) !== record.value);
    if (keep.length === current.length) return; // already gone
    // An empty set deletes the RRset (204).
    await writeSet(record, domain, keep, ctx, `remove a value from the TXT record ${record.fqdn}`);
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    if (typeof json.detail === 'string') return json.detail;
    // Validation errors: {"field": ["message", …], …}.
    const parts = Object.entries(json).map(
      ([field, v]) => `${field}: ${Array.isArray(v) ? v.map((x) => String(x)).join(' ') : JSON.stringify(v)}`,
    );
    return parts.length > 0 ? parts.join('; ') : undefined;
  },
};

/** The TXT values at the record's name as deSEC lists them (quoted), [] when there is no RRset. */
async function currentSet(record: TxtRecord, domain: string, ctx: RestCallContext): Promise<string[]> {
  const query = new URLSearchParams({ subname: subname(record), type: 'TXT' });
  const sets = await ctx.jsonArray(
    { method: 'GET', path: `/domains/${encodeURIComponent(domain)}/rrsets/?${query}` },
    `list the TXT records of ${record.fqdn}`,
  );
  const values: string[] = [];
  for (const s of sets as RrSet[]) {
    if (s.type !== 'TXT' || String(s.subname ?? '').toLowerCase() !== subname(record)) continue;
    for (const raw of Array.isArray(s.records) ? s.records : [])
      if (typeof raw === 'string') values.push(raw);
  }
  return values;
}

/** Writes the whole set at the record's name; an empty one deletes the RRset. */
async function writeSet(
  record: TxtRecord,
  domain: string,
  records: string[],
  ctx: RestCallContext,
  what: string,
): Promise<void> {
  // deSEC addresses the apex as "@" in a URL (its subname is empty).
  const inUrl = subname(record) === '' ? '@' : encodeURIComponent(subname(record));
  await ctx.json(
    {
      method: 'PATCH',
      path: `/domains/${encodeURIComponent(domain)}/rrsets/${inUrl}/TXT/`,
      body: { records },
    },
    what,
  );
}

/** deSEC's subname: relative to the domain, lower case, empty at the apex. */
function subname(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'deSEC.io',
  description:
    'Adds the TXT records through the deSEC DNS API (RRsets: the value is added to or removed from the set at the name).',
  docsUrl: 'https://desec.readthedocs.io/en/latest/dns/rrsets.html',
  permissions: 'DESEC_TOKEN: a deSEC token that may write the RRsets of the domain.',
  example: [
    'DESEC_TOKEN=desectoken \\',
    "  acmekit --dns desec --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DESEC',
  // lego's desec defaults.
  defaults: { ttl: 3600, propagationTimeoutMs: 120_000, pollingIntervalMs: 4_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'DESEC_TOKEN', description: 'deSEC API token', required: true, secret: true },
    { name: 'DESEC_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('DESEC_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'DESEC_API_URL', DEFAULT_API_URL),
      minimumTtl: new Map<string, number>(),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<DesecConfig>;
