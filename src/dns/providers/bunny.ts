import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// bunny.net API, DNS zones: https://docs.bunny.net/reference/dnszonepublic_index
// "AccessKey: <account API key>"; the zone's id comes from the zone list (searched by name, in pages);
// the zone's records come with the zone; a record's Type is a number (TXT is 3).

const CODE = 'bunny';
const DEFAULT_API_URL = 'https://api.bunny.net';
const TXT = 3;
const MIN_TTL = 60;
const PAGE_SIZE = 1000;

interface BunnyConfig {
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<BunnyConfig> = {
  code: CODE,
  apiName: 'bunny.net',
  urlVariable: 'BUNNY_API_URL',
  credentialVariables: 'BUNNY_API_KEY (the account API key)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize: (c, req) => withHeaders(req, { accesskey: c.apiKey.reveal() }),
  async zoneRef(_c, zone, ctx) {
    for (let page = 1; page <= 100; page++) {
      const query = new URLSearchParams({ page: String(page), perPage: String(PAGE_SIZE), search: zone });
      const body = await ctx.json({ method: 'GET', path: `/dnszone?${query}` }, 'list the DNS zones');
      const found = ((body.Items as { Id?: unknown; Domain?: unknown }[] | undefined) ?? []).find(
        (z) => String(z?.Domain).toLowerCase() === zone,
      );
      if (typeof found?.Id === 'number') return String(found.Id);
      if (body.HasMoreItems !== true) break;
    }
    throw ctx.fail(`DNS zone ${zone} is not in the bunny.net account of BUNNY_API_KEY: add it under DNS`);
  },
  async list(_c, record, zoneId, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: `/dnszone/${zoneId}` },
      `read the DNS zone ${record.zone}`,
    );
    const name = relative(record);
    const found: ListedTxt[] = [];
    for (const r of (body.Records as { Id?: unknown; Type?: unknown; Name?: unknown; Value?: unknown }[]) ??
      []) {
      if (r.Type === TXT && String(r.Name ?? '').toLowerCase() === name && typeof r.Id === 'number')
        found.push({ id: String(r.Id), value: String(r.Value) });
    }
    return found;
  },
  async create(_c, record, zoneId, ctx) {
    const body = await ctx.json(
      {
        method: 'PUT',
        path: `/dnszone/${zoneId}/records`,
        body: { Type: TXT, Name: relative(record), Value: record.value, Ttl: Math.max(MIN_TTL, record.ttl) },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.Id === 'number' ? String(body.Id) : undefined;
  },
  async remove(_c, record, zoneId, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/dnszone/${zoneId}/records/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const text = [json.ErrorKey, json.Message].filter((x) => typeof x === 'string').join(': ');
    return text || undefined;
  },
};

/** bunny.net names records relative to the zone; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'bunny.net',
  description: 'Adds the TXT records through the bunny.net API (DNS zones), with the account API key.',
  docsUrl: 'https://docs.bunny.net/reference/dnszonepublic_index',
  permissions: 'BUNNY_API_KEY: the account API key (Account settings → API key).',
  example: [
    'BUNNY_API_KEY=00000000-0000-0000-0000-000000000000 \\',
    "  acmekit --dns bunny --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'BUNNY',
  // lego's bunny defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'BUNNY_API_KEY', description: 'account API key', required: true, secret: true },
    { name: 'BUNNY_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    const ttl = env.int('BUNNY_TTL', MIN_TTL, 1);
    if (ttl < MIN_TTL)
      throw new InvalidInputError(`bunny: BUNNY_TTL must be at least ${MIN_TTL}`, String(ttl));
    return {
      apiKey: env.requiredSecret('BUNNY_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'BUNNY_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<BunnyConfig>;
