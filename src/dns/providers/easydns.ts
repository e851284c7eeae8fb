import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// easyDNS REST API: https://docs.sandbox.rest.easydns.net/
// HTTP Basic authentication (API token, API key) and `format=json` on every request. A domain's records
// are listed at /zones/records/all/<domain>, a TXT record is added with PUT /zones/records/add/<domain>/TXT
// (host relative to the domain, "@" at the apex) and deleted by id.

const CODE = 'easydns';
const DEFAULT_ENDPOINT = 'https://rest.easydns.net';

interface EasyDnsConfig {
  readonly token: Secret;
  readonly key: Secret;
  readonly endpoint: string;
}

function basic(c: EasyDnsConfig): string {
  return Buffer.from(`${c.token.reveal()}:${c.key.reveal()}`).toString('base64');
}

/** easyDNS names hosts relative to the domain, "@" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

const api: RestApi<EasyDnsConfig> = {
  code: CODE,
  apiName: 'easyDNS',
  urlVariable: 'EASYDNS_ENDPOINT',
  credentialVariables: 'EASYDNS_TOKEN and EASYDNS_KEY (the API token and key of the account)',
  baseUrl: (c) => c.endpoint,
  // The Basic credentials too, in case an answer echoes the header.
  secrets: (c) => [c.token, c.key, new Secret(basic(c))],
  authorize: (c, req) => withHeaders(req, { authorization: `Basic ${basic(c)}` }),
  async list(_c, record, zone, ctx) {
    const res = await ctx.send({
      method: 'GET',
      path: `/zones/records/all/${encodeURIComponent(zone)}?format=json`,
    });
    if (res.status === 404)
      throw ctx.fail(
        `domain ${zone} is not in the easyDNS account of EASYDNS_TOKEN (or has no DNS service there)`,
      );
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `list the records of ${zone}`);
    const body = parseJsonObject(res.body);
    if (!body)
      throw ctx.fail(
        `the easyDNS API answered the list of records of ${zone} with something other than JSON`,
      );
    const name = host(record);
    const found: ListedTxt[] = [];
    for (const r of Array.isArray(body.data)
      ? (body.data as { id?: unknown; host?: unknown; type?: unknown; rdata?: unknown }[])
      : []) {
      if (
        r.type === 'TXT' &&
        typeof r.host === 'string' &&
        r.host.toLowerCase() === name &&
        (typeof r.id === 'string' || typeof r.id === 'number') &&
        typeof r.rdata === 'string'
      )
        found.push({ id: String(r.id), value: unquoteTxt(r.rdata) });
    }
    return found;
  },
  async create(_c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'PUT',
        path: `/zones/records/add/${encodeURIComponent(zone)}/TXT?format=json`,
        body: {
          domain: zone,
          host: host(record),
          ttl: String(record.ttl),
          prio: '0',
          type: 'TXT',
          rdata: record.value,
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    const id = (body.data as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    await ctx.json(
      {
        method: 'DELETE',
        path: `/zones/records/${encodeURIComponent(zone)}/${encodeURIComponent(id)}?format=json`,
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'easyDNS',
  description: 'Adds the TXT records through the easyDNS REST API, with an API token and key.',
  docsUrl: 'https://docs.sandbox.rest.easydns.net/',
  permissions:
    'EASYDNS_TOKEN / EASYDNS_KEY: the REST API token and key of the account (ask easyDNS to enable API access). ' +
    'For the sandbox, EASYDNS_ENDPOINT=https://sandbox.rest.easydns.net.',
  example: [
    'EASYDNS_TOKEN=xxx \\',
    'EASYDNS_KEY=yyy \\',
    "  acmekit --dns easydns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'EASYDNS',
  // lego's easydns defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'EASYDNS_TOKEN', description: 'API token', required: true, secret: true },
    { name: 'EASYDNS_KEY', description: 'API key', required: true, secret: true },
    {
      name: 'EASYDNS_ENDPOINT',
      description: 'API endpoint URL (the sandbox for tests)',
      default: DEFAULT_ENDPOINT,
    },
    {
      name: 'EASYDNS_SEQUENCE_INTERVAL',
      description:
        "lego's pause between records presented one after another, seconds; accepted for lego's env files, " +
        'acmekit publishes the records together',
      default: '60',
    },
  ],
  configure(env) {
    env.durationMs('EASYDNS_SEQUENCE_INTERVAL', 60_000);
    return {
      token: env.requiredSecret('EASYDNS_TOKEN'),
      key: env.requiredSecret('EASYDNS_KEY'),
      endpoint: apiUrlSetting(env, CODE, 'EASYDNS_ENDPOINT', DEFAULT_ENDPOINT),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<EasyDnsConfig>;
