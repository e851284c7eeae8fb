import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { parseXmlRpcResponse, type XmlRpcValue, xmlRpcCall } from './loopia-xmlrpc.ts';

// Loopia API: https://www.loopia.com/api/ (getZoneRecords, addZoneRecord, removeZoneRecord,
// removeSubdomain). XML-RPC (loopia-xmlrpc.ts) over POST to https://api.loopia.se/RPCSERV; every method
// takes the API user and password first, then the domain and the subdomain ("@" at the apex). Changes
// answer a status string: OK, AUTH_ERROR, RATE_LIMITED, BAD_INDATA, UNKNOWN_ERROR…; getZoneRecords answers
// an array of {type, ttl, priority, rdata, record_id}, or a status. Once a subdomain holds no record any
// more it is removed, as lego does.

const CODE = 'loopia';
const DEFAULT_API_URL = 'https://api.loopia.se/RPCSERV';
/** Loopia's smallest TTL. */
const MIN_TTL = 300;
/** Tries of a call Loopia answered RATE_LIMITED, and the pause before the first retry. */
const RATE_LIMIT_TRIES = 4;
const RATE_LIMIT_PAUSE_MS = 5_000;

interface LoopiaConfig {
  readonly user: string;
  readonly password: Secret;
  readonly apiUrl: string;
}

interface LoopiaRecord {
  readonly type?: XmlRpcValue;
  readonly rdata?: XmlRpcValue;
  readonly record_id?: XmlRpcValue;
}

/**
 * One method call with the credentials in front. Answers RATE_LIMITED are waited out (bounded); a fault,
 * an HTTP error or something other than XML-RPC become errors; a status string is returned as is.
 */
async function call(
  c: LoopiaConfig,
  ctx: RestCallContext,
  method: string,
  params: readonly XmlRpcValue[],
  what: string,
): Promise<XmlRpcValue> {
  for (let attempt = 1; ; attempt++) {
    const res = await ctx.send({
      method: 'POST',
      path: '',
      headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
      rawBody: xmlRpcCall(method, [c.user, c.password.reveal(), ...params]),
    });
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    let result: ReturnType<typeof parseXmlRpcResponse>;
    try {
      result = parseXmlRpcResponse(res.body.toString('utf8'));
    } catch {
      throw ctx.fail(
        `the Loopia API answered ${what} with something other than XML-RPC (HTTP ${res.status})`,
      );
    }
    if ('fault' in result)
      throw ctx.fail(`Loopia refused to ${what} (fault ${result.fault.code}: ${result.fault.message})`);
    const status = statusOf(result.value);
    if (status === 'RATE_LIMITED' && attempt < RATE_LIMIT_TRIES) {
      await ctx.sleep(RATE_LIMIT_PAUSE_MS * 2 ** (attempt - 1));
      continue;
    }
    return result.value;
  }
}

/** A status string, also when it comes as the only element of an array. */
function statusOf(value: XmlRpcValue): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0].trim();
  return undefined;
}

function refused(ctx: RestCallContext, status: string, what: string) {
  if (status === 'AUTH_ERROR')
    return ctx.fail(
      `credentials refused while trying to ${what} (AUTH_ERROR): check LOOPIA_API_USER and LOOPIA_API_PASSWORD, ` +
        'that the API user may call getZoneRecords, addZoneRecord, removeZoneRecord and removeSubdomain, and that ' +
        'the domain is in its account',
    );
  if (status === 'RATE_LIMITED')
    return ctx.fail(`rate limited while trying to ${what} (RATE_LIMITED); retry in a few minutes`);
  return ctx.fail(`Loopia refused to ${what} (${status})`);
}

/** Records of a subdomain (every type): undefined when Loopia answers with a status other than a list. */
async function zoneRecords(
  c: LoopiaConfig,
  ctx: RestCallContext,
  domain: string,
  sub: string,
  what: string,
): Promise<LoopiaRecord[]> {
  const value = await call(c, ctx, 'getZoneRecords', [domain, sub], what);
  const status = statusOf(value);
  if (status !== undefined) throw refused(ctx, status, what);
  if (!Array.isArray(value))
    throw ctx.fail(`the Loopia API answered ${what} with neither records nor a status`);
  return value.filter((r) => r !== null && typeof r === 'object' && !Array.isArray(r)) as LoopiaRecord[];
}

