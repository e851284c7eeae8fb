import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Gcore Managed DNS API v2: https://api.gcore.com/docs/dns
// "Authorization: APIKey <permanent token>". A name and type hold one RRset whose resource_records each
// carry a `content` array; POST creates an RRset, PUT replaces it, DELETE removes it. TXT values are
// added to and removed from the set (read, change, write), so other values at the name survive.

const CODE = 'gcore';
const DEFAULT_API_URL = 'https://api.gcore.com/dns';

interface GcoreConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

interface ResourceRecord {
  readonly content?: unknown;
  readonly [k: string]: unknown;
}
interface RRset {
  readonly ttl?: number;
  readonly resource_records: ResourceRecord[];
}

/** The RRset path: the zone, then the record's full name without the trailing dot. */
function rrsetPath(zone: string, record: TxtRecord): string {
  return `/v2/zones/${encodeURIComponent(zone)}/${encodeURIComponent(unFqdn(record.fqdn).toLowerCase())}/TXT`;
}

function txtOf(r: ResourceRecord): string | undefined {
  return Array.isArray(r.content) && typeof r.content[0] === 'string' ? r.content[0] : undefined;
}

/** The RRset at the name, or undefined when there is none (404). */
async function readRRset(zone: string, record: TxtRecord, ctx: RestCallContext): Promise<RRset | undefined> {
  const what = `read the TXT records of ${record.fqdn}`;
  const res = await ctx.send({ method: 'GET', path: rrsetPath(zone, record) });
  if (res.status === 404) return undefined;
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  const body = parseJsonObject(res.body);
  if (!body) throw ctx.fail(`the Gcore DNS API answered ${what} with something other than JSON`);
  return {
    ...(typeof body.ttl === 'number' ? { ttl: body.ttl } : {}),
    resource_records: Array.isArray(body.resource_records) ? (body.resource_records as ResourceRecord[]) : [],
  };
}

const api: RestApi<GcoreConfig> = {
  // One TXT set per name, read and written back whole: writes at one name take turns.
  oneWriterPerName: true,
  code: CODE,
  apiName: 'Gcore DNS',
  urlVariable: 'GCORE_API_URL',
  credentialVariables: 'GCORE_PERMANENT_API_TOKEN (a permanent API token allowed to manage DNS)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `APIKey ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const res = await ctx.send({ method: 'GET', path: `/v2/zones/${encodeURIComponent(zone)}` });
    if (res.status === 404)
      throw ctx.fail(
        `zone ${zone} is not in the Gcore account of GCORE_PERMANENT_API_TOKEN: add it under DNS`,
      );
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `find the zone ${zone}`);
    return zone;
  },
  async list(_c, record, zone, ctx) {
    const rrset = await readRRset(zone, record, ctx);
    return (rrset?.resource_records ?? [])
      .map(txtOf)
      .filter((v): v is string => v !== undefined)
      .map((value) => ({ id: value, value }));
  },
  async create(_c, record, zone, ctx) {
    const rrset = await readRRset(zone, record, ctx);
    const add = { content: [record.value], enabled: true };
    if (!rrset) {
      await ctx.json(
        { method: 'POST', path: rrsetPath(zone, record), body: { ttl: record.ttl, resource_records: [add] } },
        `create the TXT record ${record.fqdn}`,
      );
    } else if (!rrset.resource_records.some((r) => txtOf(r) === record.value)) {
      await ctx.json(
        {
          method: 'PUT',
          path: rrsetPath(zone, record),
          body: { ttl: rrset.ttl ?? record.ttl, resource_records: [...rrset.resource_records, add] },
        },
        `add a value to the TXT records of ${record.fqdn}`,
      );
    }
    return record.value;
  },
  async remove(_c, record, zone, value, ctx) {
    const rrset = await readRRset(zone, record, ctx);
    if (!rrset) return;
    const rest = rrset.resource_records.filter((r) => txtOf(r) !== value);
    if (rest.length === rrset.resource_records.length) return;
    if (rest.length === 0) {
      await ctx.json(
        { method: 'DELETE', path: rrsetPath(zone, record) },
        `delete the TXT record ${record.fqdn}`,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
      return;
    }
    await ctx.json(
      {
        method: 'PUT',
        path: rrsetPath(zone, record),
        body: { ttl: rrset.ttl ?? record.ttl, resource_records: rest },
      },
      `remove a value from the TXT records of ${record.fqdn}`,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'Gcore',
  description: 'Adds the TXT records through the Gcore Managed DNS API v2, with a permanent API token.',
  docsUrl: 'https://api.gcore.com/docs/dns',
  permissions: 'GCORE_PERMANENT_API_TOKEN: a permanent API token of a user who may manage the DNS zones.',
  example: [
    'GCORE_PERMANENT_API_TOKEN=xxxxx \\',
    "  acmekit --dns gcore --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'GCORE',
  // lego's gcore defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 360_000, pollingIntervalMs: 20_000, httpTimeoutMs: 10_000 },
  env: [
    {
      name: 'GCORE_PERMANENT_API_TOKEN',
      description: 'permanent API token',
      required: true,
      secret: true,
    },
    { name: 'GCORE_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('GCORE_PERMANENT_API_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'GCORE_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<GcoreConfig>;
