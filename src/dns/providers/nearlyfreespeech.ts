import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { NFSN_AUTH_HEADER, nfsnAuthHeader, nfsnSalt } from './nearlyfreespeech-auth.ts';

// NearlyFreeSpeech.NET API: https://members.nearlyfreespeech.net/wiki/API/Reference (DNS object:
// listRRs, addRR, removeRR) and https://members.nearlyfreespeech.net/wiki/API/Introduction (requests
// and their signature, in nearlyfreespeech-auth.ts). Every call is a POST to /dns/<domain>/<method> with a
// form body; listRRs answers a JSON array of {name, type, data, ttl}; errors are {error, debug}. Records
// are named relative to the domain, "" at the apex, and removed by name, type and data.

const CODE = 'nearlyfreespeech';
const DEFAULT_API_URL = 'https://api.nearlyfreespeech.net';

interface NfsnConfig {
  readonly login: string;
  readonly apiKey: Secret;
  readonly apiUrl: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const api: RestApi<NfsnConfig> = {
  code: CODE,
  apiName: 'NearlyFreeSpeech.NET',
  urlVariable: 'NEARLYFREESPEECH_API_URL',
  credentialVariables:
    'NEARLYFREESPEECH_LOGIN and NEARLYFREESPEECH_API_KEY (the member login and its API key)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  authorize(c, req, clock) {
    // The signed URI is the path from the server's root, with any path of the base URL in front.
    const url = new URL(`${c.apiUrl}${req.path}`);
    const header = nfsnAuthHeader({
      login: c.login,
      apiKey: c.apiKey,
      requestUri: `${url.pathname}${url.search}`,
      body: req.rawBody ?? '',
      timestamp: Math.floor(clock.now() / 1000),
      salt: nfsnSalt(),
    });
    return withHeaders(req, { [NFSN_AUTH_HEADER]: header });
  },
  async list(_c, record, domain, ctx) {
    const name = relative(record);
    const params: Record<string, string> = { type: 'TXT' };
    if (name !== '') params.name = name;
    const rows = await ctx.jsonArray(
      post(domain, 'listRRs', params),
      `list the TXT records of ${record.fqdn}`,
    );
    return (rows as { name?: unknown; type?: unknown; data?: unknown }[])
      .filter((r) => r.type === 'TXT' && String(r.name ?? '').toLowerCase() === name)
      .filter((r): r is { data: string } => typeof r.data === 'string')
      .map((r) => ({ id: r.data, value: r.data }));
  },
  async create(_c, record, domain, ctx) {
    await ctx.json(
      post(domain, 'addRR', {
        name: relative(record),
        type: 'TXT',
        data: record.value,
        ttl: String(record.ttl),
      }),
      `create the TXT record ${record.fqdn}`,
    );
    return record.value;
  },
  async remove(c, record, domain, data, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    const res = await ctx.send(post(domain, 'removeRR', { name: relative(record), type: 'TXT', data }));
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 401 || res.status === 403 || res.status === 429 || res.status >= 500)
      throw ctx.refused(res, what);
    // The API does not document its answer for a record already gone: look again. Gone is what cleanup
    // wants; still there is an error.
    if ((await api.list(c, record, domain, ctx)).some((r) => r.id === data)) throw ctx.refused(res, what);
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json || typeof json.error !== 'string') return undefined;
    return typeof json.debug === 'string' && json.debug ? `${json.error} (${json.debug})` : json.error;
  },
};

function post(
  domain: string,
  method: string,
  params: Record<string, string>,
): Parameters<RestCallContext['send']>[0] {
  return {
    method: 'POST',
    path: `/dns/${encodeURIComponent(domain)}/${method}`,
    headers: FORM,
    rawBody: new URLSearchParams(params).toString(),
  };
}

/** NearlyFreeSpeech.NET names records relative to the domain, "" at the apex. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'NearlyFreeSpeech.NET',
  description:
    'Adds the TXT records through the NearlyFreeSpeech.NET API (DNS addRR, removeRR), with the member login ' +
    'and an API key; every request carries the signature NearlyFreeSpeech.NET documents.',
  docsUrl: 'https://members.nearlyfreespeech.net/wiki/API/Reference',
  permissions:
    'NEARLYFREESPEECH_LOGIN / NEARLYFREESPEECH_API_KEY: the member login and an API key (member interface → ' +
    'Profile → Actions → Manage API Key) of the member who manages the domain’s DNS.',
  example: [
    'NEARLYFREESPEECH_LOGIN=xxxx \\',
    'NEARLYFREESPEECH_API_KEY=xxxxxx \\',
    "  acmekit --dns nearlyfreespeech --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NEARLYFREESPEECH',
  // lego's nearlyfreespeech defaults.
  defaults: { ttl: 3600, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'NEARLYFREESPEECH_LOGIN', description: 'member login', required: true },
    { name: 'NEARLYFREESPEECH_API_KEY', description: 'API key', required: true, secret: true },
    {
      name: 'NEARLYFREESPEECH_API_URL',
      description: 'API base URL, for tests or a proxy',
      default: DEFAULT_API_URL,
    },
    {
      name: 'NEARLYFREESPEECH_SEQUENCE_INTERVAL',
      description:
        "lego's pause between records presented one after another, seconds; accepted for lego's env files, " +
        'acmekit publishes the records together',
      default: '60',
    },
  ],
  configure(env) {
    env.durationMs('NEARLYFREESPEECH_SEQUENCE_INTERVAL', 60_000);
    return {
      login: env.required('NEARLYFREESPEECH_LOGIN'),
      apiKey: env.requiredSecret('NEARLYFREESPEECH_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'NEARLYFREESPEECH_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<NfsnConfig>;
