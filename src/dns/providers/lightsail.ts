import { InvalidInputError } from '../../errors/base.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { EnvVarSpec } from '../env.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
} from '../rest-provider.ts';
import { AWS_CREDENTIAL_VARIABLES, parseUrl, readCredentialSettings, route53Env } from './route53/config.ts';
import { AwsCredentialChain, type CredentialSettings } from './route53/credentials.ts';
import { signRequest } from './route53/sigv4.ts';

// Amazon Lightsail DNS (https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_CreateDomainEntry.html):
// the AWS JSON 1.1 protocol, a POST to https://lightsail.<region>.amazonaws.com/ with
// X-Amz-Target: Lightsail_20161128.<Operation> and Content-Type application/x-amz-json-1.1, signed with
// Signature Version 4 (service "lightsail") using the AWS credential chain route53 uses. GetDomain lists
// the domain's entries, CreateDomainEntry adds a TXT entry (its target quoted, as lego sends it) and
// DeleteDomainEntry removes one by name, type and target. Errors are {__type, message}; throttling is a
// 400 ThrottlingException and is tried again. Lightsail keeps its DNS zones in us-east-1.

const CODE = 'lightsail';
const TARGET_PREFIX = 'Lightsail_20161128';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Refusals that mean the credentials (or their policy), not the request. */
const AUTH_ERRORS = new Set([
  'AccessDeniedException',
  'UnauthenticatedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
]);
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export interface LightsailConfig {
  /** DNS_ZONE: the Lightsail domain; default the zone the solver found. */
  readonly dnsZone?: string | undefined;
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: CredentialSettings;
}

interface Runtime {
  readonly config: LightsailConfig;
  readonly chain: AwsCredentialChain;
  readonly warn: (message: string) => void;
  /** Whether GetDomain was refused (lego's policy grants only CreateDomainEntry and DeleteDomainEntry). */
  readDenied?: boolean;
}

/** What DeleteDomainEntry needs to name an entry; kept as the record's "id". */
interface EntryRef {
  readonly id?: string;
  readonly name: string;
  readonly target: string;
}

const POLICY = 'lightsail:GetDomain, lightsail:CreateDomainEntry and lightsail:DeleteDomainEntry';

function errorType(res: HttpResponse): { type: string; message: string } | undefined {
  const body = parseJsonObject(res.body);
  const raw = String(body?.__type ?? res.headers['x-amzn-errortype'] ?? '');
  if (!raw) return undefined;
  const type = raw.split('#').pop()!.split(':')[0]!;
  return { type, message: String(body?.message ?? body?.Message ?? '') };
}

/** One operation: its answer, or `{ refused: type }` for an error `accept` lists. */
async function call(
  c: Runtime,
  ctx: RestCallContext,
  operation: string,
  input: Record<string, unknown>,
  what: string,
  accept: readonly string[] = [],
): Promise<{ answer: Record<string, unknown> } | { refused: string }> {
  const res = await ctx.send({
    method: 'POST',
    path: '/',
    headers: { 'x-amz-target': `${TARGET_PREFIX}.${operation}`, 'content-type': CONTENT_TYPE },
    body: input,
  });
  if (res.status >= 200 && res.status < 300) return { answer: parseJsonObject(res.body) ?? {} };
  const error = errorType(res);
  if (error && accept.includes(error.type)) return { refused: error.type };
  if (error && AUTH_ERRORS.has(error.type)) {
    if (error.type === 'ExpiredTokenException') c.chain.invalidate();
    throw ctx.fail(
      `credentials refused while trying to ${what} (HTTP ${res.status}, ${error.type}: ${error.message.slice(0, 300)}): ` +
        `check the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance role) and that their policy allows ${POLICY}`,
      res.status,
    );
  }
  throw ctx.refused(res, what);
}

