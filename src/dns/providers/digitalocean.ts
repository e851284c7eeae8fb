import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import type { Logger } from '../../internal/logger.ts';
import { redactSecrets } from '../../internal/redact.ts';
import type { Secret } from '../../internal/secret.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { parseJsonObject, sendJson } from '../json-api.ts';
import { type DnsProvider, type TxtRecord, unFqdn } from '../provider.ts';

const CODE = 'digitalocean';
const DEFAULT_API_URL = 'https://api.digitalocean.com';
/** DigitalOcean refuses TTLs below 30 s. */
const MIN_TTL = 30;
/** The largest page the records list serves. */
const PER_PAGE = 200;

interface DigitalOceanConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

export const definition = {
  code: CODE,
  title: 'DigitalOcean',
  description:
    'Adds the TXT records through the DigitalOcean API v2 (Networking → Domains), with a personal access token. ' +
    'The zone must be a domain in that account.',
  docsUrl: 'https://docs.digitalocean.com/reference/api/create-personal-access-token/',
  permissions:
    'DO_AUTH_TOKEN: a personal access token with the Write scope, or custom scopes domain:read, domain:create ' +
    'and domain:delete.',
  example: [
    'DO_AUTH_TOKEN=dop_v1_0123456789abcdef \\',
    "  acmekit --dns digitalocean --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DO',
  // lego's digitalocean defaults.
  defaults: { ttl: 30, propagationTimeoutMs: 60_000, pollingIntervalMs: 5_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'DO_AUTH_TOKEN',
      description: 'personal access token with write access to Domains',
      required: true,
      secret: true,
    },
    {
      name: 'DO_API_URL',
      description: 'API base URL, for a private endpoint or tests',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    const token = env.requiredSecret('DO_AUTH_TOKEN');
    const raw = env.string('DO_API_URL') ?? DEFAULT_API_URL;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InvalidInputError(
        `${CODE}: DO_API_URL must be an http(s) URL, got ${JSON.stringify(raw)}`,
        raw,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new InvalidInputError(
        `${CODE}: DO_API_URL must be an http(s) URL, got ${JSON.stringify(raw)}`,
        raw,
      );
    }
    if (url.username || url.password) {
      throw new InvalidInputError(`${CODE}: DO_API_URL must not carry a user name or password`, 'DO_API_URL');
    }
    return { token, apiUrl: raw.replace(/\/+$/, '') };
  },
  create(config, deps) {
    return new DigitalOceanProvider(config, deps.http, deps.logger, deps.clock);
  },
} satisfies DnsProviderDefinition<DigitalOceanConfig>;

interface DoRecord {
  readonly id: number;
  readonly type: string;
  readonly name: string;
  readonly data: string;
}
interface DoError {
  readonly id?: string;
  readonly message?: string;
}

class DigitalOceanProvider implements DnsProvider {
  readonly #config: DigitalOceanConfig;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;
  /** "fqdn value" → (domain, record id) created by this process, so its cleanup skips the lookup. */
  readonly #created = new Map<string, { domain: string; id: number }>();

  constructor(config: DigitalOceanConfig, http: ProviderHttp, logger: Logger, clock: Clock) {
    this.#config = config;
    this.#http = http;
    this.#logger = logger;
    this.#clock = clock;
  }

  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const domain = unFqdn(record.zone).toLowerCase();
    const existing = (await this.#txtRecords(domain, record, 'present', signal)).find(
      (r) => r.data === record.value,
    );
    if (existing) {
      this.#logger.debug({ provider: CODE, fqdn: record.fqdn }, 'digitalocean: the value is already there');
      this.#created.set(key(record), { domain, id: existing.id });
      return;
    }
    // DigitalOcean names are relative to the domain; "@" is the apex.
    const body = { type: 'TXT', name: record.name, data: record.value, ttl: Math.max(MIN_TTL, record.ttl) };
    const res = await this.#send('present', 'POST', `${recordsPath(domain)}`, signal, body);
    if (res.status !== 201 && res.status !== 200)
      throw this.#error('present', res, domain, 'create the TXT record');
    const id = (parse(res) as { domain_record?: Partial<DoRecord> } | undefined)?.domain_record?.id;
    if (typeof id === 'number') this.#created.set(key(record), { domain, id });
  }

  async cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const domain = unFqdn(record.zone).toLowerCase();
    const remembered = this.#created.get(key(record));
    // Not created by this process (restart, other machine): find it by name and value.
    const ids = remembered
      ? [remembered.id]
      : (await this.#txtRecords(domain, record, 'cleanup', signal))
          .filter((r) => r.data === record.value)
          .map((r) => r.id);
    for (const id of ids) {
      const res = await this.#send('cleanup', 'DELETE', `${recordsPath(domain)}/${id}`, signal);
      // 404: already gone, which is what cleanup wants.
      if ((res.status >= 200 && res.status < 300) || res.status === 404) continue;
      throw this.#error('cleanup', res, domain, 'delete the TXT record');
    }
    this.#created.delete(key(record));
  }

  async #txtRecords(
    domain: string,
    record: TxtRecord,
    op: DnsOperation,
    signal: AbortSignal,
  ): Promise<DoRecord[]> {
    // The list filter takes the fully qualified name, without the trailing dot.
    const name = unFqdn(record.fqdn).toLowerCase();
    const found: DoRecord[] = [];
    for (let page = 1; page <= 50; page++) {
      const query = `type=TXT&name=${encodeURIComponent(name)}&per_page=${PER_PAGE}&page=${page}`;
      const res = await this.#send(op, 'GET', `${recordsPath(domain)}?${query}`, signal);
      if (res.status !== 200) throw this.#error(op, res, domain, `list the TXT records at ${name}`);
      const body = parse(res) as { domain_records?: DoRecord[]; meta?: { total?: number } } | undefined;
      const batch = Array.isArray(body?.domain_records) ? body.domain_records : [];
      found.push(...batch.filter((r) => r.type === 'TXT'));
      const seen = (page - 1) * PER_PAGE + batch.length;
      // Page by count, never by the server's "next" link: the token must go to DO_API_URL only.
      if (batch.length === 0 || seen >= (body?.meta?.total ?? 0)) break;
    }
    return found;
  }

  #send(
    op: DnsOperation,
    method: string,
    path: string,
    signal: AbortSignal,
    body?: unknown,
  ): Promise<HttpResponse> {
    return sendJson({
      http: this.#http,
      provider: CODE,
      operation: op,
      method,
      baseUrl: this.#config.apiUrl,
      path,
      headers: { authorization: `Bearer ${this.#config.token.reveal()}` },
      body,
      signal,
      apiName: 'DigitalOcean',
      urlVariable: 'DO_API_URL',
      redact: (t) => this.#redact(t),
      logger: this.#logger,
    });
  }

  #error(op: DnsOperation, res: HttpResponse, domain: string, what: string): DnsProviderError {
    const status = res.status;
    const e = parse(res) as DoError | undefined;
    const detail = this.#redact(
      [
        `HTTP ${status}`,
        ...(e?.id || e?.message ? [`${e.id ?? ''}: ${String(e.message ?? '').slice(0, 200)}`] : []),
      ].join(', '),
    );
    let message: string;
    if (status === 401) {
      message = `token refused (${detail}): check DO_AUTH_TOKEN is a current personal access token`;
    } else if (status === 403) {
      message =
        `token refused (${detail}): check DO_AUTH_TOKEN has the Write scope (or domain:read, domain:create ` +
        `and domain:delete) for domain ${domain}`;
    } else if (status === 404) {
      message =
        `domain ${domain} not found while trying to ${what} (${detail}): add it under Networking → Domains in ` +
        'the DigitalOcean account of DO_AUTH_TOKEN, or check the zone the name is delegated to';
    } else if (status === 429) {
      message = `rate limited while trying to ${what} (${detail}); ${retryHint(res, this.#clock)}`;
    } else if (status >= 500) {
      message = `DigitalOcean API error while trying to ${what} (${detail}); try again in a few minutes (https://status.digitalocean.com)`;
    } else {
      message = `DigitalOcean refused to ${what} (${detail})`;
    }
    return new DnsProviderError(CODE, op, message, { status });
  }

  /** Cuts secrets out of server text (a server may echo them); very short ones would mangle ordinary words. */
  #redact(text: string): string {
    return redactSecrets(text, [this.#config.token]);
  }
}

function recordsPath(domain: string): string {
  return `/v2/domains/${encodeURIComponent(domain)}/records`;
}

function parse(res: HttpResponse): unknown {
  return parseJsonObject(res.body);
}

/** Retry-After (burst limit) when sent, else RateLimit-Reset (hourly limit, Unix seconds). */
function retryHint(res: HttpResponse, clock: Clock): string {
  const now = clock.now();
  let ms = retryAfterOf(res.headers, now);
  const reset = Number(res.headers['ratelimit-reset']);
  if (ms === undefined && Number.isFinite(reset) && reset > 0) ms = Math.max(0, reset * 1000 - now);
  if (ms === undefined)
    return 'DigitalOcean allows 250 requests a minute and 5000 an hour; retry in a minute';
  return `retry after ${Math.ceil(ms / 1000)} s (at ${new Date(now + ms).toISOString()})`;
}

function key(record: TxtRecord): string {
  return `${unFqdn(record.fqdn).toLowerCase()} ${record.value}`;
}
