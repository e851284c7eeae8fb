import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Infomaniak API v2, DNS zones and records: https://developer.infomaniak.com/docs/api/get/2/zones/%7Bzone%7D/records
// A Bearer access token (scopes dns:read and dns:write). Zones are addressed by name; records by
// `source` relative to the zone ("." at the apex), listed with filter[source] and filter[types][],
// created with POST and deleted by id. Answers are `{result: "success", data}` or
// `{result: "error", error: {code, description, errors}}`.

const CODE = 'infomaniak';
const DEFAULT_API_URL = 'https://api.infomaniak.com';
const PAGE_SIZE = 100;

interface InfomaniakConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

const ok2xxOr404 = (s: number) => (s >= 200 && s < 300) || s === 404;

const api: RestApi<InfomaniakConfig> = {
  code: CODE,
  apiName: 'Infomaniak',
  urlVariable: 'INFOMANIAK_ENDPOINT',
  credentialVariables: 'INFOMANIAK_ACCESS_TOKEN (an API token with the dns:read and dns:write scopes)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: `/2/zones/${encodeURIComponent(zone)}/exists` },
      `check the zone ${zone}`,
      ok2xxOr404,
    );
    if (body.result !== 'success' || body.data !== true)
      throw ctx.fail(
        `zone ${zone} is not managed by the Infomaniak account of INFOMANIAK_ACCESS_TOKEN: check the domain's DNS zone in the Manager`,
      );
    return zone;
  },
  async list(_c, record, zone, ctx) {
    const found: ListedTxt[] = [];
    for (let page = 1; page <= 100; page++) {
      const query = new URLSearchParams({
        'filter[source]': source(record),
        'filter[types][]': 'TXT',
        per_page: String(PAGE_SIZE),
        page: String(page),
      });
      const body = await ctx.json(
        { method: 'GET', path: `${recordsPath(zone)}?${query}` },
        `list the TXT records ${record.fqdn}`,
      );
      const data =
        (body.data as { id?: unknown; source?: unknown; type?: unknown; target?: unknown }[]) ?? [];
      for (const r of data) {
        if (
          r.type === 'TXT' &&
          String(r.source).toLowerCase() === source(record) &&
          typeof r.id === 'number' &&
          typeof r.target === 'string'
        )
          found.push({ id: String(r.id), value: unquoteTxt(r.target) });
      }
      const pages = typeof body.pages === 'number' ? body.pages : undefined;
      if (data.length === 0 || (pages !== undefined ? page >= pages : data.length < PAGE_SIZE)) break;
    }
    return found;
  },
  async create(_c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: recordsPath(zone),
        body: { source: source(record), type: 'TXT', target: record.value, ttl: record.ttl },
      },
      `create the TXT record ${record.fqdn}`,
    );
    if (body.result !== 'success')
      throw ctx.fail(`the Infomaniak API did not create the TXT record ${record.fqdn}`);
    const id = (body.data as { id?: unknown } | undefined)?.id;
    return typeof id === 'number' ? String(id) : undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `${recordsPath(zone)}/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      ok2xxOr404,
    );
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error as
      | { code?: unknown; description?: unknown; errors?: { description?: unknown }[] }
      | undefined;
    if (!error) return undefined;
    const more = Array.isArray(error.errors)
      ? error.errors.map((e) => e.description).filter((d) => typeof d === 'string')
      : [];
    return [`${String(error.code ?? '')}: ${String(error.description ?? '')}`, ...more].join('; ');
  },
};

function recordsPath(zone: string): string {
  return `/2/zones/${encodeURIComponent(zone)}/records`;
}

/** Infomaniak's `source`: the name relative to the zone, "." at the apex. */
function source(record: TxtRecord): string {
  return record.name === '@' ? '.' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Infomaniak',
  description:
    'Adds the TXT records through the Infomaniak API (v2 DNS zones and records), with an API token.',
  docsUrl: 'https://developer.infomaniak.com/docs/api/post/2/zones/%7Bzone%7D/records',
  permissions:
    'INFOMANIAK_ACCESS_TOKEN: an API token (Manager, API tokens) with the dns:read and dns:write scopes.',
  example: [
    'INFOMANIAK_ACCESS_TOKEN=0123456789abcdef \\',
    "  acmekit --dns infomaniak --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'INFOMANIAK',
  // lego's infomaniak defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 120_000, pollingIntervalMs: 10_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'INFOMANIAK_ACCESS_TOKEN',
      description: 'API token (dns:read, dns:write)',
      required: true,
      secret: true,
    },
    { name: 'INFOMANIAK_ENDPOINT', description: 'API base URL', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('INFOMANIAK_ACCESS_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'INFOMANIAK_ENDPOINT', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<InfomaniakConfig>;
