import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import { type ListedTxt, type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Porkbun API v3: https://porkbun.com/api/json/v3/documentation
// Every call is a POST with a JSON body carrying "apikey" and "secretapikey"; answers say
// {"status": "SUCCESS" | "ERROR", "message": …}. Records are read by domain, type and subdomain, created
// per domain and deleted by id. Porkbun's smallest TTL is 600 s; the domain must have API access turned on.

const CODE = 'porkbun';
const DEFAULT_API_URL = 'https://api.porkbun.com/api/json/v3';
/** lego's smallest PORKBUN_TTL. */
const LEGO_MIN_TTL = 300;
/** Porkbun's own floor: a lower TTL is stored as 600. */
const PORKBUN_MIN_TTL = 600;

interface PorkbunConfig {
  readonly apiKey: Secret;
  readonly secretApiKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<PorkbunConfig> = {
  code: CODE,
  apiName: 'Porkbun',
  urlVariable: 'PORKBUN_API_URL',
  credentialVariables: 'PORKBUN_API_KEY and PORKBUN_SECRET_API_KEY',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey, c.secretApiKey],
  authorize: (c, req) => ({
    ...req,
    body: {
      ...(req.body as object | undefined),
      apikey: c.apiKey.reveal(),
      secretapikey: c.secretApiKey.reveal(),
    },
  }),
  async list(_c, record, domain, ctx) {
    const sub = subdomain(record);
    const body = await call(
      ctx,
      `/dns/retrieveByNameType/${encodeURIComponent(domain)}/TXT${sub ? `/${encodeURIComponent(sub)}` : ''}`,
      {},
      `list the TXT records of ${record.fqdn}`,
    );
    const name = unFqdn(record.fqdn).toLowerCase();
    const found: ListedTxt[] = [];
    for (const r of (body.records as { id?: unknown; name?: unknown; type?: unknown; content?: unknown }[]) ??
      []) {
      if (r.type === 'TXT' && String(r.name).toLowerCase() === name && r.id !== undefined)
        found.push({ id: String(r.id), value: String(r.content) });
    }
    return found;
  },
  async create(_c, record, domain, ctx) {
    const body = await call(
      ctx,
      `/dns/create/${encodeURIComponent(domain)}`,
      {
        name: subdomain(record),
        type: 'TXT',
        content: record.value,
        ttl: String(Math.max(PORKBUN_MIN_TTL, record.ttl)),
      },
      `create the TXT record ${record.fqdn}`,
    );
    return body.id === undefined ? undefined : String(body.id);
  },
  async remove(c, record, domain, id, ctx) {
    const res = await ctx.send({
      method: 'POST',
      path: `/dns/delete/${encodeURIComponent(domain)}/${encodeURIComponent(id)}`,
      body: {},
    });
    if (res.status >= 200 && res.status < 300 && parseJsonObject(res.body)?.status === 'SUCCESS') return;
    // Porkbun refuses to delete an id it no longer has: already gone is what cleanup wants.
    const still = (await api.list(c, record, domain, ctx)).some((r) => r.id === id);
    if (still)
      await call(
        ctx,
        `/dns/delete/${encodeURIComponent(domain)}/${encodeURIComponent(id)}`,
        {},
        `delete the TXT record ${record.fqdn}`,
      );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    return typeof json?.message === 'string' ? json.message : undefined;
  },
};

/** One call: the answer must be 2xx with status SUCCESS. */
async function call(
  ctx: RestCallContext,
  path: string,
  body: Record<string, unknown>,
  what: string,
): Promise<Record<string, unknown>> {
  const answer = await ctx.json({ method: 'POST', path, body }, what);
  if (answer.status !== 'SUCCESS')
    throw ctx.fail(
      `Porkbun refused to ${what}: ${typeof answer.message === 'string' ? answer.message : 'no SUCCESS status'}`,
    );
  return answer;
}

/** Porkbun's subdomain: relative to the domain, lower case, empty at the apex. */
function subdomain(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Porkbun',
  description: 'Adds the TXT records through the Porkbun API v3, with an API key and secret API key.',
  docsUrl: 'https://porkbun.com/api/json/v3/documentation',
  permissions:
    'PORKBUN_API_KEY and PORKBUN_SECRET_API_KEY: an API key pair of the account; turn on "API Access" for the domain.',
  example: [
    'PORKBUN_API_KEY=pk1_0123 \\',
    'PORKBUN_SECRET_API_KEY=sk1_4567 \\',
    "  acmekit --dns porkbun --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'PORKBUN',
  // lego's porkbun defaults.
  defaults: {
    ttl: LEGO_MIN_TTL,
    propagationTimeoutMs: 600_000,
    pollingIntervalMs: 10_000,
    httpTimeoutMs: 30_000,
  },
  env: [
    { name: 'PORKBUN_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'PORKBUN_SECRET_API_KEY', description: 'secret API key', required: true, secret: true },
    { name: 'PORKBUN_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    const ttl = env.int('PORKBUN_TTL', LEGO_MIN_TTL, 1);
    if (ttl < LEGO_MIN_TTL)
      throw new InvalidInputError(`porkbun: PORKBUN_TTL must be at least ${LEGO_MIN_TTL}`, String(ttl));
    return {
      apiKey: env.requiredSecret('PORKBUN_API_KEY'),
      secretApiKey: env.requiredSecret('PORKBUN_SECRET_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'PORKBUN_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<PorkbunConfig>;
