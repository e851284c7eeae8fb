import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../errors/base.ts';
import { Secret } from '../../internal/secret.ts';
import { HttpTransport } from '../../protocol/transport.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';

// Infoblox NIOS WAPI (the REST API of the Grid Manager), as Infoblox documents it: the WAPI reference
// every Grid Manager serves at https://<grid-master>/wapidoc/ (object record:txt, paging, errors) and
// the "Infoblox REST API" reference guide
// (https://www.infoblox.com/wp-content/uploads/infoblox-deployment-infoblox-rest-api.pdf). HTTP
// Basic authentication on https://<host>:<port>/wapi/v<version>/. TXT records are searched with GET
// /record:txt?name=&view= (paged with _paging, _max_results, _return_as_object and _page_id), created with
// POST /record:txt {name, text, ttl, use_ttl, view, comment}, which answers the new object's reference as
// a JSON string, and deleted with DELETE /<reference>. Errors are {Error, code, text}.

const CODE = 'infoblox';
const PAGE_SIZE = 1000;

interface InfobloxConfig {
  readonly baseUrl: string;
  readonly username: string;
  readonly password: Secret;
  readonly view: string;
  /** PEM text of INFOBLOX_CA_CERTIFICATE, when set. */
  readonly caCertificate: string | undefined;
}

function basic(c: InfobloxConfig): string {
  return Buffer.from(`${c.username}:${c.password.reveal()}`).toString('base64');
}

interface WapiTxt {
  readonly _ref?: unknown;
  readonly name?: unknown;
  readonly text?: unknown;
  readonly view?: unknown;
}

const api: RestApi<InfobloxConfig> = {
  code: CODE,
  apiName: 'Infoblox',
  urlVariable: 'INFOBLOX_HOST, INFOBLOX_PORT and INFOBLOX_WAPI_VERSION',
  credentialVariables:
    'INFOBLOX_USERNAME and INFOBLOX_PASSWORD (an admin allowed to change TXT records in INFOBLOX_DNS_VIEW)',
  baseUrl: (c) => c.baseUrl,
  // The Basic credentials too, in case an answer echoes the header.
  secrets: (c) => [c.password, new Secret(basic(c))],
  authorize: (c, req) => withHeaders(req, { authorization: `Basic ${basic(c)}` }),
  async list(c, record, _zone, ctx) {
    const name = fullName(record);
    const found: ListedTxt[] = [];
    let pageId: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams(
        pageId !== undefined
          ? { _page_id: pageId }
          : {
              name,
              view: c.view,
              _return_fields: 'name,text,view',
              _paging: '1',
              _max_results: String(PAGE_SIZE),
              _return_as_object: '1',
            },
      );
      const body = await ctx.json(
        { method: 'GET', path: `/record:txt?${query}` },
        `list the TXT records of ${record.fqdn} in view ${c.view}`,
      );
      for (const r of Array.isArray(body.result) ? (body.result as WapiTxt[]) : []) {
        if (String(r.name).toLowerCase() !== name || r.view !== c.view) continue;
        if (typeof r._ref === 'string' && typeof r.text === 'string')
          found.push({ id: r._ref, value: r.text });
      }
      if (typeof body.next_page_id !== 'string' || body.next_page_id === '') break;
      pageId = body.next_page_id;
    }
    return found;
  },
  async create(c, record, _zone, ctx) {
    const ref = await ctx.jsonValue(
      {
        method: 'POST',
        path: '/record:txt',
        body: {
          name: fullName(record),
          text: record.value,
          ttl: record.ttl,
          use_ttl: true,
          view: c.view,
          comment: 'acmekit dns-01 challenge',
        },
      },
      `create the TXT record ${record.fqdn} in view ${c.view}`,
    );
    return typeof ref === 'string' ? ref : undefined;
  },
  async remove(_c, record, _zone, ref, ctx) {
    // 404: already gone, which is what cleanup wants.
    await ctx.jsonValue(
      { method: 'DELETE', path: `/${encodeURI(ref)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const text =
      typeof json.text === 'string' ? json.text : typeof json.Error === 'string' ? json.Error : undefined;
    return text && typeof json.code === 'string' ? `${json.code}: ${text}` : text;
  },
};

/** WAPI names records by their full name, without the trailing dot. */
function fullName(record: TxtRecord): string {
  return record.fqdn.replace(/\.$/, '').toLowerCase();
}

/** The WAPI base URL from INFOBLOX_HOST (a host name or address, or an https URL), the port and version. */
function wapiBaseUrl(rawHost: string, port: number, version: string): string {
  let host = rawHost;
  let hostPort = port;
  if (rawHost.includes('://')) {
    let url: URL;
    try {
      url = new URL(rawHost);
    } catch {
      throw new InvalidInputError(
        `${CODE}: INFOBLOX_HOST must be a host name or address, got ${JSON.stringify(rawHost)}`,
        rawHost,
      );
    }
    if (
      url.protocol !== 'https:' ||
      url.username ||
      url.password ||
      (url.pathname !== '/' && url.pathname !== '')
    )
      throw new InvalidInputError(
        `${CODE}: INFOBLOX_HOST must be a host name or address (or https://host), got ${JSON.stringify(rawHost)}`,
        rawHost,
      );
    host = url.hostname;
    if (url.port) hostPort = Number(url.port);
  } else if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/.test(rawHost)) {
    throw new InvalidInputError(
      `${CODE}: INFOBLOX_HOST must be a host name or address, got ${JSON.stringify(rawHost)}`,
      rawHost,
    );
  }
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `https://${host}:${hostPort}/wapi/v${version}`;
}

