import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// NameSilo API: https://www.namesilo.com/api-reference (dnsListRecords, dnsAddRecord, dnsDeleteRecord).
// GET requests with version=1, type=json and the API key as `key` in the query (the only way the API
// takes it; acmekit logs paths without their query). Every answer is HTTP 200 with
// {request, reply: {code, detail, …}}; code 300 is success. Records are added with a host relative to
// the domain ("" at the apex) and listed with their full host name. TTLs are 3600 s at least.

const CODE = 'namesilo';
const DEFAULT_API_URL = 'https://www.namesilo.com/api';
const MIN_TTL = 3600;
const MAX_TTL = 2_592_000;
const SUCCESS = 300;

interface NamesiloConfig {
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<NamesiloConfig> = {
  code: CODE,
  apiName: 'NameSilo',
  urlVariable: 'NAMESILO_API_URL',
  credentialVariables: 'NAMESILO_API_KEY (an API key from the NameSilo API Manager)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize(c, req) {
    const [path, query = ''] = req.path.split('?');
    const params = new URLSearchParams(query);
    params.set('key', c.apiKey.reveal());
    return { ...req, path: `${path}?${params}` };
  },
  async list(_c, record, domain, ctx) {
    const reply = await call(ctx, 'dnsListRecords', { domain }, `list the records of ${domain}`);
    const host = record.fqdn.replace(/\.$/, '').toLowerCase();
    // A single record may come as an object rather than a list (the JSON mirrors the XML answer).
    const raw = reply.resource_record;
    const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as {
      record_id?: unknown;
      type?: unknown;
      host?: unknown;
      value?: unknown;
    }[];
    return list
      .filter((r) => {
        const h = String(r.host).toLowerCase();
        return (
          r.type === 'TXT' &&
          (h === host || h === relative(record)) &&
          typeof r.record_id === 'string' &&
          typeof r.value === 'string'
        );
      })
      .map((r) => ({ id: r.record_id as string, value: r.value as string }));
  },
  async create(_c, record, domain, ctx) {
    const reply = await call(
      ctx,
      'dnsAddRecord',
      {
        domain,
        rrtype: 'TXT',
        rrhost: relative(record),
        rrvalue: record.value,
        rrttl: String(Math.min(MAX_TTL, Math.max(MIN_TTL, record.ttl))),
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof reply.record_id === 'string' ? reply.record_id : undefined;
  },
  async remove(_c, record, domain, id, ctx) {
    const reply = await call(
      ctx,
      'dnsDeleteRecord',
      { domain, rrid: id },
      `delete the TXT record ${record.fqdn}`,
      true,
    );
    if (Number(reply.code) === SUCCESS) return;
    // The API's code for a record that is already gone is not documented: look again. Gone is what
    // cleanup wants; still there is an error.
    const still = await api.list(_c, record, domain, ctx);
    if (still.some((r) => r.id === id)) throw refused(ctx, reply, `delete the TXT record ${record.fqdn}`);
  },
};

/**
 * One GET of an operation. Errors come as HTTP 200 with a reply code other than 300: those become errors
 * here unless `keepFailed` (the caller looks at them itself).
 */
async function call(
  ctx: RestCallContext,
  operation: string,
  params: Record<string, string>,
  what: string,
  keepFailed = false,
): Promise<Record<string, unknown>> {
  const query = new URLSearchParams({ version: '1', type: 'json', ...params });
  const body = await ctx.json({ method: 'GET', path: `/${operation}?${query}` }, what);
  const reply = body.reply as Record<string, unknown> | undefined;
  if (!reply || typeof reply !== 'object')
    throw ctx.fail(`the NameSilo API answered ${what} without a reply`);
  if (Number(reply.code) !== SUCCESS && !keepFailed) throw refused(ctx, reply, what);
  return reply;
}

function refused(ctx: RestCallContext, reply: Record<string, unknown>, what: string) {
  const code = Number(reply.code);
  const detail = `code ${String(reply.code)}: ${String(reply.detail ?? '')}`;
  // 110: invalid key; 112: sub-accounts may not use the API; 113: not allowed from this address.
  if (code >= 110 && code <= 113)
    return ctx.fail(
      `credentials refused while trying to ${what} (${detail}): check NAMESILO_API_KEY and the IP addresses it is limited to`,
    );
  if (code === 200)
    return ctx.fail(
      `${what}: the domain is not active or not in the NameSilo account of NAMESILO_API_KEY (${detail})`,
    );
  return ctx.fail(`NameSilo refused to ${what} (${detail})`);
}

/** NameSilo's rrhost: relative to the domain, "" at the apex. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'NameSilo',
  description:
    'Adds the TXT records through the NameSilo API (dnsAddRecord, dnsDeleteRecord), with an API key. ' +
    'NameSilo publishes changes slowly: a NAMESILO_PROPAGATION_TIMEOUT of 15 minutes or more is advisable.',
  docsUrl: 'https://www.namesilo.com/api-reference',
  permissions:
    'NAMESILO_API_KEY: an API key generated in the API Manager of the account (not a sub-account), without ' +
    'an IP restriction that excludes this machine.',
  example: [
    'NAMESILO_API_KEY=b9841238feb177a84330febba8a83208921177bffe733 \\',
    'NAMESILO_PROPAGATION_TIMEOUT=1200 \\',
    "  acmekit --dns namesilo --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NAMESILO',
  // lego's namesilo defaults (TTL within 3600 and 2592000 s).
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'NAMESILO_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'NAMESILO_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      apiKey: env.requiredSecret('NAMESILO_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'NAMESILO_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<NamesiloConfig>;
