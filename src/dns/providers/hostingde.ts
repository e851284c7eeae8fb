import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { unFqdn } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// hosting.de JSON API, DNS service: https://www.hosting.de/api/#dns
// Every call is a POST of a JSON object carrying the authToken to <base>/<method>. The answer is
// `{status, errors, warnings, metadata, response}`: status "success" (or "pending" for a change that is
// accepted and still being applied), or "error" with `errors: [{code, text, …}]`, whatever the HTTP status.
// zoneConfigsFind finds a zone by name, recordsFind lists its records (names absolute, without the dot;
// TXT content kept in double quotes), zoneUpdate adds and deletes records (deleted by name, type, content).

const CODE = 'hostingde';
const DEFAULT_API_URL = 'https://secure.hosting.de/api/dns/v1/json';
const PAGE_SIZE = 100;

interface HostingdeConfig {
  readonly key: Secret;
  readonly apiUrl: string;
  /** HOSTINGDE_ZONE_NAME: the zone to use instead of the one found by DNS. */
  readonly zoneName: string | undefined;
}

interface ApiError {
  readonly code?: unknown;
  readonly text?: unknown;
  readonly details?: unknown;
}

/** Calls one API method; the `response` of a "success" or "pending" answer, else a DnsProviderError. */
async function call(
  c: HostingdeConfig,
  method: string,
  params: Record<string, unknown>,
  what: string,
  ctx: RestCallContext,
): Promise<Record<string, unknown>> {
  const body = await ctx.json(
    { method: 'POST', path: `/${method}`, body: { authToken: c.key.reveal(), ...params } },
    what,
  );
  if (body.status === 'success' || body.status === 'pending')
    return (body.response ?? {}) as Record<string, unknown>;
  const errors = Array.isArray(body.errors) ? (body.errors as ApiError[]) : [];
  const words = errors
    .map((e) => `${String(e.text ?? 'error')}${e.code !== undefined ? ` (code ${String(e.code)})` : ''}`)
    .join('; ');
  throw ctx.fail(
    `hosting.de refused to ${what} (status ${String(body.status)}${words ? `: ${words}` : ''}); ` +
      'check HOSTINGDE_API_KEY and the rights of its API key (DNS: read and edit zones)',
  );
}

/** The zone's configuration object, as zoneUpdate wants it back. */
async function zoneConfig(
  c: HostingdeConfig,
  zone: string,
  ctx: RestCallContext,
): Promise<Record<string, unknown>> {
  const response = await call(
    c,
    'zoneConfigsFind',
    { filter: { field: 'zoneName', value: zone }, limit: 1, page: 1 },
    `find the zone ${zone}`,
    ctx,
  );
  const found = (Array.isArray(response.data) ? (response.data as Record<string, unknown>[]) : [])[0];
  if (!found || typeof found.id !== 'string')
    throw ctx.fail(
      `zone ${zone} is not in the hosting.de account of HOSTINGDE_API_KEY (or set HOSTINGDE_ZONE_NAME)`,
    );
  if (found.status !== undefined && found.status !== 'active')
    throw ctx.fail(`zone ${zone} is ${String(found.status)} at hosting.de, not active`);
  return found;
}

const api: RestApi<HostingdeConfig> = {
  code: CODE,
  apiName: 'hosting.de',
  urlVariable: 'HOSTINGDE_API_URL',
  credentialVariables: 'HOSTINGDE_API_KEY (an API key with the DNS rights)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.key],
  authorize: (_c, req) => req,
  async zoneRef(c, zone) {
    return c.zoneName ?? zone;
  },
  async list(c, record, zone, ctx) {
    const config = await zoneConfig(c, zone, ctx);
    const name = unFqdn(record.fqdn).toLowerCase();
    const found: ListedTxt[] = [];
    for (let page = 1; page <= 100; page++) {
      const response = await call(
        c,
        'recordsFind',
        {
          filter: {
            subFilterConnective: 'AND',
            subFilter: [
              { field: 'zoneConfigId', value: config.id },
              { field: 'recordName', value: name },
              { field: 'recordType', value: 'TXT' },
            ],
          },
          limit: PAGE_SIZE,
          page,
        },
        `list the TXT records of ${record.fqdn}`,
        ctx,
      );
      for (const r of (response.data as
        | { name?: unknown; type?: unknown; content?: unknown }[]
        | undefined) ?? []) {
        if (r.type === 'TXT' && String(r.name).toLowerCase() === name && typeof r.content === 'string')
          // Deleted by name, type and content: the id is the content as hosting.de keeps it.
          found.push({ id: r.content, value: unquoteTxt(r.content) });
      }
      if (page >= Number(response.totalPages ?? 1)) break;
    }
    return found;
  },
  async create(c, record, zone, ctx) {
    await call(
      c,
      'zoneUpdate',
      {
        zoneConfig: await zoneConfig(c, zone, ctx),
        recordsToAdd: [
          { name: unFqdn(record.fqdn).toLowerCase(), type: 'TXT', content: record.value, ttl: record.ttl },
        ],
        recordsToDelete: [],
      },
      `create the TXT record ${record.fqdn}`,
      ctx,
    );
    // No id: a cleanup lists the record again and deletes it with the content as hosting.de keeps it.
    return undefined;
  },
  async remove(c, record, zone, content, ctx) {
    await call(
      c,
      'zoneUpdate',
      {
        zoneConfig: await zoneConfig(c, zone, ctx),
        recordsToAdd: [],
        recordsToDelete: [{ name: unFqdn(record.fqdn).toLowerCase(), type: 'TXT', content }],
      },
      `delete the TXT record ${record.fqdn}`,
      ctx,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'hosting.de',
  description: 'Adds the TXT records through the hosting.de JSON API (DNS service), with an API key.',
  docsUrl: 'https://www.hosting.de/api/#dns',
  permissions:
    'HOSTINGDE_API_KEY: an API key (account → API keys) with the rights to list and edit DNS zones.',
  example: [
    'HOSTINGDE_API_KEY=xxxxxxxx \\',
    "  acmekit --dns hostingde --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'HOSTINGDE',
  // lego's hostingde defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'HOSTINGDE_API_KEY', description: 'API key', required: true, secret: true },
    {
      name: 'HOSTINGDE_ZONE_NAME',
      description: 'zone name in ACE (punycode) form, to use instead of the zone found by DNS',
    },
    {
      name: 'HOSTINGDE_API_URL',
      description: 'API base URL, for tests or a proxy',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    const zoneName = env.string('HOSTINGDE_ZONE_NAME');
    return {
      key: env.requiredSecret('HOSTINGDE_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'HOSTINGDE_API_URL', DEFAULT_API_URL),
      zoneName: zoneName === undefined ? undefined : unFqdn(zoneName).toLowerCase(),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<HostingdeConfig>;
