import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import { Secret } from '../../internal/secret.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Rackspace Cloud DNS v1.0: https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records
// Authentication (https://docs.rackspace.com/docs/cloud-dns/v1/getting-started/authenticate): POST
// /v2.0/tokens to the Identity service with {"auth": {"RAX-KSKEY:apiKeyCredentials": {username, apiKey}}}
// gives a token (X-Auth-Token, until `expires`) and the service catalog, whose "cloudDNS" entry holds the
// DNS endpoint of the account (https://dns.api.rackspacecloud.com/v1.0/<tenant>). Domains are found with
// GET /domains?name=, records searched with GET /domains/<id>/records?type=&name= (full names). Adding
// (POST) and deleting (DELETE ?id=) records are asynchronous: the 202 answer names a job, polled at
// /status/<jobId>?showDetails=true until COMPLETED or ERROR. Rackspace answers 413 when over a rate limit.

const CODE = 'rackspace';
const DEFAULT_IDENTITY_URL = 'https://identity.api.rackspacecloud.com/v2.0';
/** Rackspace Cloud DNS refuses TTLs below 300 s. */
const MIN_TTL = 300;
const PAGE_SIZE = 100;
/** A token is renewed this long before Rackspace says it expires. */
const TOKEN_MARGIN_MS = 60_000;
/** How many times a job is polled, and the longest pause between two polls. */
const JOB_POLLS = 30;
const MAX_JOB_PAUSE_MS = 5_000;
/** Tries of a request Rackspace answered 413 (over limit). */
const OVER_LIMIT_TRIES = 4;

interface RackspaceConfig {
  readonly user: string;
  readonly apiKey: Secret;
  readonly identityUrl: string;
}

interface Session {
  readonly token: Secret;
  readonly endpoint: string;
  readonly expiresAt: number;
}

/** Logs in to the Identity service when no unexpired token is at hand; one login at a time. */
class RackspaceIdentity {
  readonly #config: RackspaceConfig;
  readonly #http: ProviderHttp;
  #session: Session | undefined;
  #pending: Promise<Session> | undefined;

  constructor(config: RackspaceConfig, http: ProviderHttp) {
    this.#config = config;
    this.#http = http;
  }

  secrets(): Secret[] {
    return this.#session ? [this.#session.token] : [];
  }

