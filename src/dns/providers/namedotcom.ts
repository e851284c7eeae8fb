import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { ProviderEnv } from '../env.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Name.com API v4, DNS records: https://www.name.com/api-docs/DNS
// HTTP Basic authentication with the account's user name and an API token. Records of a domain are
// listed in pages (page, perPage; nextPage while more follow), created with POST (host relative to the
// domain, "" at the apex) and deleted by id. Errors are {message, details}. Name.com's minimum TTL is
// 300 s.

const CODE = 'namedotcom';
const DEFAULT_SERVER = 'https://api.name.com';
const MIN_TTL = 300;
const PAGE_SIZE = 1000;

interface NamecomConfig {
  readonly username: string;
  readonly token: Secret;
  readonly server: string;
}

const api: RestApi<NamecomConfig> = {
  code: CODE,
  apiName: 'Name.com',
  urlVariable: 'NAMECOM_SERVER',
  credentialVariables: 'NAMECOM_USERNAME and NAMECOM_API_TOKEN (an API token of that user)',
  baseUrl: (c) => c.server,
  secrets: (c) => [c.token],
  authorize: (c, req) => ({
    ...req,
    headers: {
      ...req.headers,
      authorization: `Basic ${Buffer.from(`${c.username}:${c.token.reveal()}`).toString('base64')}`,
    },
  }),
  async list(_c, record, domain, ctx) {
    const found: ListedTxt[] = [];
    const fqdn = record.fqdn.toLowerCase();
    for (let page = 1; page > 0 && page <= 100; ) {
      const body = await ctx.json(
        { method: 'GET', path: `${recordsPath(domain)}?page=${page}&perPage=${PAGE_SIZE}` },
        `list the records of ${domain}`,
      );
      for (const r of (body.records as {
        id?: unknown;
        type?: unknown;
        fqdn?: unknown;
        answer?: unknown;
      }[]) ?? []) {
        if (
          r.type === 'TXT' &&
          String(r.fqdn).toLowerCase() === fqdn &&
          typeof r.id === 'number' &&
          typeof r.answer === 'string'
        )
          found.push({ id: String(r.id), value: r.answer });
      }
      page = typeof body.nextPage === 'number' && body.nextPage > page ? body.nextPage : 0;
    }
    return found;
  },
  async create(_c, record, domain, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: recordsPath(domain),
        body: { host: host(record), type: 'TXT', answer: record.value, ttl: Math.max(MIN_TTL, record.ttl) },
      },
      `create the TXT record ${record.fqdn}`,
    );
    return typeof body.id === 'number' ? String(body.id) : undefined;
  },
  async remove(_c, record, domain, id, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.json(
      { method: 'DELETE', path: `${recordsPath(domain)}/${encodeURIComponent(id)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json || typeof json.message !== 'string') return undefined;
    return typeof json.details === 'string' && json.details !== ''
      ? `${json.message}: ${json.details}`
      : json.message;
  },
};

function recordsPath(domain: string): string {
  return `/v4/domains/${encodeURIComponent(domain)}/records`;
}

/** Name.com's `host`: relative to the domain, "" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

/** NAMECOM_SERVER: a URL, or a bare host name ("api.dev.name.com") meaning HTTPS on it. */
function serverSetting(env: ProviderEnv): string {
  const raw = env.string('NAMECOM_SERVER');
  if (raw !== undefined && /^[a-z0-9.-]+(:\d+)?$/i.test(raw)) return `https://${raw.toLowerCase()}`;
  return apiUrlSetting(env, CODE, 'NAMECOM_SERVER', DEFAULT_SERVER);
}

export const definition = {
  code: CODE,
  title: 'Name.com',
  description:
    'Adds the TXT records through the Name.com API v4 (DNS records), with a user name and an API token.',
  docsUrl: 'https://www.name.com/api-docs/DNS',
  permissions:
    'NAMECOM_USERNAME and NAMECOM_API_TOKEN: the account user name and a production API token (Account, API ' +
    'Settings); the test server api.dev.name.com takes the user name with "-test" and a test token.',
  example: [
    'NAMECOM_USERNAME=foo.bar \\',
    'NAMECOM_API_TOKEN=a379a6f6eeafb9a55e378c118034e2751e682fab \\',
    "  acmekit --dns namedotcom --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NAMECOM',
  // lego's namedotcom defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 900_000, pollingIntervalMs: 20_000, httpTimeoutMs: 10_000 },
  env: [
    { name: 'NAMECOM_USERNAME', description: 'Name.com user name', required: true },
    { name: 'NAMECOM_API_TOKEN', description: 'API token', required: true, secret: true },
    {
      name: 'NAMECOM_SERVER',
      description: 'API server: https://api.dev.name.com (or api.dev.name.com) for the test environment',
      default: DEFAULT_SERVER,
    },
  ],
  configure(env) {
    return {
      username: env.required('NAMECOM_USERNAME'),
      token: env.requiredSecret('NAMECOM_API_TOKEN'),
      server: serverSetting(env),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<NamecomConfig>;
