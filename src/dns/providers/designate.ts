import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import { redactSecrets } from '../../internal/redact.ts';
import { Secret } from '../../internal/secret.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import type { ProviderEnv } from '../env.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, toFqdn } from '../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// OpenStack Designate DNS API v2 (https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html) behind a
// Keystone v3 token (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization,
// application credentials: https://docs.openstack.org/api-ref/identity/v3/#authenticating-with-an-application-credential).
// POST /v3/auth/tokens answers 201 with the token in X-Subject-Token and the service catalog in the body;
// the "dns" service's public endpoint in OS_REGION_NAME is Designate. A record set holds every TXT value
// of one name: GET /v2/zones/{zone}/recordsets?name=&type=TXT, POST to create, PUT its records, DELETE
// when the last value goes.

const CODE = 'designate';
/** A token is renewed this long before Keystone says it expires. */
const TOKEN_MARGIN_MS = 60_000;

type Identity =
  | {
      readonly kind: 'password';
      readonly user: UserRef;
      readonly password: Secret;
      readonly scope: { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
    }
  | {
      readonly kind: 'application_credential';
      readonly id?: string;
      readonly name?: string;
      readonly user?: UserRef;
      readonly secret: Secret;
    };
type DomainRef = { readonly id: string } | { readonly name: string };
type UserRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };

interface DesignateConfig {
  readonly authUrl: string;
  readonly identity: Identity;
  readonly region: string | undefined;
  readonly zoneName: string | undefined;
}

interface Session {
  readonly token: Secret;
  readonly expiresAt: number;
  readonly dnsUrl: string;
}

interface DesignateRuntime extends DesignateConfig {
  readonly http: ProviderHttp;
  session?: Session;
  login?: Promise<Session>;
}

const CREDENTIALS =
  'OS_AUTH_URL with OS_USERNAME/OS_USER_ID, OS_PASSWORD and the project (OS_PROJECT_ID or OS_PROJECT_NAME), ' +
  'or OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET';

function identityBody(identity: Identity): Record<string, unknown> {
  const user = (u: UserRef) => ('id' in u ? { id: u.id } : { name: u.name, domain: u.domain });
  if (identity.kind === 'application_credential')
    return {
      identity: {
        methods: ['application_credential'],
        application_credential: {
          ...(identity.id !== undefined ? { id: identity.id } : { name: identity.name }),
          ...(identity.user ? { user: user(identity.user) } : {}),
          secret: identity.secret.reveal(),
        },
      },
    };
  return {
    identity: {
      methods: ['password'],
      password: { user: { ...user(identity.user), password: identity.password.reveal() } },
    },
    scope: { project: identity.scope },
  };
}

function secretsOf(c: DesignateConfig): Secret[] {
  return [c.identity.kind === 'password' ? c.identity.password : c.identity.secret];
}

/** The Designate endpoint from the token's catalog: the public "dns" endpoint of the region. */
function dnsEndpoint(
  body: Record<string, unknown> | undefined,
  region: string | undefined,
): string | undefined {
  const catalog = (body?.token as { catalog?: unknown } | undefined)?.catalog;
  for (const service of Array.isArray(catalog) ? (catalog as Record<string, unknown>[]) : []) {
    if (service.type !== 'dns' || !Array.isArray(service.endpoints)) continue;
    const found = (service.endpoints as Record<string, unknown>[]).find(
      (e) =>
        e.interface === 'public' &&
        typeof e.url === 'string' &&
        (region === undefined || e.region === region || e.region_id === region),
    );
    if (found) return String(found.url).replace(/\/+$/, '').replace(/\/v2$/, '');
  }
  return undefined;
}

