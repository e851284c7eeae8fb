import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Scaleway Domains and DNS API v2beta1: https://www.scaleway.com/en/developers/api/domains-and-dns/
// The secret key of an API key in the X-Auth-Token header. Records of a DNS zone are listed with
// GET /domain/v2beta1/dns-zones/{dns_zone}/records (filtered by name and type, paged) and changed with
// PATCH on the same path: an `add` change adds one record, a `delete` change removes one by id, and
// other records at the name are untouched. TXT data is a quoted string.

const CODE = 'scaleway';
const DEFAULT_API_URL = 'https://api.scaleway.com';
/** lego raises shorter TTLs to 60 s. */
const MIN_TTL = 60;
const PAGE_SIZE = 100;

interface ScalewayConfig {
  readonly secretKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<ScalewayConfig> = {
  code: CODE,
  apiName: 'Scaleway',
  urlVariable: 'SCW_API_URL',
  credentialVariables: 'SCW_SECRET_KEY (the secret key of an API key allowed DomainsDNSFullAccess)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.secretKey],
  authorize: (c, req) => withHeaders(req, { 'x-auth-token': c.secretKey.reveal() }),
  async list(_c, record, zone, ctx) {
    const found: ListedTxt[] = [];
    let seen = 0;
    for (let page = 1; page <= 100; page++) {
      const query = new URLSearchParams({
        name: relative(record),
        type: 'TXT',
        page: String(page),
        page_size: String(PAGE_SIZE),
      });
      const body = await ctx.json(
        { method: 'GET', path: `${recordsPath(zone)}?${query}` },
        `list the TXT records ${record.fqdn}`,
      );
      const records =
        (body.records as { id?: unknown; name?: unknown; type?: unknown; data?: unknown }[]) ?? [];
      for (const r of records) {
        if (
          r.type === 'TXT' &&
          String(r.name).toLowerCase() === relative(record) &&
          typeof r.id === 'string' &&
          typeof r.data === 'string'
        )
          found.push({ id: r.id, value: unquoteTxt(r.data) });
      }
      seen += records.length;
      if (records.length === 0 || seen >= Number(body.total_count ?? 0)) break;
    }
    return found;
  },
  async create(_c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'PATCH',
        path: recordsPath(zone),
        body: {
          changes: [
            {
              add: {
                records: [
                  {
                    name: relative(record),
                    type: 'TXT',
                    data: `"${record.value}"`,
                    ttl: Math.max(MIN_TTL, record.ttl),
                    priority: 0,
                    comment: 'acmekit dns-01',
                  },
                ],
              },
            },
          ],
          return_all_records: false,
          disallow_new_zone_creation: true,
        },
      },
      `add the TXT record ${record.fqdn}`,
    );
    const added = (body.records as { id?: unknown; data?: unknown }[] | undefined)?.find(
      (r) => typeof r.data === 'string' && unquoteTxt(r.data) === record.value,
    );
    return typeof added?.id === 'string' ? added.id : undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      {
        method: 'PATCH',
        path: recordsPath(zone),
        body: { changes: [{ delete: { id } }], return_all_records: false, disallow_new_zone_creation: true },
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const details = Array.isArray(json.details) ? (json.details as Record<string, unknown>[]) : [];
    const first = details[0];
    const extra = first
      ? ` (${[first.argument_name ?? first.resource, first.help_message ?? first.reason ?? first.action]
          .filter((x) => typeof x === 'string')
          .join(': ')})`
      : '';
    return [json.type, json.message].filter((x) => typeof x === 'string').join(': ') + extra;
  },
};

function recordsPath(zone: string): string {
  return `/domain/v2beta1/dns-zones/${encodeURIComponent(zone)}/records`;
}

/** Scaleway names records relative to the DNS zone; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Scaleway Domains and DNS',
  description:
    'Adds the TXT records through the Scaleway Domains and DNS API (v2beta1), with the secret key of an API key.',
  docsUrl: 'https://www.scaleway.com/en/developers/api/domains-and-dns/',
  permissions:
    'SCW_SECRET_KEY: the secret key of an API key whose IAM policy allows DomainsDNSFullAccess in the ' +
    'project of the zone.',
  example: [
    'SCW_SECRET_KEY=11111111-2222-3333-4444-555555555555 \\',
    "  acmekit --dns scaleway --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  // lego reads SCALEWAY_TTL, _PROPAGATION_TIMEOUT and _POLLING_INTERVAL, then the SCW_ names it documents.
  envPrefix: 'SCALEWAY',
  envPrefixFallbacks: ['SCW'],
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 10_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'SCW_SECRET_KEY',
      fallbacks: ['SCALEWAY_API_TOKEN'],
      description: 'secret key of a Scaleway API key',
      required: true,
      secret: true,
    },
    {
      name: 'SCW_ACCESS_KEY',
      description: 'access key of the API key; not needed by the records API (accepted, as by lego)',
    },
    {
      name: 'SCW_PROJECT_ID',
      fallbacks: ['SCALEWAY_PROJECT_ID'],
      description: 'project of the zone; not needed by the records API (accepted, as by lego)',
    },
    { name: 'SCW_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      secretKey: env.requiredSecret('SCW_SECRET_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'SCW_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<ScalewayConfig>;
