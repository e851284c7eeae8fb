import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Vercel REST API, DNS: https://vercel.com/docs/rest-api/dns
// Bearer access token, the team (when set) as ?teamId= on every call; records are listed newest first in
// pages of up to 100, the next page asked for with until=<pagination.next>.

const CODE = 'vercel';
const DEFAULT_API_URL = 'https://api.vercel.com';
const PAGE_SIZE = 100;

interface VercelConfig {
  readonly token: Secret;
  readonly teamId: string | undefined;
  readonly apiUrl: string;
}

const api: RestApi<VercelConfig> = {
  code: CODE,
  apiName: 'Vercel',
  urlVariable: 'VERCEL_API_URL',
  credentialVariables: 'VERCEL_API_TOKEN (and VERCEL_TEAM_ID for a team’s domain)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => {
    let path = req.path;
    if (c.teamId) path += `${path.includes('?') ? '&' : '?'}teamId=${encodeURIComponent(c.teamId)}`;
    return { ...req, path, headers: { ...req.headers, authorization: `Bearer ${c.token.reveal()}` } };
  },
  async list(_c, record, domain, ctx) {
    const name = relative(record);
    const found: ListedTxt[] = [];
    let until: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (until !== undefined) query.set('until', until);
      const body = await ctx.json(
        { method: 'GET', path: `/v5/domains/${encodeURIComponent(domain)}/records?${query}` },
        `list the records of ${domain}`,
      );
      for (const r of (body.records as { id?: unknown; type?: unknown; name?: unknown; value?: unknown }[]) ??
        []) {
        if (r.type === 'TXT' && String(r.name).toLowerCase() === name && typeof r.id === 'string')
          found.push({ id: r.id, value: String(r.value) });
      }
      const next = (body.pagination as { next?: unknown } | undefined)?.next;
      if (typeof next !== 'number' && typeof next !== 'string') break;
      until = String(next);
    }
    return found;
  },
  async create(_c, record, domain, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/v2/domains/${encodeURIComponent(domain)}/records`,
        body: { name: relative(record), type: 'TXT', value: record.value, ttl: record.ttl },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.uid === 'string' ? body.uid : undefined;
  },
  async remove(_c, record, domain, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      {
        method: 'DELETE',
        path: `/v2/domains/${encodeURIComponent(domain)}/records/${encodeURIComponent(id)}`,
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

/** Vercel names records relative to the domain; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Vercel',
  description:
    'Adds the TXT records through the Vercel REST API (DNS), with an access token and optionally a team.',
  docsUrl: 'https://vercel.com/docs/rest-api/dns',
  permissions:
    'VERCEL_API_TOKEN: an access token whose scope includes the team (VERCEL_TEAM_ID) or account that owns the domain.',
  example: [
    'VERCEL_API_TOKEN=vercel_token \\',
    'VERCEL_TEAM_ID=team_0123456789abcdefghijklmn \\',
    "  acmekit --dns vercel --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'VERCEL',
  // lego's vercel defaults.
  defaults: { ttl: 60, propagationTimeoutMs: 60_000, pollingIntervalMs: 5_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'VERCEL_API_TOKEN', description: 'access token', required: true, secret: true },
    { name: 'VERCEL_TEAM_ID', description: 'team id (team_…), for a domain owned by a team' },
    { name: 'VERCEL_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('VERCEL_API_TOKEN'),
      teamId: env.string('VERCEL_TEAM_ID'),
      apiUrl: apiUrlSetting(env, CODE, 'VERCEL_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<VercelConfig>;
