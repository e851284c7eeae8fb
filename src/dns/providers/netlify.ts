import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Netlify API v1, DNS zones: https://open-api.netlify.com/#tag/dnsZone
// Bearer personal access token; the zone's id comes from the list of DNS zones, records are listed per
// zone and named by their full hostname.

const CODE = 'netlify';
const DEFAULT_API_URL = 'https://api.netlify.com/api/v1';

interface NetlifyConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

const api: RestApi<NetlifyConfig> = {
  code: CODE,
  apiName: 'Netlify',
  urlVariable: 'NETLIFY_API_URL',
  credentialVariables: 'NETLIFY_TOKEN (a personal access token)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const zones = await ctx.jsonArray({ method: 'GET', path: '/dns_zones' }, 'list the DNS zones');
    const found = (zones as { id?: unknown; name?: unknown }[]).find(
      (z) => String(z?.name).toLowerCase() === zone,
    );
    if (typeof found?.id !== 'string')
      throw ctx.fail(
        `DNS zone ${zone} is not in the Netlify account of NETLIFY_TOKEN: add it under Domains → Netlify DNS`,
      );
    return found.id;
  },
  async list(_c, record, zoneId, ctx) {
    const list = await ctx.jsonArray(
      { method: 'GET', path: `/dns_zones/${encodeURIComponent(zoneId)}/dns_records` },
      `list the records of ${record.zone}`,
    );
    const hostname = hostnameOf(record);
    const found: ListedTxt[] = [];
    for (const r of list as { id?: unknown; type?: unknown; hostname?: unknown; value?: unknown }[]) {
      if (r?.type === 'TXT' && String(r.hostname).toLowerCase() === hostname && typeof r.id === 'string')
        found.push({ id: r.id, value: String(r.value) });
    }
    return found;
  },
  async create(_c, record, zoneId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/dns_zones/${encodeURIComponent(zoneId)}/dns_records`,
        body: { type: 'TXT', hostname: hostnameOf(record), value: record.value, ttl: record.ttl },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'string' ? body.id : undefined;
  },
  async remove(_c, record, zoneId, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      {
        method: 'DELETE',
        path: `/dns_zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(id)}`,
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

/** Netlify names a record by its full name, without the final dot. */
function hostnameOf(record: TxtRecord): string {
  return unFqdn(record.fqdn).toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Netlify',
  description:
    'Adds the TXT records through the Netlify API (Netlify DNS zones), with a personal access token.',
  docsUrl: 'https://open-api.netlify.com/#tag/dnsZone',
  permissions: 'NETLIFY_TOKEN: a personal access token of a member of the team that owns the DNS zone.',
  example: [
    'NETLIFY_TOKEN=nfp_0123456789 \\',
    "  acmekit --dns netlify --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NETLIFY',
  // lego's netlify defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'NETLIFY_TOKEN', description: 'personal access token', required: true, secret: true },
    { name: 'NETLIFY_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('NETLIFY_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'NETLIFY_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<NetlifyConfig>;
