import { InvalidInputError } from '../../../errors/base.ts';
import { DnsProviderError } from '../../../errors/dns.ts';
import type { Clock } from '../../../internal/clock.ts';
import type { Logger } from '../../../internal/logger.ts';
import type { Secret } from '../../../internal/secret.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../../definition.ts';
import type { ProviderEnv } from '../../env.ts';
import { parseJsonObject } from '../../json-api.ts';
import { requestToken, TokenCache, tokenCall } from '../../oauth-token.ts';
import type { TxtRecord } from '../../provider.ts';
import {
  type AuthorizeCall,
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { type OvhKeys, ovhSignedHeaders } from './signature.ts';

// OVHcloud API v1, DNS zones (https://eu.api.ovh.com/console/?section=%2Fdomain&branch=v1):
// GET /domain/zone/{zone}/record?fieldType=TXT&subDomain= lists record ids, GET .../record/{id} reads
// one, POST .../record creates one, DELETE .../record/{id} deletes one, and POST /domain/zone/{zone}/refresh
// publishes the zone after a change. Three ways to authenticate, one at a time as lego allows: an
// application key, secret and consumer key signing each request (signature.ts, with OVHcloud's time
// from GET /auth/time), an OAuth 2.0 client of a service account (client credentials, scope "all"), or a
// ready access token.

const CODE = 'ovh';

/** OVH_ENDPOINT names (go-ovh's list) and their API base URLs. */
const ENDPOINTS: Readonly<Record<string, string>> = {
  'ovh-eu': 'https://eu.api.ovh.com/1.0',
  'ovh-ca': 'https://ca.api.ovh.com/1.0',
  'ovh-us': 'https://api.us.ovhcloud.com/1.0',
  'kimsufi-eu': 'https://eu.api.kimsufi.com/1.0',
  'kimsufi-ca': 'https://ca.api.kimsufi.com/1.0',
  'soyoustart-eu': 'https://eu.api.soyoustart.com/1.0',
  'soyoustart-ca': 'https://ca.api.soyoustart.com/1.0',
};
/** The OAuth 2.0 token endpoint of each API that has service accounts. */
const TOKEN_URLS: Readonly<Record<string, string>> = {
  'https://eu.api.ovh.com/1.0': 'https://www.ovh.com/auth/oauth2/token',
  'https://ca.api.ovh.com/1.0': 'https://ca.ovh.com/auth/oauth2/token',
  'https://api.us.ovhcloud.com/1.0': 'https://us.ovhcloud.com/auth/oauth2/token',
};

type OvhAuth =
  | { readonly kind: 'application'; readonly keys: OvhKeys }
  | {
      readonly kind: 'oauth2';
      readonly clientId: string;
      readonly clientSecret: Secret;
      readonly tokenUrl: string;
    }
  | { readonly kind: 'token'; readonly token: Secret };

export interface OvhConfig {
  /** API base URL, e.g. https://eu.api.ovh.com/1.0 */
  readonly endpoint: string;
  readonly auth: OvhAuth;
}

interface Runtime {
  readonly config: OvhConfig;
  readonly http: ProviderHttp;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tokens: TokenCache;
  /** OVHcloud's clock minus ours, seconds; asked once. */
  delta?: Promise<number>;
  /** Whether the credentials were found unable to read records (lego's suggested rights: POST and DELETE only). */
  readDenied?: boolean;
}

const enc = encodeURIComponent;
const ok = (s: number): boolean => s >= 200 && s < 300;

function credentialVariables(c: OvhConfig): string {
  switch (c.auth.kind) {
    case 'application':
      return "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (and the consumer key's access rules)";
    case 'oauth2':
      return "OVH_CLIENT_ID and OVH_CLIENT_SECRET (and the service account's IAM policy)";
    default:
      return 'OVH_ACCESS_TOKEN';
  }
}

function secrets(c: Runtime): Secret[] {
  const a = c.config.auth;
  const own =
    a.kind === 'application'
      ? [a.keys.applicationSecret, a.keys.consumerKey]
      : a.kind === 'oauth2'
        ? [a.clientSecret]
        : [a.token];
  return [...own, ...c.tokens.secrets()];
}

/** OVHcloud's time minus ours, from GET /auth/time (unauthenticated), asked once per instance. */
function timeDelta(c: Runtime, call: AuthorizeCall): Promise<number> {
  if (!c.delta) {
    const pending = (async () => {
      const r = {
        http: c.http,
        provider: CODE,
        operation: call.operation,
        signal: call.signal,
        endpointName: `the OVHcloud API (${c.config.endpoint}/auth/time)`,
        urlVariable: 'OVH_ENDPOINT',
        redact: (t: string) => t,
      };
      const res = await tokenCall(r, 'GET', `${c.config.endpoint}/auth/time`, {});
      const server = Number(res.body.toString('utf8').trim());
      if (res.status !== 200 || !Number.isInteger(server)) {
        throw new DnsProviderError(
          CODE,
          call.operation,
          `the OVHcloud API did not give its time at /auth/time (HTTP ${res.status}); check OVH_ENDPOINT`,
          { status: res.status },
        );
      }
      return server - Math.floor(c.clock.now() / 1000);
    })();
    pending.catch(() => {
      if (c.delta === pending) c.delta = undefined;
    });
    c.delta = pending;
  }
  return c.delta;
}

/** A 403 that means "these credentials may not make this call", not "these credentials are wrong". */
function notGranted(res: HttpResponse): boolean {
  if (res.status !== 403) return false;
  const body = parseJsonObject(res.body);
  const details = body?.details as Record<string, unknown> | undefined;
  return body?.errorCode === 'NOT_GRANTED_CALL' || typeof details?.unauthorizedActionsByIAM === 'string';
}

function readDenied(c: Runtime, record: TxtRecord): ListedTxt[] {
  if (!c.readDenied) {
    c.readDenied = true;
    c.logger.warn(
      { provider: CODE, fqdn: record.fqdn },
      `${CODE}: these credentials may not read DNS records (GET /domain/zone/*, IAM action ` +
        'dnsZone:apiovh:record/get): values are not checked for duplicates, and a cleanup after a restart ' +
        'cannot find its record; grant that right to fix both',
    );
  }
  return [];
}

function subDomain(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

async function refresh(zone: string, ctx: RestCallContext): Promise<void> {
  const res = await ctx.send({ method: 'POST', path: `/domain/zone/${enc(zone)}/refresh` });
  if (!ok(res.status)) throw ctx.refused(res, `refresh zone ${zone} (publish the change)`);
}

const api: RestApi<Runtime> = {
  code: CODE,
  apiName: 'OVHcloud',
  urlVariable: 'OVH_ENDPOINT',
  credentialVariables: 'the OVH_* credentials',
  baseUrl: (c) => c.config.endpoint,
  secrets,
  async authorize(c, req, clock, call) {
    const a = c.config.auth;
    if (a.kind === 'token') {
      return withHeaders(req, { authorization: `Bearer ${a.token.reveal()}` });
    }
    if (a.kind === 'oauth2') {
      const token = await c.tokens.get(
        () =>
          requestToken({
            http: c.http,
            clock,
            provider: CODE,
            operation: call.operation,
            signal: call.signal,
            url: a.tokenUrl,
            form: {
              grant_type: 'client_credentials',
              client_id: a.clientId,
              client_secret: a.clientSecret.reveal(),
              scope: 'all',
            },
            endpointName: `OVHcloud's OAuth2 token endpoint (${a.tokenUrl})`,
            hint: 'OVH_CLIENT_ID and OVH_CLIENT_SECRET (the service account)',
            urlVariable: 'OVH_OAUTH2_URL',
            redact: (t) => t.split(a.clientSecret.reveal()).join('[redacted]'),
          }),
        call.signal,
      );
      return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
    }
    const timestamp = Math.floor(clock.now() / 1000) + (await timeDelta(c, call));
    // The signature covers the body as sent, so it is serialized here once.
    const body = req.rawBody ?? (req.body !== undefined ? JSON.stringify(req.body) : '');
    const signed = ovhSignedHeaders(a.keys, {
      method: req.method,
      url: `${c.config.endpoint}${req.path}`,
      body,
      timestamp,
    });
    return {
      method: req.method,
      path: req.path,
      headers: { ...req.headers, ...(body !== '' ? { 'content-type': 'application/json' } : {}), ...signed },
      ...(body !== '' ? { rawBody: body } : {}),
    };
  },
  async list(c, record, zone, ctx) {
    const sub = subDomain(record);
    const what = `list the TXT records of ${record.fqdn}`;
    const res = await ctx.send({
      method: 'GET',
      path: `/domain/zone/${enc(zone)}/record?fieldType=TXT&subDomain=${enc(sub)}`,
    });
    if (notGranted(res)) return readDenied(c, record);
    if (!ok(res.status)) throw ctx.refused(res, what);
    let ids: unknown;
    try {
      ids = JSON.parse(res.body.toString('utf8'));
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids))
      throw ctx.fail(`the OVHcloud API answered the record list with something other than a list of ids`);
    const found: ListedTxt[] = [];
    for (const id of ids) {
      const one = await ctx.send({
        method: 'GET',
        path: `/domain/zone/${enc(zone)}/record/${enc(String(id))}`,
      });
      if (one.status === 404) continue; // deleted meanwhile
      if (notGranted(one)) return readDenied(c, record);
      if (!ok(one.status)) throw ctx.refused(one, what);
      const r = parseJsonObject(one.body);
      if (
        r?.fieldType === 'TXT' &&
        String(r.subDomain ?? '').toLowerCase() === sub &&
        typeof r.target === 'string'
      )
        found.push({ id: String(r.id ?? id), value: unquoteTxt(r.target) });
    }
    return found;
  },
  async create(_c, record, zone, ctx) {
    const created = await ctx.json(
      {
        method: 'POST',
        path: `/domain/zone/${enc(zone)}/record`,
        body: { fieldType: 'TXT', subDomain: subDomain(record), target: record.value, ttl: record.ttl },
      },
      `create the TXT record ${record.fqdn}`,
    );
    await refresh(zone, ctx);
    return created.id !== undefined ? String(created.id) : undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    const res = await ctx.send({ method: 'DELETE', path: `/domain/zone/${enc(zone)}/record/${enc(id)}` });
    if (res.status === 404) return; // already gone
    if (!ok(res.status)) throw ctx.refused(res, `delete the TXT record ${record.fqdn}`);
    await refresh(zone, ctx);
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const code = json.errorCode ?? json.class;
    const details = json.details as Record<string, unknown> | undefined;
    const missing =
      typeof details?.unauthorizedActionsByIAM === 'string'
        ? ` (missing IAM actions: ${details.unauthorizedActionsByIAM})`
        : '';
    const words = [code, json.message].filter((v) => typeof v === 'string' && v !== '').join(': ');
    // OVHcloud answers a bad signature with 400, not 401: say what it means.
    const hint =
      code === 'INVALID_SIGNATURE'
        ? '; the application secret does not match OVH_APPLICATION_KEY, check OVH_APPLICATION_SECRET'
        : '';
    return words ? `${words}${missing}${hint}` : undefined;
  },
};

function readAuth(env: ProviderEnv, endpoint: string): OvhAuth {
  const appKey = env.string('OVH_APPLICATION_KEY');
  const appSecret = env.secret('OVH_APPLICATION_SECRET');
  const consumerKey = env.secret('OVH_CONSUMER_KEY');
  const clientId = env.string('OVH_CLIENT_ID');
  const clientSecret = env.secret('OVH_CLIENT_SECRET');
  const accessToken = env.secret('OVH_ACCESS_TOKEN');
  const modes = [
    appKey || appSecret || consumerKey
      ? 'application key (OVH_APPLICATION_KEY, _SECRET, OVH_CONSUMER_KEY)'
      : undefined,
    clientId || clientSecret ? 'OAuth2 (OVH_CLIENT_ID, OVH_CLIENT_SECRET)' : undefined,
    accessToken ? 'access token (OVH_ACCESS_TOKEN)' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (modes.length > 1) {
    throw new InvalidInputError(
      `${CODE}: set the variables of one way to authenticate, not several: ${modes.join(' and ')}`,
      'OVH_APPLICATION_KEY',
    );
  }
  if (accessToken) return { kind: 'token', token: accessToken };
  if (clientId || clientSecret) {
    if (!clientId || !clientSecret) {
      const missing = clientId ? 'OVH_CLIENT_SECRET' : 'OVH_CLIENT_ID';
      throw new InvalidInputError(
        `${CODE}: ${missing} is not set; OAuth2 needs OVH_CLIENT_ID and OVH_CLIENT_SECRET`,
        missing,
      );
    }
    const tokenUrl = env.string('OVH_OAUTH2_URL')
      ? apiUrlSetting(env, CODE, 'OVH_OAUTH2_URL', '')
      : TOKEN_URLS[endpoint];
    if (!tokenUrl) {
      throw new InvalidInputError(
        `${CODE}: OAuth2 works with OVH_ENDPOINT ovh-eu, ovh-ca or ovh-us; for ${endpoint} set OVH_OAUTH2_URL`,
        'OVH_ENDPOINT',
      );
    }
    return { kind: 'oauth2', clientId, clientSecret, tokenUrl };
  }
  if (appKey && appSecret && consumerKey) {
    return {
      kind: 'application',
      keys: { applicationKey: appKey, applicationSecret: appSecret, consumerKey },
    };
  }
  const missing = [
    appKey ? undefined : 'OVH_APPLICATION_KEY',
    appSecret ? undefined : 'OVH_APPLICATION_SECRET',
    consumerKey ? undefined : 'OVH_CONSUMER_KEY',
  ].filter((m): m is string => m !== undefined);
  throw new InvalidInputError(
    appKey || appSecret || consumerKey
      ? `${CODE}: ${missing.join(' and ')} not set; an application key needs all three of OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY`
      : `${CODE}: no credentials: set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY, or OVH_CLIENT_ID and OVH_CLIENT_SECRET, or OVH_ACCESS_TOKEN (\`acmekit dns help ${CODE}\`)`,
    missing[0] ?? 'OVH_APPLICATION_KEY',
  );
}

export const definition = {
  code: CODE,
  title: 'OVHcloud',
  description:
    'Adds the TXT records through the OVHcloud API (/domain/zone) and refreshes the zone, with a signed ' +
    'application key, an OAuth2 service account or an access token.',
  docsUrl: 'https://docs.ovh.com/gb/en/customer/first-steps-with-ovh-api/',
  permissions:
    "Application key: a consumer key with access rules POST and DELETE on /domain/zone/* (lego's), plus GET " +
    '/domain/zone/* so duplicates are avoided and a cleanup after a restart finds its record. OAuth2: an IAM ' +
    'policy with dnsZone:apiovh:record/create, record/delete, refresh (and record/get) on the zone.',
  example: [
    'OVH_ENDPOINT=ovh-eu \\',
    'OVH_APPLICATION_KEY=1234567898765432 \\',
    'OVH_APPLICATION_SECRET=b9841238feb177a84330febba8a832089 \\',
    'OVH_CONSUMER_KEY=256vfsd347245sdfg \\',
    "  acmekit --dns ovh --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'OVH',
  // lego's ovh defaults; the request deadline is go-ovh's 180 s.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 180_000 },
  env: [
    {
      name: 'OVH_ENDPOINT',
      description:
        'API: ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca, soyoustart-eu, soyoustart-ca, or a base URL',
      default: 'ovh-eu',
    },
    { name: 'OVH_APPLICATION_KEY', description: 'application key (application key authentication)' },
    { name: 'OVH_APPLICATION_SECRET', description: 'application secret', secret: true },
    { name: 'OVH_CONSUMER_KEY', description: 'consumer key', secret: true },
    { name: 'OVH_CLIENT_ID', description: 'OAuth2 client ID of a service account' },
    { name: 'OVH_CLIENT_SECRET', description: 'OAuth2 client secret', secret: true },
    { name: 'OVH_ACCESS_TOKEN', description: 'access token', secret: true },
    {
      name: 'OVH_OAUTH2_URL',
      description: 'OAuth2 token endpoint; default: the one of OVH_ENDPOINT (ovh-eu, ovh-ca, ovh-us)',
    },
  ],
  configure(env) {
    const raw = env.string('OVH_ENDPOINT') ?? 'ovh-eu';
    const named = ENDPOINTS[raw.toLowerCase()];
    if (!named && !raw.includes('/')) {
      throw new InvalidInputError(
        `${CODE}: OVH_ENDPOINT must be one of ${Object.keys(ENDPOINTS).join(', ')} or a URL, got ${JSON.stringify(raw)}`,
        raw,
      );
    }
    const endpoint = named ?? apiUrlSetting(env, CODE, 'OVH_ENDPOINT', raw);
    return { endpoint, auth: readAuth(env, endpoint) };
  },
  create(config, deps) {
    return new RestDnsProvider(
      { ...api, credentialVariables: credentialVariables(config) },
      { config, http: deps.http, clock: deps.clock, logger: deps.logger, tokens: new TokenCache(deps.clock) },
      deps,
    );
  },
} satisfies DnsProviderDefinition<OvhConfig>;
