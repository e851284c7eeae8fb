import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Mythic Beasts DNS API v2: https://www.mythic-beasts.com/support/api/dnsv2
// Authentication (https://www.mythic-beasts.com/support/api/auth): an OAuth2 client-credentials login —
// POST grant_type=client_credentials to the auth endpoint with HTTP Basic (API key id, secret) — gives a
// bearer token for `expires_in` seconds. Records of one host and type live at
// /zones/<zone>/records/<host>/<type>: GET lists them, POST adds, DELETE with ?data= removes one value.

const CODE = 'mythicbeasts';
const DEFAULT_API_URL = 'https://api.mythic-beasts.com/dns/v2';
const DEFAULT_AUTH_URL = 'https://auth.mythic-beasts.com/login';
/** A token is renewed this long before Mythic Beasts says it expires. */
const TOKEN_MARGIN_MS = 30_000;

interface MythicConfig {
  readonly username: string;
  readonly password: Secret;
  readonly apiUrl: string;
  readonly authUrl: string;
}

/** Logs in when no unexpired token is at hand; one login at a time. */
class MythicLogin {
  readonly #config: MythicConfig;
  readonly #http: ProviderHttp;
  #token: { value: Secret; expiresAt: number } | undefined;
  #pending: Promise<Secret> | undefined;

  constructor(config: MythicConfig, http: ProviderHttp) {
    this.#config = config;
    this.#http = http;
  }

  /** The current token, for redaction. */
  secrets(): Secret[] {
    return this.#token ? [this.#token.value] : [];
  }

  token(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    if (this.#token && clock.now() < this.#token.expiresAt) return Promise.resolve(this.#token.value);
    this.#pending ??= this.#login(clock, operation, signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #login(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    const c = this.#config;
    const fail = (message: string, status?: number, cause?: unknown) =>
      new DnsProviderError(CODE, operation, message.split(c.password.reveal()).join('[redacted]'), {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    let res: Awaited<ReturnType<ProviderHttp['request']>>;
    try {
      res = await this.#http.request('POST', c.authUrl, {
        headers: {
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${c.username}:${c.password.reveal()}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw fail(
        `the Mythic Beasts login did not answer: ${(err as Error).message}; check the network, the proxy settings ` +
          'and MYTHICBEASTS_AUTH_API_ENDPOINT',
        undefined,
        err,
      );
    }
    const body = parseJsonObject(res.body);
    const words = [body?.error, body?.error_description].filter((x) => typeof x === 'string' && x).join(': ');
    if (res.status === 400 || res.status === 401 || res.status === 403)
      throw fail(
        `credentials refused by the Mythic Beasts login (HTTP ${res.status}${words ? `, ${words}` : ''}): check ` +
          'MYTHICBEASTS_USERNAME (the API key id) and MYTHICBEASTS_PASSWORD (its secret)',
        res.status,
      );
    if (res.status < 200 || res.status >= 300 || typeof body?.access_token !== 'string')
      throw fail(
        `the Mythic Beasts login failed (HTTP ${res.status}${words ? `, ${words}` : ''}); try again in a few minutes`,
        res.status,
      );
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    const value = new Secret(body.access_token);
    this.#token = { value, expiresAt: clock.now() + Math.max(0, lifetimeMs - TOKEN_MARGIN_MS) };
    return value;
  }
}

interface MythicRuntime extends MythicConfig {
  readonly login: MythicLogin;
}

/** Mythic Beasts names hosts relative to the zone, "@" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

function recordsPath(zone: string, record: TxtRecord): string {
  const h = host(record);
  return `/zones/${encodeURIComponent(zone)}/records/${h === '@' ? h : encodeURIComponent(h)}/TXT`;
}

const api: RestApi<MythicRuntime> = {
  code: CODE,
  apiName: 'Mythic Beasts DNS',
  urlVariable: 'MYTHICBEASTS_API_ENDPOINT',
  credentialVariables:
    'MYTHICBEASTS_USERNAME and MYTHICBEASTS_PASSWORD (an API key id and secret allowed to change the zone)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.password, ...c.login.secrets()],
  async authorize(c, req, clock, call) {
    const token = await c.login.token(clock, call.operation, call.signal);
    return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
  },
  async list(_c, record, zone, ctx) {
    const res = await ctx.send({ method: 'GET', path: recordsPath(zone, record) });
    if (res.status === 404) return [];
    if (res.status < 200 || res.status >= 300)
      throw ctx.refused(res, `list the TXT records of ${record.fqdn}`);
    const records = parseJsonObject(res.body)?.records;
    return (Array.isArray(records) ? (records as { type?: unknown; data?: unknown }[]) : [])
      .filter((r) => r.type === 'TXT' && typeof r.data === 'string')
      .map((r) => ({ id: r.data as string, value: r.data as string }));
  },
  async create(_c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: recordsPath(zone, record),
        body: { records: [{ host: host(record), ttl: record.ttl, type: 'TXT', data: record.value }] },
      },
      `create the TXT record ${record.fqdn}`,
    );
    if (body.records_added !== 1 && body.records_added !== undefined)
      throw ctx.fail(
        `Mythic Beasts added no TXT record at ${record.fqdn}${typeof body.message === 'string' ? ` (${body.message})` : ''}`,
      );
    return record.value;
  },
  async remove(_c, record, zone, value, ctx) {
    await ctx.json(
      { method: 'DELETE', path: `${recordsPath(zone, record)}?data=${encodeURIComponent(value)}` },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'Mythic Beasts',
  description:
    'Adds the TXT records through the Mythic Beasts DNS API v2, logging in with an API key (OAuth2 client credentials).',
  docsUrl: 'https://www.mythic-beasts.com/support/api/dnsv2',
  permissions:
    'MYTHICBEASTS_USERNAME / MYTHICBEASTS_PASSWORD: the id and secret of an API key (control panel → API keys) ' +
    'with DNS access to the zones of the certificates; the key name is not needed.',
  example: [
    'MYTHICBEASTS_USERNAME=myuser \\',
    'MYTHICBEASTS_PASSWORD=mypass \\',
    "  acmekit --dns mythicbeasts --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'MYTHICBEASTS',
  // lego's mythicbeasts defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 10_000 },
  env: [
    { name: 'MYTHICBEASTS_USERNAME', description: 'API key id (or account user name)', required: true },
    {
      name: 'MYTHICBEASTS_PASSWORD',
      description: 'API key secret (or account password)',
      required: true,
      secret: true,
    },
    {
      name: 'MYTHICBEASTS_API_ENDPOINT',
      description: 'DNS API v2 base URL',
      default: DEFAULT_API_URL,
    },
    {
      name: 'MYTHICBEASTS_AUTH_API_ENDPOINT',
      description: 'login (token) URL',
      default: DEFAULT_AUTH_URL,
    },
  ],
  configure(env) {
    return {
      username: env.required('MYTHICBEASTS_USERNAME'),
      password: env.requiredSecret('MYTHICBEASTS_PASSWORD'),
      apiUrl: apiUrlSetting(env, CODE, 'MYTHICBEASTS_API_ENDPOINT', DEFAULT_API_URL),
      authUrl: apiUrlSetting(env, CODE, 'MYTHICBEASTS_AUTH_API_ENDPOINT', DEFAULT_AUTH_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, login: new MythicLogin(config, deps.http) }, deps);
  },
} satisfies DnsProviderDefinition<MythicConfig>;
