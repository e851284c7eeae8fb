import { createHmac } from 'node:crypto';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// DNS Made Easy REST API v2.0: https://api-docs.dnsmadeeasy.com/
// Every request carries x-dnsme-apiKey, x-dnsme-requestDate (the current time as an HTTP date) and
// x-dnsme-hmac, the hex HMAC-SHA1 of that date string keyed with the secret key. A managed domain is found
// by name; its records are listed filtered by name and type, created and deleted by id.

const CODE = 'dnsmadeeasy';
const PRODUCTION_URL = 'https://api.dnsmadeeasy.com/V2.0';
const SANDBOX_URL = 'https://api.sandbox.dnsmadeeasy.com/V2.0';

interface DnsMadeEasyConfig {
  readonly key: string;
  readonly secret: Secret;
  readonly apiUrl: string;
}

/** The three authentication headers for a request made at `now` (milliseconds). */
export function dnsMadeEasyHeaders(key: string, secret: string, now: number): Record<string, string> {
  const date = new Date(now).toUTCString();
  return {
    'x-dnsme-apikey': key,
    'x-dnsme-requestdate': date,
    'x-dnsme-hmac': createHmac('sha1', secret).update(date, 'utf8').digest('hex'),
  };
}

/** DNS Made Easy names records relative to the domain; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

const api: RestApi<DnsMadeEasyConfig> = {
  code: CODE,
  apiName: 'DNS Made Easy',
  urlVariable: 'DNSMADEEASY_API_URL (or DNSMADEEASY_SANDBOX)',
  credentialVariables:
    'DNSMADEEASY_API_KEY and DNSMADEEASY_API_SECRET (and DNSMADEEASY_SANDBOX for sandbox keys)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.secret],
  authorize: (c, req, clock) =>
    withHeaders(req, { ...dnsMadeEasyHeaders(c.key, c.secret.reveal(), clock.now()) }),
  async zoneRef(_c, zone, ctx) {
    const path = `/dns/managed/name?domainname=${encodeURIComponent(zone)}`;
    const res = await ctx.send({ method: 'GET', path });
    const id = res.status >= 200 && res.status < 300 ? parseJsonObject(res.body)?.id : undefined;
    if (res.status === 404 || (res.status >= 200 && res.status < 300 && typeof id !== 'number'))
      throw ctx.fail(
        `domain ${zone} is not a managed domain of the DNS Made Easy account of DNSMADEEASY_API_KEY`,
      );
    if (typeof id !== 'number') throw ctx.refused(res, `find the domain ${zone}`);
    return String(id);
  },
  async list(_c, record, domainId, ctx) {
    const name = relative(record);
    // Filtered by name and type, the answer holds the few records at the name.
    const body = await ctx.json(
      {
        method: 'GET',
        path: `/dns/managed/${domainId}/records?recordName=${encodeURIComponent(name)}&type=TXT`,
      },
      `list the TXT records of ${record.fqdn}`,
    );
    const found: ListedTxt[] = [];
    for (const r of (body.data as { id?: unknown; name?: unknown; type?: unknown; value?: unknown }[]) ??
      []) {
      if (
        r.type === 'TXT' &&
        String(r.name).toLowerCase() === name &&
        typeof r.id === 'number' &&
        typeof r.value === 'string'
      )
        found.push({ id: String(r.id), value: unquoteTxt(r.value) });
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `/dns/managed/${domainId}/records`,
        body: {
          name: relative(record),
          type: 'TXT',
          value: record.value,
          ttl: record.ttl,
          gtdLocation: 'DEFAULT',
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? String(body.id) : undefined;
  },
  async remove(_c, record, domainId, id, ctx) {
    const res = await ctx.send({ method: 'DELETE', path: `/dns/managed/${domainId}/records/${id}` });
    // 404: already gone, which is what cleanup wants.
    if ((res.status < 200 || res.status >= 300) && res.status !== 404)
      throw ctx.refused(res, `delete the TXT record ${record.fqdn}`);
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error;
    return Array.isArray(error)
      ? error.map(String).join('; ')
      : typeof error === 'string'
        ? error
        : undefined;
  },
};

export const definition = {
  code: CODE,
  title: 'DNS Made Easy',
  description:
    'Adds the TXT records through the DNS Made Easy REST API v2.0, with an API key and secret key (HMAC-SHA1 signed requests).',
  docsUrl: 'https://api-docs.dnsmadeeasy.com/',
  permissions:
    'DNSMADEEASY_API_KEY / DNSMADEEASY_API_SECRET: the API key and secret key of a user who may change the managed domains ' +
    '(Config → Account Information). Sandbox keys need DNSMADEEASY_SANDBOX=true.',
  example: [
    'DNSMADEEASY_API_KEY=xxxxxx \\',
    'DNSMADEEASY_API_SECRET=yyyyy \\',
    "  acmekit --dns dnsmadeeasy --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DNSMADEEASY',
  // lego's dnsmadeeasy defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 10_000 },
  env: [
    { name: 'DNSMADEEASY_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'DNSMADEEASY_API_SECRET', description: 'secret key', required: true, secret: true },
    { name: 'DNSMADEEASY_SANDBOX', description: 'use the sandbox API (true/false)', default: 'false' },
    {
      name: 'DNSMADEEASY_API_URL',
      description: 'API base URL, for tests or a proxy (default: the production or sandbox API)',
      default: PRODUCTION_URL,
    },
  ],
  configure(env) {
    const sandbox = env.bool('DNSMADEEASY_SANDBOX', false);
    return {
      key: env.required('DNSMADEEASY_API_KEY'),
      secret: env.requiredSecret('DNSMADEEASY_API_SECRET'),
      apiUrl: apiUrlSetting(env, CODE, 'DNSMADEEASY_API_URL', sandbox ? SANDBOX_URL : PRODUCTION_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<DnsMadeEasyConfig>;
