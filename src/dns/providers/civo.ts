import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Civo API v2, DNS: https://www.civo.com/api/dns
// Bearer API key; the domain's id comes from the list of DNS domains; records are listed per domain and
// named relative to it ("@" at the apex). Civo's smallest TTL is 600 s (lego raises lower values to it).

const CODE = 'civo';
const DEFAULT_API_URL = 'https://api.civo.com/v2';
const MIN_TTL = 600;

interface CivoConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

const api: RestApi<CivoConfig> = {
  code: CODE,
  apiName: 'Civo',
  urlVariable: 'CIVO_API_URL',
  credentialVariables: 'CIVO_TOKEN (the account API key)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const domains = await ctx.jsonArray({ method: 'GET', path: '/dns' }, 'list the DNS domains');
    const found = (domains as { id?: unknown; name?: unknown }[]).find(
      (d) => String(d?.name).toLowerCase() === zone,
    );
    if (typeof found?.id !== 'string')
      throw ctx.fail(
        `DNS domain ${zone} is not in the Civo account of CIVO_TOKEN: add it under Networking → DNS`,
      );
    return found.id;
  },
  async list(_c, record, domainId, ctx) {
    const list = await ctx.jsonArray(
      { method: 'GET', path: `/dns/${encodeURIComponent(domainId)}/records` },
      `list the records of ${record.zone}`,
    );
    const name = relative(record);
    const found: ListedTxt[] = [];
    for (const r of list as { id?: unknown; type?: unknown; name?: unknown; value?: unknown }[]) {
      if (
        String(r?.type).toUpperCase() === 'TXT' &&
        String(r.name).toLowerCase() === name &&
        typeof r.id === 'string'
      )
        found.push({ id: r.id, value: String(r.value) });
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/dns/${encodeURIComponent(domainId)}/records`,
        body: {
          type: 'TXT',
          name: relative(record),
          value: record.value,
          ttl: Math.max(MIN_TTL, record.ttl),
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'string' ? body.id : undefined;
  },
  async remove(_c, record, domainId, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/dns/${encodeURIComponent(domainId)}/records/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const text = [json.code, json.reason].filter((x) => typeof x === 'string').join(': ');
    return text || undefined;
  },
};

/** Civo names records relative to the domain, "@" at the apex. */
function relative(record: TxtRecord): string {
  return record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Civo',
  description: 'Adds the TXT records through the Civo API v2 (DNS), with the account API key.',
  docsUrl: 'https://www.civo.com/api/dns',
  permissions: 'CIVO_TOKEN: the API key of the Civo account (or team) that holds the DNS domain.',
  example: [
    'CIVO_TOKEN=civoapikey \\',
    "  acmekit --dns civo --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'CIVO',
  // lego's civo defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 300_000, pollingIntervalMs: 30_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'CIVO_TOKEN', description: 'API key', required: true, secret: true },
    { name: 'CIVO_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('CIVO_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'CIVO_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<CivoConfig>;
