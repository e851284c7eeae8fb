import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import { Secret } from '../../internal/secret.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { transipNonce, transipSignature, transipTokenBody } from './transip-auth.ts';

// TransIP REST API v6: https://api.transip.nl/rest/docs.html (Authentication; Domains → DNS).
// An access token comes from a signed POST /auth (transip-auth.ts) and is sent as a Bearer token. A
// domain's DNS entries are listed with GET /domains/<domain>/dns ({dnsEntries: [{name, expire, type,
// content}]}), one is added with POST and removed with DELETE of {dnsEntry: {name, expire, type, content}},
// which must match the entry exactly. Names are relative to the domain, "@" at the apex; errors are
// {error}.

const CODE = 'transip';
const DEFAULT_API_URL = 'https://api.transip.nl/v6';
/** Lifetime asked for each token, and how long before its end a new one is requested. */
const TOKEN_LIFETIME = '30 minutes';
const TOKEN_LIFETIME_MS = 30 * 60_000;
const TOKEN_MARGIN_MS = 60_000;

interface TransipConfig {
  readonly accountName: string;
  readonly privateKey: KeyObject;
  readonly apiUrl: string;
}

/** Requests an access token when no unexpired one is at hand; one request at a time. */
class TransipTokens {
  readonly #config: TransipConfig;
  readonly #http: ProviderHttp;
  #token: { value: Secret; expiresAt: number } | undefined;
  #pending: Promise<Secret> | undefined;

  constructor(config: TransipConfig, http: ProviderHttp) {
    this.#config = config;
    this.#http = http;
  }

  secrets(): Secret[] {
    return this.#token ? [this.#token.value] : [];
  }