function fqdnOf(record: TxtRecord): string {
  return record.fqdn.toLowerCase().replace(/\.$/, '');
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

const api: RestApi<Runtime> = {
  code: CODE,
  apiName: 'Amazon Lightsail',
  urlVariable: 'AWS_ENDPOINT_URL_LIGHTSAIL',
  credentialVariables: `the AWS credentials and their policy (${POLICY})`,
  baseUrl: (c) => c.config.endpoint.href.replace(/\/+$/, ''),
  secrets: (c) =>
    [c.config.credentials.secretAccessKey, c.config.credentials.sessionToken].filter((s) => s !== undefined),
  async authorize(c, req, clock, call) {
    const creds = await c.chain.get(call.operation, call.signal);
    const body = req.rawBody ?? JSON.stringify(req.body ?? {});
    const signed = signRequest(
      {
        method: req.method,
        host: c.config.endpoint.host,
        path: c.config.endpoint.pathname.replace(/\/+$/, '') + req.path,
        headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': req.headers['x-amz-target'] ?? '' },
        body,
      },
      { credentials: creds, region: c.config.region, service: CODE, date: new Date(clock.now()) },
    );
    const { host: _host, ...headers } = signed.headers;
    return { method: req.method, path: req.path, rawBody: body, headers };
  },
  retryable(res) {
    if (res.status === 429 || res.status >= 500) return true;
    const type = res.status === 400 ? errorType(res)?.type : undefined;
    return type !== undefined && THROTTLING.has(type);
  },
  zoneRef: async (c, zone) => (c.config.dnsZone ?? zone).toLowerCase().replace(/\.$/, ''),
  async list(c, record, domain, ctx) {
    const fqdn = fqdnOf(record);
    const got = await call(
      c,
      ctx,
      'GetDomain',
      { domainName: domain },
      `read the entries of domain ${domain}`,
      ['AccessDeniedException', 'NotFoundException'],
    );
    if ('refused' in got && got.refused === 'NotFoundException') {
      throw ctx.fail(
        `domain ${domain} is not a Lightsail DNS zone of this AWS account (Lightsail → Domains & DNS); check DNS_ZONE`,
        400,
      );
    }
    if ('refused' in got) return readDenied(c, record, ctx);
    const entries = ((got.answer.domain as { domainEntries?: unknown } | undefined)?.domainEntries ??
      []) as Record<string, unknown>[];
    const found: ListedTxt[] = [];
    for (const e of Array.isArray(entries) ? entries : []) {
      const name = String(e.name ?? '');
      if (e.type !== 'TXT' || name.toLowerCase().replace(/\.$/, '') !== fqdn || typeof e.target !== 'string')
        continue;
      const ref: EntryRef = { ...(typeof e.id === 'string' ? { id: e.id } : {}), name, target: e.target };
      found.push({ id: JSON.stringify(ref), value: unquoteTxt(e.target) });
    }
    return found;
  },
  async create(c, record, domain, ctx) {
    const entry = { name: fqdnOf(record), target: quoted(record.value), type: 'TXT' };
    await call(
      c,
      ctx,
      'CreateDomainEntry',
      { domainName: domain, domainEntry: entry },
      `create the TXT entry ${record.fqdn}`,
    );
    // DeleteDomainEntry finds it by name, type and target: no GetDomain needed to clean up.
    return JSON.stringify({ name: entry.name, target: entry.target } satisfies EntryRef);
  },
  async remove(c, record, domain, id, ctx) {
    const ref = JSON.parse(id) as EntryRef;
    // An entry already gone is what cleanup wants.
    await call(
      c,
      ctx,
      'DeleteDomainEntry',
      {
        domainName: domain,
        domainEntry: { ...(ref.id ? { id: ref.id } : {}), name: ref.name, type: 'TXT', target: ref.target },
      },
      `delete the TXT entry ${record.fqdn}`,
      ['NotFoundException'],
    );
  },
  errorDetail(body, status) {
    const error = errorType({ body, status, headers: {}, url: '' });
    return error ? `${error.type}: ${error.message}` : undefined;
  },
};

/**
 * GetDomain refused: presenting goes on without the duplicate check; cleaning up after a restart tries
 * the delete it would have made (DeleteDomainEntry matches by name, type and target).
 */
function readDenied(c: Runtime, record: TxtRecord, ctx: RestCallContext): ListedTxt[] {
  if (!c.readDenied) {
    c.readDenied = true;
    c.warn(
      `${CODE}: these credentials may not call lightsail:GetDomain: values are not checked for duplicates; ` +
        'grant lightsail:GetDomain to fix that',
    );
  }
  if (ctx.operation !== 'cleanup') return [];
  return [
    {
      id: JSON.stringify({ name: fqdnOf(record), target: quoted(record.value) } satisfies EntryRef),
      value: record.value,
    },
  ];
}

/** The credential chain's variables as route53 declares them, and Lightsail's own. */
const lightsailEnv: EnvVarSpec[] = [
  ...route53Env
    .filter((v) => AWS_CREDENTIAL_VARIABLES.has(v.name))
    .map((v) =>
      v.name === 'AWS_REGION'
        ? {
            ...v,
            description:
              'region of the STS endpoint for web identity and assumed roles (not of Lightsail DNS)',
          }
        : v,
    ),
  {
    name: 'DNS_ZONE',
    description: 'the Lightsail domain (DNS zone) to write to; default: the zone found by DNS',
  },
  {
    name: 'LIGHTSAIL_REGION',
    description: 'region of the Lightsail API (its DNS zones live in us-east-1)',
    default: 'us-east-1',
  },
  {
    name: 'AWS_ENDPOINT_URL_LIGHTSAIL',
    fallbacks: ['AWS_ENDPOINT_URL'],
    description: 'Lightsail API endpoint',
    default: 'https://lightsail.<LIGHTSAIL_REGION>.amazonaws.com',
  },
];

export const definition = {
  code: CODE,
  title: 'Amazon Lightsail',
  description:
    'Adds the TXT records as Lightsail domain entries (AWS JSON API, Signature Version 4), with the AWS ' +
    'credential chain: environment keys, profiles, web identity, container and instance roles.',
  docsUrl: 'https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_CreateDomainEntry.html',
  permissions:
    "An IAM policy allowing lightsail:CreateDomainEntry and lightsail:DeleteDomainEntry on the domain (lego's), " +
    'plus lightsail:GetDomain so duplicates are avoided and values found again after a restart.',
  example: [
    'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \\',
    'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \\',
    'DNS_ZONE=example.com \\',
    "  acmekit --dns lightsail --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'LIGHTSAIL',
  // lego's lightsail defaults as its documentation gives them (its code falls back to 60 s for the
  // propagation timeout; the longer documented value only waits longer). Lightsail entries carry no TTL.
  defaults: { ttl: 120, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000 },
  env: lightsailEnv,
  configure(env) {
    const region = env.string('LIGHTSAIL_REGION') ?? 'us-east-1';
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw new InvalidInputError(
        `${CODE}: LIGHTSAIL_REGION must look like us-east-1, got ${JSON.stringify(region)}`,
        region,
      );
    }
    const override = env.string('AWS_ENDPOINT_URL_LIGHTSAIL');
    const endpoint =
      override !== undefined
        ? parseUrl(override, 'AWS_ENDPOINT_URL_LIGHTSAIL', CODE)
        : new URL(`https://lightsail.${region}.amazonaws.com`);
    return {
      dnsZone: env.string('DNS_ZONE'),
      region,
      endpoint,
      credentials: readCredentialSettings(env, CODE),
    };
  },
  create(config, deps) {
    const ctx = { provider: CODE, http: deps.http, clock: deps.clock, logger: deps.logger };
    return new RestDnsProvider(
      api,
      {
        config,
        chain: new AwsCredentialChain(config.credentials, ctx),
        warn: (message) => deps.logger.warn({ provider: CODE }, message),
      },
      deps,
    );
  },
} satisfies DnsProviderDefinition<LightsailConfig>;
