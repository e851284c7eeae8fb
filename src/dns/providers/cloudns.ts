import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// ClouDNS HTTP API, DNS: https://www.cloudns.net/wiki/article/42/ (records.json, add-record.json,
// delete-record.json, get-zone-info.json). Every call carries auth-id (or sub-auth-id) and
// auth-password; acmekit sends all parameters as a POST form, so the password is never part of a URL.
// Answers are JSON with HTTP 200 even for errors: {"status": "Failed", "statusDescription": …}. Records
// are named relative to the zone ("" at the apex); TTLs are one of a fixed list.

const CODE = 'cloudns';
const DEFAULT_API_URL = 'https://api.cloudns.net/dns';
/** The TTLs ClouDNS accepts, in seconds; others are rounded up to the next one. */
const TTLS = [60, 300, 900, 1800, 3600, 21600, 43200, 86400, 172800, 259200, 604800, 1209600, 2592000];

interface CloudnsConfig {
  /** ["auth-id", id] or ["sub-auth-id", id]. */
  readonly user: readonly [string, string];
  readonly password: Secret;
  readonly apiUrl: string;
}

const CREDENTIALS = 'CLOUDNS_AUTH_ID (or CLOUDNS_SUB_AUTH_ID) and CLOUDNS_AUTH_PASSWORD';

const api: RestApi<CloudnsConfig> = {
  code: CODE,
  apiName: 'ClouDNS',
  urlVariable: 'CLOUDNS_API_URL',
  credentialVariables: `${CREDENTIALS} (an API user)`,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.password],
  authorize(c, req) {
    const form = new URLSearchParams(req.rawBody ?? '');
    form.set(c.user[0], c.user[1]);
    form.set('auth-password', c.password.reveal());
    return { ...req, rawBody: form.toString() };
  },
  async zoneRef(_c, zone, ctx) {
    const info = await call(
      ctx,
      'get-zone-info.json',
      { 'domain-name': zone },
      `find the zone ${zone}`,
      true,
    );
    if (info.status === 'Failed' && /auth/i.test(String(info.statusDescription)))
      throw failed(ctx, info, `find the zone ${zone}`);
    if (info.status === 'Failed')
      throw ctx.fail(
        `zone ${zone} is not in the ClouDNS account of ${CREDENTIALS} (${String(info.statusDescription)})`,
      );
    return zone;
  },
  async list(_c, record, zone, ctx) {
    const body = await call(
      ctx,
      'records.json',
      { 'domain-name': zone, host: host(record), type: 'TXT' },
      `list the TXT records ${record.fqdn}`,
    );
    // An object keyed by record id, or [] when there is none.
    return Object.values(body)
      .filter(
        (r): r is { id: string; type: string; host: string; record: string } =>
          typeof r === 'object' &&
          r !== null &&
          (r as { type?: unknown }).type === 'TXT' &&
          String((r as { host?: unknown }).host).toLowerCase() === host(record) &&
          typeof (r as { record?: unknown }).record === 'string',
      )
      .map((r) => ({ id: String(r.id), value: r.record }));
  },
  async create(_c, record, zone, ctx) {
    const body = await call(
      ctx,
      'add-record.json',
      {
        'domain-name': zone,
        'record-type': 'TXT',
        host: host(record),
        record: record.value,
        ttl: String(roundTtl(record.ttl)),
      },
      `create the TXT record ${record.fqdn}`,
    );
    const id = (body.data as { id?: unknown } | undefined)?.id;
    return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    const body = await call(
      ctx,
      'delete-record.json',
      { 'domain-name': zone, 'record-id': id },
      `delete the TXT record ${record.fqdn}`,
      true,
    );
    if (body.status !== 'Failed') return;
    // The API's words for a record that is already gone are not documented: look again. Gone is what
    // cleanup wants; still there is an error.
    const still = await call(
      ctx,
      'records.json',
      { 'domain-name': zone, host: host(record), type: 'TXT' },
      `list the TXT records ${record.fqdn}`,
    );
    if (Object.values(still).some((r) => String((r as { id?: unknown } | null)?.id) === id))
      throw failed(ctx, body, `delete the TXT record ${record.fqdn}`);
  },
};

