import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, RestDnsProvider, unquoteTxt, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// IONOS Hosting DNS API v1: https://developer.hosting.ionos.com/docs/dns
// The API key ("<public prefix>.<secret>") in the X-API-Key header. Zones are listed and addressed by
// id; a zone's records are read with GET /v1/zones/{zoneId} filtered by recordName and recordType,
// created with POST /v1/zones/{zoneId}/records (an array; records already at the name are kept) and
// deleted by id. Record names are absolute, without the trailing dot; TXT content is listed quoted.
// Errors are an array of {code, message}.

const CODE = 'ionos';
const DEFAULT_API_URL = 'https://api.hosting.ionos.com/dns';

interface IonosConfig {
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<IonosConfig> = {
  code: CODE,
  apiName: 'IONOS DNS',
  urlVariable: 'IONOS_API_URL',
  credentialVariables: 'IONOS_API_KEY (<prefix>.<secret>, from the IONOS developer portal)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize: (c, req) => withHeaders(req, { 'x-api-key': c.apiKey.reveal() }),
  async zoneRef(_c, zone, ctx) {
    const res = await ctx.send({ method: 'GET', path: '/v1/zones' });
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, 'list the zones');
    const zones = parseJson(res.body);
    const found = Array.isArray(zones)
      ? (zones as { id?: unknown; name?: unknown }[]).find((z) => String(z.name).toLowerCase() === zone)
      : undefined;
    if (typeof found?.id !== 'string')
      throw ctx.fail(`zone ${zone} is not in the IONOS account of IONOS_API_KEY: add the domain's DNS zone`);
    return found.id;
  },
  async list(_c, record, zoneId, ctx) {
    const name = absolute(record);
    const query = new URLSearchParams({ recordName: name, recordType: 'TXT' });
    const body = await ctx.json(
      { method: 'GET', path: `/v1/zones/${encodeURIComponent(zoneId)}?${query}` },
      `list the TXT records ${record.fqdn}`,
    );
    const records =
      (body.records as { id?: unknown; name?: unknown; type?: unknown; content?: unknown }[]) ?? [];
    return records
      .filter(
        (r) =>
          r.type === 'TXT' &&
          String(r.name).toLowerCase() === name &&
          typeof r.id === 'string' &&
          typeof r.content === 'string',
      )
      .map((r) => ({ id: r.id as string, value: unquoteTxt(r.content as string) }));
  },
  async create(_c, record, zoneId, ctx) {
    const res = await ctx.send({
      method: 'POST',
      path: `/v1/zones/${encodeURIComponent(zoneId)}/records`,
      body: [
        {
          name: absolute(record),
          type: 'TXT',
          content: record.value,
          ttl: record.ttl,
          prio: 0,
          disabled: false,
        },
      ],
    });
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `create the TXT record ${record.fqdn}`);
    const created = parseJson(res.body);
    const id = Array.isArray(created) ? (created[0] as { id?: unknown } | undefined)?.id : undefined;
    return typeof id === 'string' ? id : undefined;
  },
  async remove(_c, record, zoneId, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `/v1/zones/${encodeURIComponent(zoneId)}/records/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJson(body);
    const errors = Array.isArray(json) ? json : json && typeof json === 'object' ? [json] : [];
    const first = errors[0] as { code?: unknown; message?: unknown } | undefined;
    if (!first) return undefined;
    return [first.code, first.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
  },
};

/** IONOS names records absolutely, without the trailing dot, in lower case. */
function absolute(record: TxtRecord): string {
  return record.fqdn.replace(/\.$/, '').toLowerCase();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export const definition = {
  code: CODE,
  title: 'IONOS (1&1)',
  description: 'Adds the TXT records through the IONOS Hosting DNS API (v1), with an API key.',
  docsUrl: 'https://developer.hosting.ionos.com/docs/dns',
  permissions:
    'IONOS_API_KEY: an API key created in the IONOS developer portal, written as <public prefix>.<secret>.',
  example: [
    'IONOS_API_KEY=0123456789abcdef.ABCDEFGHIJKLMNOPQRSTUVWXYZ \\',
    "  acmekit --dns ionos --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'IONOS',
  // lego's ionos defaults: IONOS publishes changes slowly.
  defaults: { ttl: 300, propagationTimeoutMs: 900_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'IONOS_API_KEY',
      description: 'API key, <public prefix>.<secret>',
      required: true,
      secret: true,
    },
    { name: 'IONOS_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      apiKey: env.requiredSecret('IONOS_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'IONOS_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<IonosConfig>;
