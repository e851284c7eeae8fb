import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { toFqdn } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// LuaDNS REST API v1: https://www.luadns.com/api.html
// HTTP Basic authentication (account email, API token) and `Accept: application/json` on every request.
// Zones are listed by id and name; records carry absolute names with the trailing dot.

const CODE = 'luadns';
const DEFAULT_API_URL = 'https://api.luadns.com';
/** LuaDNS's smallest TTL (lego's minimum and default too). */
const MIN_TTL = 300;

interface LuadnsConfig {
  readonly username: string;
  readonly token: Secret;
  readonly apiUrl: string;
}

interface LuaRecord {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly type?: unknown;
  readonly content?: unknown;
}

function basic(c: LuadnsConfig): string {
  return Buffer.from(`${c.username}:${c.token.reveal()}`).toString('base64');
}

const api: RestApi<LuadnsConfig> = {
  code: CODE,
  apiName: 'LuaDNS',
  urlVariable: 'LUADNS_API_URL',
  credentialVariables: 'LUADNS_API_USERNAME and LUADNS_API_TOKEN (the account email and an API token)',
  baseUrl: (c) => c.apiUrl,
  // The Basic credentials too, in case an answer echoes the header.
  secrets: (c) => [c.token, new Secret(basic(c))],
  authorize: (c, req) => withHeaders(req, { accept: 'application/json', authorization: `Basic ${basic(c)}` }),
  async zoneRef(_c, zone, ctx) {
    const zones = await ctx.jsonValue({ method: 'GET', path: '/v1/zones' }, 'list the zones');
    const found = (Array.isArray(zones) ? (zones as { id?: unknown; name?: unknown }[]) : []).find(
      (z) => typeof z.name === 'string' && z.name.toLowerCase().replace(/\.$/, '') === zone,
    );
    if (typeof found?.id !== 'number')
      throw ctx.fail(`zone ${zone} is not in the LuaDNS account of LUADNS_API_USERNAME: add it first`);
    return String(found.id);
  },
  async list(_c, record, zoneId, ctx) {
    const all = await ctx.jsonValue(
      { method: 'GET', path: `/v1/zones/${zoneId}/records` },
      `list the records of zone ${zoneId}`,
    );
    const name = toFqdn(record.fqdn).toLowerCase();
    const found: ListedTxt[] = [];
    for (const r of Array.isArray(all) ? (all as LuaRecord[]) : []) {
      if (
        r.type === 'TXT' &&
        typeof r.name === 'string' &&
        toFqdn(r.name).toLowerCase() === name &&
        typeof r.id === 'number' &&
        typeof r.content === 'string'
      )
        found.push({ id: String(r.id), value: r.content });
    }
    return found;
  },
  async create(_c, record, zoneId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/v1/zones/${zoneId}/records`,
        body: {
          name: toFqdn(record.fqdn).toLowerCase(),
          type: 'TXT',
          content: record.value,
          ttl: Math.max(MIN_TTL, record.ttl),
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? String(body.id) : undefined;
  },
  async remove(_c, record, zoneId, id, ctx) {
    await ctx.json(
      { method: 'DELETE', path: `/v1/zones/${zoneId}/records/${id}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'LuaDNS',
  description: 'Adds the TXT records through the LuaDNS REST API, with the account email and an API token.',
  docsUrl: 'https://www.luadns.com/api.html',
  permissions:
    'LUADNS_API_USERNAME is the account email; LUADNS_API_TOKEN an API token (Account → API Keys) of that account.',
  example: [
    'LUADNS_API_USERNAME=you@example.com \\',
    'LUADNS_API_TOKEN=xxxxxxxx \\',
    "  acmekit --dns luadns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'LUADNS',
  // lego's luadns defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'LUADNS_API_USERNAME', description: 'account email', required: true },
    { name: 'LUADNS_API_TOKEN', description: 'API token', required: true, secret: true },
    { name: 'LUADNS_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      username: env.required('LUADNS_API_USERNAME'),
      token: env.requiredSecret('LUADNS_API_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'LUADNS_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<LuadnsConfig>;
