import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// DNSimple API v2: https://developer.dnsimple.com/v2/zones/records/
// Bearer account token; the account id comes from /v2/whoami (a user token has no account and is refused
// here, as by lego); records are filtered by exact name and type, in pages of up to 100.

const CODE = 'dnsimple';
const DEFAULT_API_URL = 'https://api.dnsimple.com';
const PAGE_SIZE = 100;

interface DnsimpleConfig {
  readonly token: Secret;
  readonly baseUrl: string;
}

const api: RestApi<DnsimpleConfig> = {
  code: CODE,
  apiName: 'DNSimple',
  urlVariable: 'DNSIMPLE_BASE_URL',
  credentialVariables: 'DNSIMPLE_OAUTH_TOKEN (an account API token)',
  baseUrl: (c) => `${c.baseUrl}/v2`,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  /** "<account id>/zones/<zone>", the path every record call starts with. */
  async zoneRef(_c, zone, ctx) {
    const who = await ctx.json({ method: 'GET', path: '/whoami' }, 'read the account of the token');
    const account = (who.data as { account?: { id?: unknown } | null } | undefined)?.account;
    if (typeof account?.id !== 'number' && typeof account?.id !== 'string')
      throw ctx.fail(
        'DNSIMPLE_OAUTH_TOKEN is not an account token (a user token has no account): create an account API ' +
          'token under Account → Access Tokens',
      );
    const prefix = `/${encodeURIComponent(String(account.id))}/zones/${encodeURIComponent(zone)}`;
    // 404 is the zone missing from the account: said in words below rather than as a bare 404.
    const found = await ctx.json(
      { method: 'GET', path: prefix },
      `read the zone ${zone}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    if (!found.data)
      throw ctx.fail(
        `zone ${zone} is not in the DNSimple account ${String(account.id)} of DNSIMPLE_OAUTH_TOKEN`,
      );
    return prefix.slice(1);
  },
  async list(_c, record, zone, ctx) {
    const found: ListedTxt[] = [];
    for (let page = 1; page <= 100; page++) {
      const query = new URLSearchParams({
        name: relative(record),
        type: 'TXT',
        page: String(page),
        per_page: String(PAGE_SIZE),
      });
      const body = await ctx.json(
        { method: 'GET', path: `/${zone}/records?${query}` },
        `list the TXT records of ${record.fqdn}`,
      );
      for (const r of (body.data as { id?: unknown; type?: unknown; name?: unknown; content?: unknown }[]) ??
        []) {
        if (r.type === 'TXT' && String(r.name).toLowerCase() === relative(record) && r.id !== undefined)
          found.push({ id: String(r.id), value: unquoteTxt(String(r.content)) });
      }
      const pages = Number((body.pagination as { total_pages?: unknown } | undefined)?.total_pages ?? 1);
      if (page >= pages) break;
    }
    return found;
  },
  async create(_c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/${zone}/records`,
        body: { name: relative(record), type: 'TXT', content: record.value, ttl: record.ttl },
      },
      `create the TXT record ${record.fqdn}`,
    );
    const id = (body.data as { id?: unknown } | undefined)?.id;
    return id === undefined ? undefined : String(id);
  },
  async remove(_c, record, zone, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/${zone}/records/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

/** DNSimple names records relative to the zone; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'DNSimple',
  description: 'Adds the TXT records through the DNSimple API v2, with an account API token.',
  docsUrl: 'https://developer.dnsimple.com/v2/zones/records/',
  permissions:
    'DNSIMPLE_OAUTH_TOKEN: an account API token (not a user token) of the account that holds the zone.',
  example: [
    'DNSIMPLE_OAUTH_TOKEN=dnsimpletoken \\',
    "  acmekit --dns dnsimple --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DNSIMPLE',
  // lego's dnsimple defaults (lego has no DNSIMPLE_HTTP_TIMEOUT; acmekit's is 30 s).
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000 },
  env: [
    { name: 'DNSIMPLE_OAUTH_TOKEN', description: 'account API token', required: true, secret: true },
    {
      name: 'DNSIMPLE_BASE_URL',
      description: 'API endpoint (without /v2); DNSimple’s sandbox records do not resolve',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('DNSIMPLE_OAUTH_TOKEN'),
      baseUrl: apiUrlSetting(env, CODE, 'DNSIMPLE_BASE_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<DnsimpleConfig>;
