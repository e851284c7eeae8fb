import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Njalla API: https://njal.la/api/
// One endpoint, POST https://njal.la/api/1/, taking {method, params} as JSON (JSON-RPC style) with the
// header "Authorization: Njalla <token>". The answer carries either `result` or `error: {code, message}`.
// Methods used: list-records {domain} → {records: [{id, name, type, content, ttl}]}, add-record {domain,
// type, name, content, ttl} → the record with its id, remove-record {domain, id}. Names are relative to
// the domain, "@" at the apex.

const CODE = 'njalla';
const DEFAULT_API_URL = 'https://njal.la/api/1';

interface NjallaConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

/** The shape Njalla lists a record in. */
interface NjallaRecord {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly type?: unknown;
  readonly content?: unknown;
}

const api: RestApi<NjallaConfig> = {
  code: CODE,
  apiName: 'Njalla',
  urlVariable: 'NJALLA_API_URL',
  credentialVariables: 'NJALLA_TOKEN (an API token of the account that holds the domain)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Njalla ${c.token.reveal()}` }),
  async list(_c, record, domain, ctx) {
    const result = await call(ctx, 'list-records', { domain }, `list the records of ${domain}`);
    const records = Array.isArray(result.records) ? (result.records as NjallaRecord[]) : [];
    const name = host(record);
    const found: ListedTxt[] = [];
    for (const r of records) {
      if (r.type !== 'TXT' || String(r.name).toLowerCase() !== name) continue;
      if ((typeof r.id !== 'string' && typeof r.id !== 'number') || typeof r.content !== 'string') continue;
      found.push({ id: String(r.id), value: r.content });
    }
    return found;
  },
  async create(_c, record, domain, ctx) {
    const result = await call(
      ctx,
      'add-record',
      { domain, type: 'TXT', name: host(record), content: record.value, ttl: record.ttl },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof result.id === 'string' || typeof result.id === 'number' ? String(result.id) : undefined;
  },
  async remove(c, record, domain, id, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    const answer = await call(ctx, 'remove-record', { domain, id: idParam(id) }, what, true);
    if (!('error' in answer)) return;
    // Njalla does not document the error of a record already gone: look again. Gone is what cleanup
    // wants; still there is an error.
    const still = await api.list(c, record, domain, ctx);
    if (still.some((r) => r.id === id)) throw refused(ctx, answer.error, what);
  },
  errorDetail: (body) => apiError(parseJsonObject(body)?.error),
};

/** Njalla ids are numbers; one listed as a string is sent back as it came. */
function idParam(id: string): string | number {
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : id;
}

/**
 * One method call. An answer with `error` becomes an error here unless `keepError` (then the caller gets
 * `{error}` and decides).
 */
async function call(
  ctx: RestCallContext,
  method: string,
  params: Record<string, unknown>,
  what: string,
  keepError = false,
): Promise<Record<string, unknown>> {
  const body = await ctx.json({ method: 'POST', path: '/', body: { method, params } }, what);
  if (body.error !== undefined && body.error !== null) {
    if (keepError) return { error: body.error };
    throw refused(ctx, body.error, what);
  }
  const result = body.result;
  if (result === undefined || result === null) return {};
  if (typeof result !== 'object' || Array.isArray(result))
    throw ctx.fail(`the Njalla API answered ${what} with an unexpected result`);
  return result as Record<string, unknown>;
}

function apiError(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return `${code !== undefined ? `code ${String(code)}: ` : ''}${typeof message === 'string' ? message : ''}`;
}

function refused(ctx: RestCallContext, error: unknown, what: string) {
  const detail = apiError(error) ?? 'no detail';
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 401 || code === 403)
    return ctx.fail(
      `credentials refused while trying to ${what} (${detail}): check NJALLA_TOKEN and that the domain is in its account`,
    );
  return ctx.fail(`Njalla refused to ${what} (${detail})`);
}

/** Njalla names records relative to the domain, "@" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Njalla',
  description: 'Adds the TXT records through the Njalla API (add-record, remove-record), with an API token.',
  docsUrl: 'https://njal.la/api/',
  permissions: 'NJALLA_TOKEN: an API token (Settings → API access) of the account that holds the domain.',
  example: [
    'NJALLA_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxxxx \\',
    "  acmekit --dns njalla --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NJALLA',
  // lego's njalla defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'NJALLA_TOKEN', description: 'API token', required: true, secret: true },
    {
      name: 'NJALLA_API_URL',
      description: 'API endpoint URL, for tests or a proxy',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('NJALLA_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'NJALLA_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<NjallaConfig>;