async function logIn(
  c: DesignateRuntime,
  clock: Clock,
  operation: DnsOperation,
  signal: AbortSignal,
): Promise<Session> {
  const fail = (message: string, status?: number, cause?: unknown) =>
    new DnsProviderError(CODE, operation, redactSecrets(message, secretsOf(c)), {
      ...(status !== undefined ? { status } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  let res: HttpResponse;
  try {
    res = await c.http.request('POST', `${c.authUrl}/auth/tokens`, {
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ auth: identityBody(c.identity) }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw fail(
      `Keystone did not answer: ${(err as Error).message}; check the network, the proxy settings and OS_AUTH_URL`,
      undefined,
      err,
    );
  }
  const body = parseJsonObject(res.body);
  const error = body?.error as { message?: unknown; title?: unknown } | undefined;
  const words = [error?.title, error?.message].filter((x) => typeof x === 'string' && x).join(': ');
  if (res.status === 401 || res.status === 403)
    throw fail(
      `credentials refused by Keystone (HTTP ${res.status}${words ? `, ${words}` : ''}): check ${CREDENTIALS}`,
      res.status,
    );
  const token = res.headers['x-subject-token'];
  if (res.status !== 201 || typeof token !== 'string' || token === '')
    throw fail(
      `Keystone did not issue a token (HTTP ${res.status}${words ? `, ${words}` : ''})` +
        (res.status === 400 ? `: check ${CREDENTIALS}` : '; try again in a few minutes'),
      res.status,
    );
  const dnsUrl = dnsEndpoint(body, c.region);
  if (!dnsUrl)
    throw fail(
      `the token's service catalog has no public "dns" endpoint${c.region ? ` in region ${c.region}` : ''}: ` +
        'check OS_REGION_NAME and that the project (OS_PROJECT_ID / OS_PROJECT_NAME) can use Designate',
    );
  const expiresAt = Date.parse(
    String((body?.token as { expires_at?: unknown } | undefined)?.expires_at ?? ''),
  );
  return {
    token: new Secret(token),
    expiresAt: Number.isNaN(expiresAt) ? clock.now() + 3_600_000 : expiresAt - TOKEN_MARGIN_MS,
    dnsUrl,
  };
}

function session(
  c: DesignateRuntime,
  clock: Clock,
  operation: DnsOperation,
  signal: AbortSignal,
): Promise<Session> {
  if (c.session && clock.now() < c.session.expiresAt) return Promise.resolve(c.session);
  c.login ??= logIn(c, clock, operation, signal)
    .then((s) => {
      c.session = s;
      return s;
    })
    .finally(() => {
      c.login = undefined;
    });
  return c.login;
}

interface RecordSet {
  readonly id: string;
  readonly records: string[];
}

async function recordSet(
  zoneId: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<RecordSet | undefined> {
  const fqdn = toFqdn(record.fqdn).toLowerCase();
  const body = await ctx.json(
    { method: 'GET', path: `/v2/zones/${zoneId}/recordsets?name=${encodeURIComponent(fqdn)}&type=TXT` },
    `list the TXT record sets at ${record.fqdn}`,
  );
  const found = (Array.isArray(body.recordsets) ? (body.recordsets as Record<string, unknown>[]) : []).find(
    (s) => s.type === 'TXT' && String(s.name).toLowerCase() === fqdn,
  );
  return found
    ? { id: String(found.id), records: Array.isArray(found.records) ? found.records.map(String) : [] }
    : undefined;
}

const api: RestApi<DesignateRuntime> = {
  code: CODE,
  apiName: 'Designate',
  urlVariable: 'OS_AUTH_URL (and the "dns" endpoint of its catalog)',
  credentialVariables: CREDENTIALS,
  // Known once authorize has logged in, which runs before every request.
  baseUrl: (c) => c.session?.dnsUrl ?? c.authUrl,
  secrets: (c) => [...secretsOf(c), ...(c.session ? [c.session.token] : [])],
  async authorize(c, req, clock, call) {
    const s = await session(c, clock, call.operation, call.signal);
    return withHeaders(req, { 'x-auth-token': s.token.reveal() });
  },
  async zoneRef(c, zone, ctx) {
    const name = c.zoneName ?? zone;
    const body = await ctx.json(
      { method: 'GET', path: `/v2/zones?name=${encodeURIComponent(toFqdn(name))}` },
      `find the zone ${name}`,
    );
    const found = (Array.isArray(body.zones) ? (body.zones as { id?: unknown; name?: unknown }[]) : []).find(
      (z) => String(z.name).toLowerCase() === toFqdn(name).toLowerCase(),
    );
    if (typeof found?.id !== 'string')
      throw ctx.fail(
        `zone ${name} is not in the Designate project of these credentials: check the project (OS_PROJECT_ID / ` +
          'OS_PROJECT_NAME) and DESIGNATE_ZONE_NAME',
      );
    return found.id;
  },
  async list(_c, record, zoneId, ctx) {
    return ((await recordSet(zoneId, record, ctx))?.records ?? []).map((r) => ({
      id: unquoteTxt(r),
      value: unquoteTxt(r),
    }));
  },
  async create(_c, record, zoneId, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    const what = `write the TXT record set ${record.fqdn}`;
    if (!set) {
      await ctx.json(
        {
          method: 'POST',
          path: `/v2/zones/${zoneId}/recordsets`,
          body: {
            name: toFqdn(record.fqdn).toLowerCase(),
            type: 'TXT',
            ttl: record.ttl,
            records: [record.value],
            description: 'ACME dns-01 challenge (acmekit)',
          },
        },
        what,
      );
    } else if (!set.records.some((r) => unquoteTxt(r) === record.value)) {
      await ctx.json(
        {
          method: 'PUT',
          path: `/v2/zones/${zoneId}/recordsets/${set.id}`,
          body: { records: [...set.records, record.value] },
        },
        what,
      );
    }
    return record.value;
  },
  async remove(_c, record, zoneId, value, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    if (!set) return;
    const kept = set.records.filter((r) => unquoteTxt(r) !== value);
    if (kept.length === set.records.length) return;
    const what = `remove a value from the TXT record set ${record.fqdn}`;
    const ok = (s: number) => (s >= 200 && s < 300) || s === 404;
    if (kept.length === 0)
      await ctx.json({ method: 'DELETE', path: `/v2/zones/${zoneId}/recordsets/${set.id}` }, what, ok);
    else
      await ctx.json(
        { method: 'PUT', path: `/v2/zones/${zoneId}/recordsets/${set.id}`, body: { records: kept } },
        what,
        ok,
      );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    const words = [json?.type, json?.message].filter((x) => typeof x === 'string' && x).join(': ');
    return words || undefined;
  },
  oneWriterPerName: true,
};

function domainOf(env: ProviderEnv): DomainRef | undefined {
  const id = env.string('OS_DOMAIN_ID');
  if (id !== undefined) return { id };
  const name = env.string('OS_DOMAIN_NAME');
  return name !== undefined ? { name } : undefined;
}

function userOf(env: ProviderEnv, required: boolean): UserRef | undefined {
  const id = env.string('OS_USER_ID');
  if (id !== undefined) return { id };
  const name = env.string('OS_USERNAME');
  if (name === undefined) {
    if (!required) return undefined;
    throw new InvalidInputError(
      `${CODE}: set OS_USERNAME (with OS_DOMAIN_NAME or OS_DOMAIN_ID) or OS_USER_ID`,
      'OS_USERNAME',
    );
  }
  const domain = domainOf(env);
  if (!domain)
    throw new InvalidInputError(
      `${CODE}: OS_USERNAME needs the user's domain: set OS_DOMAIN_NAME (or OS_USER_DOMAIN_NAME) or OS_DOMAIN_ID`,
      'OS_DOMAIN_NAME',
    );
  return { name, domain };
}

function identityOf(env: ProviderEnv): Identity {
  const appSecret = env.secret('OS_APPLICATION_CREDENTIAL_SECRET');
  if (appSecret !== undefined) {
    const id = env.string('OS_APPLICATION_CREDENTIAL_ID');
    if (id !== undefined) return { kind: 'application_credential', id, secret: appSecret };
    const name = env.string('OS_APPLICATION_CREDENTIAL_NAME');
    if (name === undefined)
      throw new InvalidInputError(
        `${CODE}: OS_APPLICATION_CREDENTIAL_SECRET needs OS_APPLICATION_CREDENTIAL_ID (or its name with the user)`,
        'OS_APPLICATION_CREDENTIAL_ID',
      );
    return { kind: 'application_credential', name, user: userOf(env, true)!, secret: appSecret };
  }
  const user = userOf(env, true)!;
  const password = env.requiredSecret('OS_PASSWORD');
  const projectId = env.string('OS_PROJECT_ID');
  if (projectId !== undefined) return { kind: 'password', user, password, scope: { id: projectId } };
  const projectName = env.string('OS_PROJECT_NAME');
  const domain = domainOf(env);
  if (projectName === undefined || !domain)
    throw new InvalidInputError(
      `${CODE}: name the project that holds the zones: OS_PROJECT_ID, or OS_PROJECT_NAME with OS_DOMAIN_NAME or OS_DOMAIN_ID`,
      'OS_PROJECT_ID',
    );
  return { kind: 'password', user, password, scope: { name: projectName, domain } };
}

export const definition = {
  code: CODE,
  title: 'OpenStack Designate',
  description:
    'Adds the TXT records through the OpenStack Designate DNS API v2, with a Keystone v3 token from a user ' +
    'name and password (project-scoped) or an application credential. clouds.yaml (OS_CLOUD) is not read.',
  docsUrl: 'https://docs.openstack.org/api-ref/dns/dns-api-v2-index.html',
  permissions:
    'A user (or application credential) with a role that may manage record sets (the "member" role in the ' +
    'default policy) in the project that owns the zones.',
  example: [
    'OS_AUTH_URL=https://openstack.example.org:5000/v3 \\',
    'OS_REGION_NAME=RegionOne \\',
    'OS_PROJECT_ID=23d4522a987d4ab529f722a007c27846 \\',
    'OS_USERNAME=myuser \\',
    'OS_DOMAIN_NAME=Default \\',
    'OS_PASSWORD=passw0rd \\',
    "  acmekit --dns designate --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DESIGNATE',
  // lego's designate defaults.
  defaults: { ttl: 10, propagationTimeoutMs: 600_000, pollingIntervalMs: 10_000 },
  env: [
    { name: 'OS_AUTH_URL', description: 'Keystone URL (…/v3 is added when missing)', required: true },
    { name: 'OS_USERNAME', description: 'user name (with OS_DOMAIN_NAME or OS_DOMAIN_ID)' },
    { name: 'OS_USER_ID', fallbacks: ['OS_USERID'], description: 'user ID (instead of OS_USERNAME)' },
    { name: 'OS_PASSWORD', description: 'password of the user', secret: true },
    { name: 'OS_PROJECT_ID', fallbacks: ['OS_TENANT_ID'], description: 'project the token is scoped to' },
    {
      name: 'OS_PROJECT_NAME',
      fallbacks: ['OS_TENANT_NAME'],
      description: 'project name (with OS_DOMAIN_NAME or OS_DOMAIN_ID), instead of OS_PROJECT_ID',
    },
    {
      name: 'OS_DOMAIN_NAME',
      fallbacks: ['OS_USER_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_NAME'],
      description: 'domain of the user and of the project named by name',
    },
    {
      name: 'OS_DOMAIN_ID',
      fallbacks: ['OS_USER_DOMAIN_ID', 'OS_PROJECT_DOMAIN_ID'],
      description: 'domain ID, instead of OS_DOMAIN_NAME',
    },
    { name: 'OS_APPLICATION_CREDENTIAL_ID', description: 'application credential ID' },
    { name: 'OS_APPLICATION_CREDENTIAL_NAME', description: 'application credential name (with the user)' },
    { name: 'OS_APPLICATION_CREDENTIAL_SECRET', description: 'application credential secret', secret: true },
    { name: 'OS_REGION_NAME', description: 'region of the Designate endpoint in the catalog' },
    { name: 'OS_CLOUD', description: 'clouds.yaml entry: not supported by acmekit (set the OS_* variables)' },
    { name: 'DESIGNATE_ZONE_NAME', description: 'zone to write into, instead of the one found from DNS' },
  ],
  configure(env) {
    const cloud = env.string('OS_CLOUD');
    if (cloud !== undefined)
      throw new InvalidInputError(
        `${CODE}: OS_CLOUD (clouds.yaml) is not supported by acmekit; set OS_AUTH_URL, OS_REGION_NAME and the ` +
          'credentials as OS_* variables (`acmekit dns help designate`)',
        cloud,
      );
    const base = apiUrlSetting(env, CODE, 'OS_AUTH_URL', env.required('OS_AUTH_URL'));
    const zoneName = env.string('DESIGNATE_ZONE_NAME');
    return {
      authUrl: /\/v3$/.test(base) ? base : `${base}/v3`,
      identity: identityOf(env),
      region: env.string('OS_REGION_NAME'),
      zoneName: zoneName !== undefined ? zoneName.replace(/\.$/, '').toLowerCase() : undefined,
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, http: deps.http }, deps);
  },
} satisfies DnsProviderDefinition<DesignateConfig>;