  /** The DNS endpoint of the last login (authorize runs before every request, so there is one). */
  endpoint(): string {
    if (!this.#session) throw new Error('rackspace: no session yet');
    return this.#session.endpoint;
  }

  session(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Session> {
    if (this.#session && clock.now() < this.#session.expiresAt) return Promise.resolve(this.#session);
    this.#pending ??= this.#login(clock, operation, signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #login(clock: Clock, operation: DnsOperation, signal: AbortSignal): Promise<Session> {
    const c = this.#config;
    const fail = (message: string, status?: number, cause?: unknown) =>
      new DnsProviderError(CODE, operation, message.split(c.apiKey.reveal()).join('[redacted]'), {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    let res: HttpResponse;
    try {
      res = await this.#http.request('POST', `${c.identityUrl}/tokens`, {
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: { 'RAX-KSKEY:apiKeyCredentials': { username: c.user, apiKey: c.apiKey.reveal() } },
        }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw fail(
        `the Rackspace Identity service did not answer: ${(err as Error).message}; check the network, the ` +
          'proxy settings and RACKSPACE_IDENTITY_URL',
        undefined,
        err,
      );
    }
    const words = faultText(res.body);
    const detail = `HTTP ${res.status}${words ? `, ${words}` : ''}`;
    if (res.status === 400 || res.status === 401 || res.status === 403)
      throw fail(
        `credentials refused by the Rackspace Identity service (${detail}): check RACKSPACE_USER and ` +
          'RACKSPACE_API_KEY (the API key of that user)',
        res.status,
      );
    if (res.status < 200 || res.status >= 300)
      throw fail(`the Rackspace login failed (${detail}); try again in a few minutes`, res.status);
    const access = parseJsonObject(res.body)?.access as
      | {
          token?: { id?: unknown; expires?: unknown };
          serviceCatalog?: { name?: unknown; type?: unknown; endpoints?: { publicURL?: unknown }[] }[];
        }
      | undefined;
    const id = access?.token?.id;
    if (typeof id !== 'string' || id === '')
      throw fail('the Rackspace Identity service answered without a token');
    const dns = access?.serviceCatalog?.find((s) => s.name === 'cloudDNS' || s.type === 'rax:dns');
    const endpoint = dns?.endpoints?.find((e) => typeof e.publicURL === 'string')?.publicURL;
    if (typeof endpoint !== 'string')
      throw fail(
        'the service catalog of RACKSPACE_USER has no Cloud DNS endpoint: check that the account has Cloud DNS',
      );
    const expires =
      typeof access?.token?.expires === 'string' ? Date.parse(access.token.expires) : Number.NaN;
    const until = Number.isNaN(expires) ? clock.now() + 3_600_000 : expires;
    this.#session = {
      token: new Secret(id),
      endpoint: endpoint.replace(/\/+$/, ''),
      expiresAt: Math.max(clock.now(), until - TOKEN_MARGIN_MS),
    };
    return this.#session;
  }
}

interface RackspaceRuntime extends RackspaceConfig {
  readonly identity: RackspaceIdentity;
}

/** The words of a Rackspace fault: {message, details} or {<kind>: {message, details}}, with validation messages. */
function faultText(body: Buffer): string | undefined {
  const json = parseJsonObject(body);
  if (!json) return undefined;
  const fault =
    typeof json.message === 'string'
      ? json
      : (Object.values(json).find((v) => v && typeof v === 'object' && 'message' in v) as
          | Record<string, unknown>
          | undefined);
  if (!fault) return undefined;
  const validation = (fault.validationErrors as { messages?: unknown } | undefined)?.messages;
  return [fault.message, fault.details, ...(Array.isArray(validation) ? validation : [])]
    .filter((x): x is string => typeof x === 'string' && x !== '')
    .join(': ');
}

/** `ctx.send` that also waits out Rackspace's 413 (over limit) answers, honouring Retry-After. */
async function send(
  ctx: RestCallContext,
  request: Parameters<RestCallContext['send']>[0],
): Promise<HttpResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await ctx.send(request);
    if (res.status !== 413 || attempt >= OVER_LIMIT_TRIES) return res;
    await ctx.sleep(Math.min(60_000, retryAfterOf(res.headers, Date.now()) ?? 2_000 * attempt));
  }
}

async function json(
  ctx: RestCallContext,
  request: Parameters<RestCallContext['send']>[0],
  what: string,
  ok: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<Record<string, unknown>> {
  const res = await send(ctx, request);
  if (!ok(res.status)) throw ctx.refused(res, what);
  if (res.body.length === 0) return {};
  const body = parseJsonObject(res.body);
  if (!body) throw ctx.fail(`the Rackspace Cloud DNS API answered ${what} with something other than JSON`);
  return body;
}

/**
 * Waits for an asynchronous job (the 202 answer of a change) to finish: its `response` when COMPLETED;
 * an ERROR is thrown, unless `gone` accepts it (a record deleted meanwhile).
 */
async function finish(
  ctx: RestCallContext,
  accepted: Record<string, unknown>,
  what: string,
  gone?: (error: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  let job = accepted;
  for (let poll = 1; ; poll++) {
    const status = job.status;
    if (status === 'COMPLETED') return (job.response as Record<string, unknown> | undefined) ?? {};
    if (status === 'ERROR') {
      const error = (job.error as Record<string, unknown> | undefined) ?? {};
      if (gone?.(error)) return {};
      const words = [error.message, error.details].filter((x) => typeof x === 'string' && x).join(': ');
      throw ctx.fail(`Rackspace could not ${what} (job ${String(job.jobId)}: ${words || 'no detail'})`);
    }
    if (typeof job.jobId !== 'string')
      throw ctx.fail(`the Rackspace Cloud DNS API answered ${what} without a job to follow`);
    if (poll > JOB_POLLS)
      throw ctx.fail(
        `Rackspace had not finished to ${what} after ${JOB_POLLS} checks (job ${job.jobId}); try again later`,
      );
    await ctx.sleep(Math.min(MAX_JOB_PAUSE_MS, 500 * poll));
    job = await json(
      ctx,
      { method: 'GET', path: `/status/${encodeURIComponent(job.jobId)}?showDetails=true` },
      `follow the job that will ${what}`,
    );
  }
}

const api: RestApi<RackspaceRuntime> = {
  code: CODE,
  apiName: 'Rackspace Cloud DNS',
  urlVariable: 'RACKSPACE_IDENTITY_URL (the DNS endpoint comes from its service catalog)',
  credentialVariables: 'RACKSPACE_USER and RACKSPACE_API_KEY (a user allowed to change Cloud DNS)',
  baseUrl: (c) => c.identity.endpoint(),
  secrets: (c) => [c.apiKey, ...c.identity.secrets()],
  async authorize(c, req, clock, call) {
    const session = await c.identity.session(clock, call.operation, call.signal);
    return withHeaders(req, { 'x-auth-token': session.token.reveal() });
  },
  async zoneRef(_c, zone, ctx) {
    const body = await json(
      ctx,
      { method: 'GET', path: `/domains?name=${encodeURIComponent(zone)}` },
      `find the domain ${zone}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    const domains = Array.isArray(body.domains) ? (body.domains as { id?: unknown; name?: unknown }[]) : [];
    const found = domains.find((d) => String(d.name).toLowerCase() === zone);
    if (typeof found?.id !== 'number' && typeof found?.id !== 'string')
      throw ctx.fail(
        `domain ${zone} is not in the Rackspace Cloud DNS account of RACKSPACE_USER: add it there`,
      );
    return String(found.id);
  },
  async list(_c, record, domainId, ctx) {
    const name = fullName(record);
    const found: ListedTxt[] = [];
    // Pages of up to PAGE_SIZE; the next page starts after the records received.
    for (let offset = 0, pages = 0; pages < 100; pages++) {
      const query = new URLSearchParams({
        type: 'TXT',
        name,
        limit: String(PAGE_SIZE),
        offset: String(offset),
      });
      const res = await send(ctx, { method: 'GET', path: `/domains/${domainId}/records?${query}` });
      // No record matches the search: Rackspace answers 404.
      if (res.status === 404) break;
      if (res.status < 200 || res.status >= 300)
        throw ctx.refused(res, `list the TXT records of ${record.fqdn}`);
      const body = parseJsonObject(res.body) ?? {};
      const records = Array.isArray(body.records)
        ? (body.records as { id?: unknown; name?: unknown; type?: unknown; data?: unknown }[])
        : [];
      for (const r of records) {
        if (r.type !== 'TXT' || String(r.name).toLowerCase() !== name) continue;
        if (typeof r.id === 'string' && typeof r.data === 'string') found.push({ id: r.id, value: r.data });
      }
      const total = typeof body.totalEntries === 'number' ? body.totalEntries : 0;
      offset += records.length;
      if (records.length === 0 || offset >= total) break;
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const what = `create the TXT record ${record.fqdn}`;
    const accepted = await json(
      ctx,
      {
        method: 'POST',
        path: `/domains/${domainId}/records`,
        body: {
          records: [
            { name: fullName(record), type: 'TXT', data: record.value, ttl: Math.max(MIN_TTL, record.ttl) },
          ],
        },
      },
      what,
    );
    const done = await finish(ctx, accepted, what);
    const created = (done.records as { id?: unknown }[] | undefined)?.[0]?.id;
    return typeof created === 'string' ? created : undefined;
  },
  async remove(_c, record, domainId, id, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    const res = await send(ctx, {
      method: 'DELETE',
      path: `/domains/${domainId}/records?id=${encodeURIComponent(id)}`,
    });
    // 404: already gone, which is what cleanup wants.
    if (res.status === 404) return;
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    const accepted = parseJsonObject(res.body) ?? { status: 'COMPLETED' };
    await finish(ctx, accepted, what, (error) => error.code === 404);
  },
  errorDetail: (body) => faultText(body),
};

/** Rackspace names records by their full name, without the trailing dot. */
function fullName(record: TxtRecord): string {
  return record.fqdn.replace(/\.$/, '').toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Rackspace Cloud DNS',
  description:
    'Adds the TXT records through the Rackspace Cloud DNS API v1.0, logging in to the Rackspace Identity ' +
    'service with a user name and API key.',
  docsUrl: 'https://docs.rackspace.com/docs/cloud-dns/v1/api-reference/records',
  permissions:
    'RACKSPACE_USER / RACKSPACE_API_KEY: a Rackspace Cloud user and its API key (Account Settings); the user ' +
    'needs a Cloud DNS role that may change records (admin or creator).',
  example: [
    'RACKSPACE_USER=xxxx \\',
    'RACKSPACE_API_KEY=yyyy \\',
    "  acmekit --dns rackspace --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'RACKSPACE',
  // lego's rackspace defaults (Rackspace Cloud DNS takes TTLs of 300 s and more).
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'RACKSPACE_USER', description: 'API user name', required: true },
    { name: 'RACKSPACE_API_KEY', description: 'API key of that user', required: true, secret: true },
    {
      name: 'RACKSPACE_IDENTITY_URL',
      description:
        'Identity service (v2.0) URL, for tests or a proxy; the DNS endpoint comes from its catalog',
      default: DEFAULT_IDENTITY_URL,
    },
  ],
  configure(env) {
    return {
      user: env.required('RACKSPACE_USER'),
      apiKey: env.requiredSecret('RACKSPACE_API_KEY'),
      identityUrl: apiUrlSetting(env, CODE, 'RACKSPACE_IDENTITY_URL', DEFAULT_IDENTITY_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, identity: new RackspaceIdentity(config, deps.http) }, deps);
  },
} satisfies DnsProviderDefinition<RackspaceConfig>;
