import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Linode API v4, Domains: https://techdocs.akamai.com/linode-api/reference/get-domains
// Bearer token; domains found with an X-Filter header; records are listed in pages of up to 500.

const CODE = 'linode';
const DEFAULT_API_URL = 'https://api.linode.com/v4';
/** Linode rounds TTLs below 300 s up to 300 (lego's minimum too). */
const MIN_TTL = 300;
const PAGE_SIZE = 500;

interface LinodeConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

const api: RestApi<LinodeConfig> = {
  code: CODE,
  apiName: 'Linode',
  urlVariable: 'LINODE_API_URL',
  credentialVariables: 'LINODE_TOKEN (a personal access token with Domains read/write)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: '/domains', headers: { 'x-filter': JSON.stringify({ domain: zone }) } },
      `find the domain ${zone}`,
    );
    const found = (body.data as { id?: unknown; domain?: unknown }[] | undefined)?.find(
      (d) => String(d.domain).toLowerCase() === zone,
    );
    if (typeof found?.id !== 'number')
      throw ctx.fail(`domain ${zone} is not in the Linode account of LINODE_TOKEN: add it under Domains`);
    return String(found.id);
  },
  async list(_c, record, domainId, ctx) {
    const name = relative(record);
    const found: ListedTxt[] = [];
    for (let page = 1; page <= 100; page++) {
      const body = await ctx.json(
        { method: 'GET', path: `/domains/${domainId}/records?page=${page}&page_size=${PAGE_SIZE}` },
        `list the records of domain ${domainId}`,
      );
      for (const r of (body.data as { id?: unknown; type?: unknown; name?: unknown; target?: unknown }[]) ??
        []) {
        if (r.type === 'TXT' && String(r.name).toLowerCase() === name && typeof r.id === 'number')
          found.push({ id: String(r.id), value: String(r.target) });
      }
      if (page >= Number(body.pages ?? 1)) break;
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/domains/${domainId}/records`,
        body: {
          type: 'TXT',
          name: relative(record),
          target: record.value,
          ttl_sec: Math.max(MIN_TTL, record.ttl),
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? String(body.id) : undefined;
  },
  async remove(_c, record, domainId, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/domains/${domainId}/records/${id}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const errors = parseJsonObject(body)?.errors as { reason?: unknown; field?: unknown }[] | undefined;
    const first = errors?.[0];
    return first
      ? `${first.field ? `${String(first.field)}: ` : ''}${String(first.reason ?? '')}`
      : undefined;
  },
};

/** Linode names records relative to the domain; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Linode (Akamai)',
  description: 'Adds the TXT records through the Linode API v4 (Domains), with a personal access token.',
  docsUrl: 'https://techdocs.akamai.com/linode-api/reference/post-domain-record',
  permissions: 'LINODE_TOKEN: a personal access token with Read/Write access to Domains.',
  example: [
    'LINODE_TOKEN=0123456789abcdef \\',
    "  acmekit --dns linode --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'LINODE',
  // lego's linode defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 15_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'LINODE_TOKEN',
      description: 'personal access token (Domains read/write)',
      required: true,
      secret: true,
    },
    { name: 'LINODE_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('LINODE_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'LINODE_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<LinodeConfig>;