export const definition = {
  code: CODE,
  title: 'Infoblox',
  description:
    'Adds the TXT records through the Infoblox NIOS WAPI (record:txt) of a Grid Manager, with HTTP Basic ' +
    'authentication, in one DNS view.',
  docsUrl: 'https://www.infoblox.com/wp-content/uploads/infoblox-deployment-infoblox-rest-api.pdf',
  permissions:
    'INFOBLOX_USERNAME / INFOBLOX_PASSWORD: an admin with API access and read/write permission on the TXT ' +
    'records of the zones in INFOBLOX_DNS_VIEW. The Grid Manager certificate must be trusted: set ' +
    'INFOBLOX_CA_CERTIFICATE to its CA (PEM) when it is private.',
  example: [
    'INFOBLOX_USERNAME=api-user-529 \\',
    'INFOBLOX_PASSWORD=b9841238feb177a84330febba8a83208921177bffe733 \\',
    'INFOBLOX_HOST=infoblox.example.org \\',
    "  acmekit --dns infoblox --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'INFOBLOX',
  // lego's infoblox defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'INFOBLOX_HOST', description: 'Grid Manager host name or address', required: true },
    { name: 'INFOBLOX_USERNAME', description: 'admin user name', required: true },
    { name: 'INFOBLOX_PASSWORD', description: 'admin password', required: true, secret: true },
    { name: 'INFOBLOX_PORT', description: 'Grid Manager HTTPS port', default: '443' },
    { name: 'INFOBLOX_DNS_VIEW', description: 'DNS view of the TXT records', default: 'External' },
    { name: 'INFOBLOX_WAPI_VERSION', description: 'WAPI version', default: '2.11' },
    {
      name: 'INFOBLOX_CA_CERTIFICATE',
      description: 'path of the CA certificate (PEM) the Grid Manager certificate is checked against',
    },
    {
      name: 'INFOBLOX_SSL_VERIFY',
      description:
        'lego can switch TLS verification off with false; acmekit always verifies, so false is refused: set ' +
        'INFOBLOX_CA_CERTIFICATE instead',
      default: 'true',
    },
  ],
  configure(env) {
    if (!env.bool('INFOBLOX_SSL_VERIFY', true))
      throw new InvalidInputError(
        `${CODE}: INFOBLOX_SSL_VERIFY=false is not supported, acmekit always verifies TLS; set ` +
          'INFOBLOX_CA_CERTIFICATE to the PEM file of the CA that signed the Grid Manager certificate',
        'INFOBLOX_SSL_VERIFY',
      );
    const port = env.int('INFOBLOX_PORT', 443, 1);
    if (port > 65535)
      throw new InvalidInputError(`${CODE}: INFOBLOX_PORT must be a port number, got ${port}`, String(port));
    const version = env.string('INFOBLOX_WAPI_VERSION') ?? '2.11';
    if (!/^\d+(?:\.\d+)*$/.test(version))
      throw new InvalidInputError(
        `${CODE}: INFOBLOX_WAPI_VERSION must be a version such as 2.11, got ${JSON.stringify(version)}`,
        version,
      );
    const caPath = env.string('INFOBLOX_CA_CERTIFICATE');
    let caCertificate: string | undefined;
    if (caPath !== undefined) {
      try {
        caCertificate = readFileSync(caPath, 'utf8');
      } catch (err) {
        throw new InvalidInputError(
          `${CODE}: INFOBLOX_CA_CERTIFICATE names ${caPath}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          caPath,
          { cause: err },
        );
      }
      if (!caCertificate.includes('-----BEGIN CERTIFICATE-----'))
        throw new InvalidInputError(
          `${CODE}: INFOBLOX_CA_CERTIFICATE names ${caPath}, which holds no PEM certificate`,
          caPath,
        );
    }
    return {
      baseUrl: wapiBaseUrl(env.required('INFOBLOX_HOST'), port, version),
      username: env.required('INFOBLOX_USERNAME'),
      password: env.requiredSecret('INFOBLOX_PASSWORD'),
      view: env.string('INFOBLOX_DNS_VIEW') ?? 'External',
      caCertificate,
    };
  },
  create(config, deps) {
    // The Grid Manager's own CA, when given, replaces the trusted roots for its requests.
    const http =
      config.caCertificate === undefined
        ? deps.http
        : new HttpTransport(
            { caBundle: config.caCertificate, timeoutMs: deps.settings.httpTimeoutMs },
            { logger: deps.logger },
          );
    return new RestDnsProvider(api, config, { ...deps, http });
  },
} satisfies DnsProviderDefinition<InfobloxConfig>;