  token(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    if (this.#token && clock.now() < this.#token.expiresAt) return Promise.resolve(this.#token.value);
    this.#pending ??= this.#request(clock, operation, signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #request(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    const c = this.#config;
    const fail = (message: string, status?: number, cause?: unknown) =>
      new DnsProviderError(CODE, operation, message, {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    const nonce = transipNonce();
    const body = transipTokenBody({
      login: c.accountName,
      nonce,
      readOnly: false,
      expirationTime: TOKEN_LIFETIME,
      label: `acmekit-${clock.now()}-${nonce.slice(0, 8)}`,
      globalKey: true,
    });
    let res: HttpResponse;
    try {
      res = await this.#http.request('POST', `${c.apiUrl}/auth`, {
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          signature: transipSignature(body, c.privateKey),
        },
        body,
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw fail(
        `the TransIP API did not answer the token request: ${(err as Error).message}; check the network, the ` +
          'proxy settings and TRANSIP_API_URL',
        undefined,
        err,
      );
    }
    const json = parseJsonObject(res.body);
    const words = typeof json?.error === 'string' ? `, ${json.error}` : '';
    if (res.status === 400 || res.status === 401 || res.status === 403)
      throw fail(
        `credentials refused by the TransIP token request (HTTP ${res.status}${words}): check TRANSIP_ACCOUNT_NAME ` +
          'and that TRANSIP_PRIVATE_KEY_PATH holds the private key of an active key pair of that account ' +
          '(and, for a key limited to whitelisted addresses, that this address is whitelisted)',
        res.status,
      );
    const token = json?.token ?? json?.Token;
    if (res.status < 200 || res.status >= 300 || typeof token !== 'string' || token === '')
      throw fail(
        `the TransIP token request failed (HTTP ${res.status}${words}); try again in a few minutes`,
        res.status,
      );
    const value = new Secret(token);
    const end = jwtExpiry(token) ?? clock.now() + TOKEN_LIFETIME_MS;
    this.#token = { value, expiresAt: Math.max(clock.now(), end - TOKEN_MARGIN_MS) };
    return value;
  }
}

/** The `exp` of a JWT, in ms, when it has one. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

interface TransipRuntime extends TransipConfig {
  readonly tokens: TransipTokens;
}

interface DnsEntry {
  readonly name: string;
  readonly expire: number;
  readonly type: string;
  readonly content: string;
}

const api: RestApi<TransipRuntime> = {
  code: CODE,
  apiName: 'TransIP',
  urlVariable: 'TRANSIP_API_URL',
  credentialVariables:
    'TRANSIP_ACCOUNT_NAME and TRANSIP_PRIVATE_KEY_PATH (the key pair of an account that holds the domain)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => c.tokens.secrets(),
  async authorize(c, req, clock, call) {
    const token = await c.tokens.token(clock, call.operation, call.signal);
    return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
  },
  async list(_c, record, domain, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: `/domains/${encodeURIComponent(domain)}/dns` },
      `list the DNS entries of ${domain}`,
    );
    const name = host(record);
    const entries = Array.isArray(body.dnsEntries) ? (body.dnsEntries as Partial<DnsEntry>[]) : [];
    return entries
      .filter(
        (e): e is DnsEntry =>
          e.type === 'TXT' &&
          String(e.name).toLowerCase() === name &&
          typeof e.content === 'string' &&
          typeof e.expire === 'number',
      )
      .map((e) => ({
        id: JSON.stringify({ name: e.name, expire: e.expire, type: e.type, content: e.content }),
        value: e.content,
      }));
  },
  async create(_c, record, domain, ctx) {
    const dnsEntry: DnsEntry = { name: host(record), expire: record.ttl, type: 'TXT', content: record.value };
    await ctx.json(
      { method: 'POST', path: `/domains/${encodeURIComponent(domain)}/dns`, body: { dnsEntry } },
      `create the TXT record ${record.fqdn}`,
    );
    return JSON.stringify(dnsEntry);
  },
  async remove(_c, record, domain, id, ctx) {
    // The entry exactly as listed (or as created); 404: already gone, which is what cleanup wants.
    await ctx.json(
      {
        method: 'DELETE',
        path: `/domains/${encodeURIComponent(domain)}/dns`,
        body: { dnsEntry: JSON.parse(id) as DnsEntry },
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error;
    return typeof error === 'string' ? error : undefined;
  },
};

/** TransIP names entries relative to the domain, "@" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

function readPrivateKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(
      `${CODE}: TRANSIP_PRIVATE_KEY_PATH names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      path,
      { cause: err },
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    // The parser's message is left out: it could quote the file.
    throw new InvalidInputError(
      `${CODE}: TRANSIP_PRIVATE_KEY_PATH names ${path}, which holds no readable private key (PEM)`,
      path,
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new InvalidInputError(
      `${CODE}: TRANSIP_PRIVATE_KEY_PATH names ${path}, which holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; TransIP key pairs are RSA`,
      path,
    );
  return key;
}

export const definition = {
  code: CODE,
  title: 'TransIP',
  description:
    'Adds the TXT records through the TransIP REST API v6, with access tokens requested by a request signed ' +
    'with the private key of a TransIP key pair.',
  docsUrl: 'https://api.transip.nl/rest/docs.html',
  permissions:
    'TRANSIP_ACCOUNT_NAME / TRANSIP_PRIVATE_KEY_PATH: the account (login) name and the file of the private ' +
    'key of a key pair made in the control panel (Account → API); the API must be switched on, and a key ' +
    'limited to whitelisted addresses works only from those.',
  example: [
    'TRANSIP_ACCOUNT_NAME=myaccount \\',
    'TRANSIP_PRIVATE_KEY_PATH=/etc/acmekit/transip.key \\',
    "  acmekit --dns transip --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'TRANSIP',
  // lego's transip defaults.
  defaults: { ttl: 10, propagationTimeoutMs: 600_000, pollingIntervalMs: 10_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'TRANSIP_ACCOUNT_NAME', description: 'account (login) name', required: true },
    {
      name: 'TRANSIP_PRIVATE_KEY_PATH',
      description: 'path of the private key (PEM) of a TransIP key pair',
      required: true,
    },
    { name: 'TRANSIP_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      accountName: env.required('TRANSIP_ACCOUNT_NAME'),
      privateKey: readPrivateKey(env.required('TRANSIP_PRIVATE_KEY_PATH')),
      apiUrl: apiUrlSetting(env, CODE, 'TRANSIP_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, tokens: new TransipTokens(config, deps.http) }, deps);
  },
} satisfies DnsProviderDefinition<TransipConfig>;
