import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { unFqdn } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Selectel DNS API v1 ("domains/v1", the API lego's selectel provider speaks):
// https://docs.selectel.ru/api/dns-legacy
// Token in the X-Token header; a domain is found by name, its records are listed, created and deleted by
// numeric id; record names are absolute, without the trailing dot.

const CODE = 'selectel';
const DEFAULT_API_URL = 'https://api.selectel.ru/domains/v1';
/** Selectel's smallest TTL (lego's default and minimum). */
const MIN_TTL = 60;

interface SelectelConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

interface SelectelRecord {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly type?: unknown;
  readonly content?: unknown;
}

const api: RestApi<SelectelConfig> = {
  code: CODE,
  apiName: 'Selectel DNS',
  urlVariable: 'SELECTEL_API_URL',
  credentialVariables: 'SELECTEL_API_TOKEN (an API token of the account, "Profile and settings → API keys")',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { 'x-token': c.token.reveal() }),
  async zoneRef(_c, zone, ctx) {
    const res = await ctx.send({ method: 'GET', path: `/${encodeURIComponent(zone)}` });
    if (res.status === 404)
      throw ctx.fail(
        `domain ${zone} is not in the Selectel account of SELECTEL_API_TOKEN: add it in the DNS hosting panel`,
      );
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `find the domain ${zone}`);
    const id = parseJsonObject(res.body)?.id;
    if (typeof id !== 'number') throw ctx.fail(`the Selectel DNS API gave no id for the domain ${zone}`);
    return String(id);
  },
  async list(_c, record, domainId, ctx) {
    const all = await ctx.jsonValue(
      { method: 'GET', path: `/${domainId}/records/` },
      `list the records of domain ${domainId}`,
    );
    const name = unFqdn(record.fqdn).toLowerCase();
    const found: ListedTxt[] = [];
    for (const r of Array.isArray(all) ? (all as SelectelRecord[]) : []) {
      if (
        r.type === 'TXT' &&
        typeof r.name === 'string' &&
        unFqdn(r.name).toLowerCase() === name &&
        typeof r.id === 'number' &&
        typeof r.content === 'string'
      )
        found.push({ id: String(r.id), value: unquoteTxt(r.content) });
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/${domainId}/records/`,
        body: {
          type: 'TXT',
          ttl: Math.max(MIN_TTL, record.ttl),
          name: unFqdn(record.fqdn).toLowerCase(),
          content: record.value,
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? String(body.id) : undefined;
  },
  async remove(_c, record, domainId, id, ctx) {
    const res = await ctx.send({ method: 'DELETE', path: `/${domainId}/records/${id}` });
    // 404: already gone, which is what cleanup wants.
    if ((res.status < 200 || res.status >= 300) && res.status !== 404)
      throw ctx.refused(res, `delete the TXT record ${record.fqdn}`);
  },
};

export const definition = {
  code: CODE,
  title: 'Selectel',
  description:
    'Adds the TXT records through the Selectel DNS API v1 (domains/v1, as lego does), with an API token.',
  docsUrl: 'https://docs.selectel.ru/api/dns-legacy',
  permissions: 'SELECTEL_API_TOKEN: an API key of the account that holds the domains.',
  example: [
    'SELECTEL_API_TOKEN=xxxxx \\',
    "  acmekit --dns selectel --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'SELECTEL',
  // lego's selectel defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'SELECTEL_API_TOKEN', description: 'API token', required: true, secret: true },
    { name: 'SELECTEL_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('SELECTEL_API_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'SELECTEL_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<SelectelConfig>;
