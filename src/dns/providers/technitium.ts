import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Technitium DNS Server HTTP API: https://github.com/TechnitiumSoftware/DnsServer/blob/master/APIDOCS.md
// (zones/records/get, zones/records/add, zones/records/delete). Parameters go as a form; the API token
// as "Authorization: Bearer" (version 15 and later) and as the "token" form field (earlier versions).
// Every answer is HTTP 200 with a JSON "status": ok, error (with errorMessage) or invalid-token. A TXT
// record is deleted by its text, and adding one that is already there adds nothing.

const CODE = 'technitium';

interface TechnitiumConfig {
  readonly token: Secret;
  readonly baseUrl: string;
}

interface TechnitiumRecord {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly rData?: { readonly text?: unknown } | null;
}

const NO_SUCH_RECORD = /no such record exists/i;

const api: RestApi<TechnitiumConfig> = {
  code: CODE,
  apiName: 'Technitium DNS Server',
  urlVariable: 'TECHNITIUM_SERVER_BASE_URL',
  credentialVariables: 'TECHNITIUM_API_TOKEN',
  baseUrl: (c) => c.baseUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => ({
    ...req,
    headers: { ...req.headers, authorization: `Bearer ${c.token.reveal()}` },
    // The form field for servers before version 15, which read the token only there.
    ...(req.rawBody !== undefined
      ? { rawBody: `${req.rawBody}&${new URLSearchParams({ token: c.token.reveal() })}` }
      : {}),
  }),
  async list(_c, record, zone, ctx) {
    const response = await call(
      ctx,
      'get',
      { domain: domain(record), zone },
      `list the TXT records of ${record.fqdn}`,
    );
    const records = Array.isArray(response.records) ? (response.records as TechnitiumRecord[]) : [];
    return records
      .filter(
        (r) =>
          r.type === 'TXT' &&
          String(r.name).toLowerCase() === domain(record) &&
          typeof r.rData?.text === 'string',
      )
      .map((r) => ({ id: String(r.rData?.text), value: String(r.rData?.text) }));
  },
  async create(_c, record, zone, ctx) {
    await call(
      ctx,
      'add',
      {
        domain: domain(record),
        zone,
        type: 'TXT',
        ttl: String(record.ttl),
        text: record.value,
        overwrite: 'false',
      },
      `add the TXT record ${record.fqdn}`,
    );
    return record.value;
  },
  async remove(_c, record, zone, text, ctx) {
    await call(
      ctx,
      'delete',
      { domain: domain(record), zone, type: 'TXT', text },
      `delete the TXT record ${record.fqdn}`,
      // Already gone: what cleanup wants.
      (message) => NO_SUCH_RECORD.test(message),
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    return typeof json?.errorMessage === 'string' ? json.errorMessage : undefined;
  },
};

/** Technitium names records by their full name without the trailing dot. */
function domain(record: TxtRecord): string {
  return unFqdn(record.fqdn).toLowerCase();
}

/**
 * One API call: a form POST to /api/zones/records/<action>. Returns the answer's "response" object;
 * an answer whose status is not ok becomes an error naming the API's words, unless `gone` accepts it.
 */
async function call(
  ctx: RestCallContext,
  action: 'get' | 'add' | 'delete',
  form: Record<string, string>,
  what: string,
  gone?: (message: string) => boolean,
): Promise<Record<string, unknown>> {
  const body = await ctx.json(
    {
      method: 'POST',
      path: `/api/zones/records/${action}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: new URLSearchParams(form).toString(),
    },
    what,
  );
  const status = body.status;
  if (status === 'ok') {
    const response = body.response;
    return response && typeof response === 'object' ? (response as Record<string, unknown>) : {};
  }
  const message = typeof body.errorMessage === 'string' ? body.errorMessage : '';
  if (status === 'invalid-token')
    throw ctx.fail(
      `credentials refused while trying to ${what} (${message || 'invalid token'}): check TECHNITIUM_API_TOKEN ` +
        '(an API token from the web console: Administration, Sessions, Create Token)',
    );
  if (status === 'error' && gone?.(message)) return {};
  if (/access was denied/i.test(message))
    throw ctx.fail(
      `access denied while trying to ${what} (${message}): the user of TECHNITIUM_API_TOKEN needs the ` +
        'Modify and Delete permissions on the zone',
    );
  if (/no such zone/i.test(message))
    throw ctx.fail(
      `${message}: the zone of ${form.domain} is not on the Technitium server at TECHNITIUM_SERVER_BASE_URL`,
    );
  throw ctx.fail(`Technitium refused to ${what} (status ${String(status)}${message ? `: ${message}` : ''})`);
}

export const definition = {
  code: CODE,
  title: 'Technitium DNS Server',
  description:
    "Adds the TXT records through the Technitium DNS Server's HTTP API (zones/records add, get and delete), " +
    'with an API token.',
  docsUrl: 'https://github.com/TechnitiumSoftware/DnsServer/blob/master/APIDOCS.md',
  permissions:
    'TECHNITIUM_API_TOKEN: an API token of a user with View, Modify and Delete permissions on the zone ' +
    "(Technitium recommends RFC 2136 updates, acmekit's rfc2136 provider, over the HTTP API).",
  example: [
    'TECHNITIUM_SERVER_BASE_URL=https://dns.internal:53443 TECHNITIUM_API_TOKEN=0123abcd \\',
    "  acmekit --dns technitium --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'TECHNITIUM',
  // lego's technitium defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'TECHNITIUM_SERVER_BASE_URL',
      description: "the server's web console URL, e.g. https://dns.internal:53443",
      required: true,
    },
    { name: 'TECHNITIUM_API_TOKEN', description: 'API token', required: true, secret: true },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('TECHNITIUM_API_TOKEN'),
      baseUrl: apiUrlSetting(
        env,
        CODE,
        'TECHNITIUM_SERVER_BASE_URL',
        env.required('TECHNITIUM_SERVER_BASE_URL'),
      ),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<TechnitiumConfig>;