/**
 * One POST with form parameters. The API answers errors with HTTP 200 and {"status": "Failed"}: those
 * become errors here unless `keepFailed` (the caller looks at them itself).
 */
async function call(
  ctx: RestCallContext,
  endpoint: string,
  params: Record<string, string>,
  what: string,
  keepFailed = false,
): Promise<Record<string, unknown>> {
  const res = await ctx.send({
    method: 'POST',
    path: `/${endpoint}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams(params).toString(),
  });
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw ctx.fail(`the ClouDNS API answered ${what} with something other than JSON (HTTP ${res.status})`);
  }
  if (Array.isArray(body)) return {};
  if (body === null || typeof body !== 'object')
    throw ctx.fail(`the ClouDNS API answered ${what} with something other than a JSON object`);
  const json = body as Record<string, unknown>;
  if (json.status === 'Failed' && !keepFailed) throw failed(ctx, json, what);
  return json;
}

function failed(ctx: RestCallContext, body: Record<string, unknown>, what: string) {
  const description = String(body.statusDescription ?? 'no description');
  if (/auth/i.test(description))
    return ctx.fail(`credentials refused while trying to ${what} (${description}): check ${CREDENTIALS}`);
  return ctx.fail(`ClouDNS refused to ${what} (${description})`);
}

/** ClouDNS names records relative to the zone; the apex is the empty host. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

function roundTtl(ttl: number): number {
  return TTLS.find((t) => t >= ttl) ?? TTLS[TTLS.length - 1]!;
}

export const definition = {
  code: CODE,
  title: 'ClouDNS',
  description:
    'Adds the TXT records through the ClouDNS HTTP API, with an API user (auth-id or sub-auth-id).',
  docsUrl: 'https://www.cloudns.net/wiki/article/42/',
  permissions:
    'CLOUDNS_AUTH_ID (or CLOUDNS_SUB_AUTH_ID) and CLOUDNS_AUTH_PASSWORD: an API user or sub-user (API & ' +
    'Resellers) that may change the zone; the API may restrict it to listed IP addresses.',
  example: [
    'CLOUDNS_AUTH_ID=1234 \\',
    'CLOUDNS_AUTH_PASSWORD=secret \\',
    "  acmekit --dns cloudns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'CLOUDNS',
  // lego's cloudns defaults.
  defaults: { ttl: 60, propagationTimeoutMs: 180_000, pollingIntervalMs: 10_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'CLOUDNS_AUTH_ID', description: 'API user id (auth-id); or set CLOUDNS_SUB_AUTH_ID' },
    {
      name: 'CLOUDNS_SUB_AUTH_ID',
      description: 'API sub-user id (sub-auth-id), used when CLOUDNS_AUTH_ID is unset',
    },
    { name: 'CLOUDNS_AUTH_PASSWORD', description: 'password of the API user', required: true, secret: true },
    { name: 'CLOUDNS_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    const authId = env.string('CLOUDNS_AUTH_ID');
    const subAuthId = env.string('CLOUDNS_SUB_AUTH_ID');
    if (authId === undefined && subAuthId === undefined)
      throw new InvalidInputError(
        `${CODE}: CLOUDNS_AUTH_ID or CLOUDNS_SUB_AUTH_ID is not set (set one, or <NAME>_FILE to a file holding it); ` +
          `\`acmekit dns help ${CODE}\` lists every variable`,
        'CLOUDNS_AUTH_ID',
      );
    return {
      user: authId !== undefined ? ['auth-id', authId] : ['sub-auth-id', subAuthId!],
      password: env.requiredSecret('CLOUDNS_AUTH_PASSWORD'),
      apiUrl: apiUrlSetting(env, CODE, 'CLOUDNS_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<CloudnsConfig>;