const api: RestApi<LoopiaConfig> = {
  code: CODE,
  apiName: 'Loopia',
  urlVariable: 'LOOPIA_API_URL',
  credentialVariables:
    'LOOPIA_API_USER and LOOPIA_API_PASSWORD (an API user of the account that holds the domain)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.password],
  // The credentials travel in the XML-RPC parameters.
  authorize: (_c, req) => req,
  // Cleanup reads the subdomain and removes it once empty: one change at a name at a time.
  oneWriterPerName: true,
  async list(c, record, domain, ctx) {
    const records = await zoneRecords(
      c,
      ctx,
      domain,
      subdomain(record),
      `list the records of ${record.fqdn}`,
    );
    const found: ListedTxt[] = [];
    for (const r of records) {
      if (r.type !== 'TXT' || typeof r.rdata !== 'string' || typeof r.record_id !== 'number') continue;
      found.push({ id: String(r.record_id), value: r.rdata });
    }
    return found;
  },
  async create(c, record, domain, ctx) {
    const what = `create the TXT record ${record.fqdn}`;
    const value = await call(
      c,
      ctx,
      'addZoneRecord',
      [
        domain,
        subdomain(record),
        { type: 'TXT', ttl: Math.max(MIN_TTL, record.ttl), priority: 0, rdata: record.value, record_id: 0 },
      ],
      what,
    );
    const status = statusOf(value);
    if (status !== 'OK') throw refused(ctx, status ?? 'an unexpected answer', what);
    // Loopia answers no id: cleanup finds the record by its value.
    return undefined;
  },
  async remove(c, record, domain, id, ctx) {
    const sub = subdomain(record);
    const what = `delete the TXT record ${record.fqdn}`;
    const status = statusOf(await call(c, ctx, 'removeZoneRecord', [domain, sub, Number(id)], what));
    if (status !== 'OK') {
      // Loopia has no status for a record already gone: look again. Gone is what cleanup wants.
      const still = await zoneRecords(c, ctx, domain, sub, `list the records of ${record.fqdn}`);
      if (still.some((r) => r.record_id === Number(id)))
        throw refused(ctx, status ?? 'an unexpected answer', what);
    }
    // A subdomain without records is removed (never the apex).
    if (sub === '@') return;
    const left = await zoneRecords(c, ctx, domain, sub, `list the records of ${record.fqdn}`);
    if (left.length > 0) return;
    const removed = statusOf(
      await call(c, ctx, 'removeSubdomain', [domain, sub], `remove the empty subdomain ${record.fqdn}`),
    );
    if (removed !== 'OK')
      throw refused(ctx, removed ?? 'an unexpected answer', `remove the empty subdomain ${record.fqdn}`);
  },
};

/** Loopia names subdomains relative to the domain, "@" at the apex. */
function subdomain(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Loopia',
  description:
    'Adds the TXT records through the Loopia XML-RPC API (addZoneRecord, removeZoneRecord), with an API user; ' +
    'LOOPIA_API_URL selects another Loopia (api.loopia.rs).',
  docsUrl: 'https://www.loopia.com/api/',
  permissions:
    'LOOPIA_API_USER / LOOPIA_API_PASSWORD: an API user (customer zone → Account settings → LoopiaAPI) with the ' +
    'methods getZoneRecords, addZoneRecord, removeZoneRecord and removeSubdomain.',
  example: [
    'LOOPIA_API_USER=user@loopiaapi \\',
    'LOOPIA_API_PASSWORD=yyyyyyyy \\',
    "  acmekit --dns loopia --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'LOOPIA',
  // lego's loopia defaults: Loopia publishes changes slowly (40 minutes, checked every minute).
  defaults: {
    ttl: MIN_TTL,
    propagationTimeoutMs: 2_400_000,
    pollingIntervalMs: 60_000,
    httpTimeoutMs: 60_000,
  },
  env: [
    { name: 'LOOPIA_API_USER', description: 'API user name', required: true },
    { name: 'LOOPIA_API_PASSWORD', description: 'API user password', required: true, secret: true },
    {
      name: 'LOOPIA_API_URL',
      description: 'API endpoint, e.g. https://api.loopia.rs/RPCSERV',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    return {
      user: env.required('LOOPIA_API_USER'),
      password: env.requiredSecret('LOOPIA_API_PASSWORD'),
      apiUrl: apiUrlSetting(env, CODE, 'LOOPIA_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<LoopiaConfig>;
