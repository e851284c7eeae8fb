import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Vultr API v2, DNS: https://www.vultr.com/api/#tag/dns
// Bearer API key; a domain is addressed by its name; records are listed in pages of up to 500, the next
// page named by the cursor in meta.links.next. TXT data is written in double quotes.

const CODE = 'vultr';
const DEFAULT_API_URL = 'https://api.vultr.com/v2';
const PAGE_SIZE = 500;

interface VultrConfig {
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

interface VultrRecord {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly name?: unknown;
  readonly data?: unknown;
}

const api: RestApi<VultrConfig> = {
  code: CODE,
  apiName: 'Vultr',
  urlVariable: 'VULTR_API_URL',
  credentialVariables: 'VULTR_API_KEY (an API key allowed from this address)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.apiKey.reveal()}` }),
  async list(_c, record, domain, ctx) {
    const name = relative(record);
    const found: ListedTxt[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ per_page: String(PAGE_SIZE) });
      if (cursor) query.set('cursor', cursor);
      const body = await ctx.json(
        { method: 'GET', path: `/domains/${encodeURIComponent(domain)}/records?${query}` },
        `list the records of ${domain}`,
      );
      for (const r of (body.records as VultrRecord[] | undefined) ?? []) {
        if (r.type === 'TXT' && String(r.name).toLowerCase() === name && typeof r.id === 'string')
          found.push({ id: r.id, value: unquoteTxt(String(r.data)) });
      }
      const next = (body.meta as { links?: { next?: unknown } } | undefined)?.links?.next;
      if (typeof next !== 'string' || next === '') break;
      cursor = next;
    }
    return found;
  },
  async create(_c, record, domain, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/domains/${encodeURIComponent(domain)}/records`,
        body: {
          name: relative(record),
          type: 'TXT',
          data: `"${record.value}"`,
          ttl: record.ttl,
          priority: 0,
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    const id = (body.record as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' ? id : undefined;
  },
  async remove(_c, record, domain, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/domains/${encodeURIComponent(domain)}/records/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

/** Vultr names records relative to the domain; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Vultr',
  description: 'Adds the TXT records through the Vultr API v2 (DNS), with an API key.',
  docsUrl: 'https://www.vultr.com/api/#tag/dns',
  permissions:
    'VULTR_API_KEY: the account API key (Account → API), with this machine\'s address in its "Access Control" list.',
  example: [
    'VULTR_API_KEY=0123456789ABCDEF \\',
    "  acmekit --dns vultr --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'VULTR',
  // lego's vultr defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'VULTR_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'VULTR_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      apiKey: env.requiredSecret('VULTR_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'VULTR_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<VultrConfig>;
