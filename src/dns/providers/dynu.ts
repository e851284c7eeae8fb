import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  type RestRequest,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Dynu API v2, DNS: https://www.dynu.com/en-US/Support/API
// The API key in the API-Key header. Records are read by host name (GET /dns/record/{hostname}
// ?recordType=TXT); a new record needs the id of the domain and the node under it, which
// GET /dns/getroot/{hostname} gives; records are deleted by domain id and record id. Answers carry their
// own statusCode, and errors {statusCode, type, message}.

const CODE = 'dynu';
const DEFAULT_API_URL = 'https://api.dynu.com/v2';

interface DynuConfig {
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

const api: RestApi<DynuConfig> = {
  code: CODE,
  apiName: 'Dynu',
  urlVariable: 'DYNU_API_URL',
  credentialVariables: 'DYNU_API_KEY (the API key from the Dynu control panel, API Credentials)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize: (c, req) => withHeaders(req, { 'api-key': c.apiKey.reveal() }),
  async list(_c, record, _zone, ctx) {
    const host = hostname(record);
    const body = await call(
      ctx,
      { method: 'GET', path: `/dns/record/${encodeURIComponent(host)}?recordType=TXT` },
      `list the TXT records ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    const records =
      (body.dnsRecords as {
        id?: unknown;
        domainId?: unknown;
        hostname?: unknown;
        recordType?: unknown;
        textData?: unknown;
      }[]) ?? [];
    return records
      .filter(
        (r) =>
          r.recordType === 'TXT' &&
          String(r.hostname).toLowerCase() === host &&
          typeof r.id === 'number' &&
          typeof r.domainId === 'number' &&
          typeof r.textData === 'string',
      )
      .map((r) => ({ id: `${r.domainId}/${r.id}`, value: r.textData as string }));
  },
  async create(_c, record, _zone, ctx) {
    const host = hostname(record);
    const root = await call(
      ctx,
      { method: 'GET', path: `/dns/getroot/${encodeURIComponent(host)}` },
      `find the domain of ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    if (typeof root.id !== 'number')
      throw ctx.fail(
        `${host} is not under a domain of the Dynu account of DYNU_API_KEY: add the domain first`,
      );
    const body = await call(
      ctx,
      {
        method: 'POST',
        path: `/dns/${root.id}/record`,
        body: {
          nodeName: typeof root.node === 'string' ? root.node : '',
          recordType: 'TXT',
          textData: record.value,
          ttl: record.ttl,
          state: true,
        },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? `${root.id}/${body.id}` : undefined;
  },
  async remove(_c, record, _zone, id, ctx) {
    const [domainId, recordId] = id.split('/');
    // 404: already gone, which is what cleanup wants.
    await call(
      ctx,
      { method: 'DELETE', path: `/dns/${domainId}/record/${recordId}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json || (json.type === undefined && json.message === undefined)) return undefined;
    return [json.type, json.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
  },
};

/**
 * One call: the answer's own statusCode counts as much as the HTTP status (the API has answered errors
 * with HTTP 200); returns the JSON object when the status is one `ok` takes.
 */
async function call(
  ctx: RestCallContext,
  request: Omit<RestRequest, 'headers'>,
  what: string,
  ok: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<Record<string, unknown>> {
  const res = await ctx.send(request);
  const body = parseJsonObject(res.body);
  const own = typeof body?.statusCode === 'number' ? body.statusCode : undefined;
  const status = res.status >= 200 && res.status < 300 && own !== undefined ? own : res.status;
  if (!ok(status)) throw ctx.refused({ ...res, status }, what);
  if (!body && res.body.length > 0 && status >= 200 && status < 300)
    throw ctx.fail(`the Dynu API answered ${what} with something other than JSON (HTTP ${res.status})`);
  return body ?? {};
}

/** Dynu names records by host name: absolute, lower case, no trailing dot. */
function hostname(record: TxtRecord): string {
  return record.fqdn.replace(/\.$/, '').toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Dynu',
  description: 'Adds the TXT records through the Dynu API v2 (DNS records), with an API key.',
  docsUrl: 'https://www.dynu.com/en-US/Support/API',
  permissions: 'DYNU_API_KEY: the API key shown under Control Panel, API Credentials.',
  example: [
    'DYNU_API_KEY=1234567890abcdefghijklmnopqrstuvwxyz \\',
    "  acmekit --dns dynu --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DYNU',
  // lego's dynu defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 180_000, pollingIntervalMs: 10_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'DYNU_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'DYNU_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      apiKey: env.requiredSecret('DYNU_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'DYNU_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<DynuConfig>;
