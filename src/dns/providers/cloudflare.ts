import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import type { Logger } from '../../internal/logger.ts';
import { redactSecrets } from '../../internal/redact.ts';
import type { Secret } from '../../internal/secret.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import type { ProviderEnv } from '../env.ts';
import { parseJsonObject, sendJson } from '../json-api.ts';
import { type DnsProvider, type TxtRecord, toFqdn, unFqdn, type ZoneFinder } from '../provider.ts';

const CODE = 'cloudflare';
const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';
/** Cloudflare refuses TTLs below 60 s (1 means "automatic", which is 300 s). */
const MIN_TTL = 60;
/** 81057 "Record already exists", 81058 "An identical record already exists": what we wanted is there. */
const ALREADY_EXISTS = new Set([81057, 81058]);
/** 81044 "Record does not exist": already gone, which is what cleanup wants. */
const RECORD_GONE = 81044;
/** 7000 "No route for that URI", 7003 "Could not route to ..., perhaps your object identifier is invalid". */
const NO_SUCH_OBJECT = new Set([7000, 7003]);
/** Header and credential errors: 6003 (6100–6111 in its chain), 9103, 9106, 9107, 9109, 10000, 10001. */
const AUTH_CODES = new Set([6003, 6100, 6101, 6102, 6103, 6111, 9103, 9106, 9107, 9109, 10000, 10001]);

type CloudflareAuth =
  | { readonly kind: 'token'; readonly dnsToken: Secret; readonly zoneToken: Secret | undefined }
  | { readonly kind: 'key'; readonly email: string; readonly key: Secret };

interface CloudflareConfig {
  readonly auth: CloudflareAuth;
  readonly baseUrl: string;
}

export const definition = {
  code: CODE,
  title: 'Cloudflare',
  description:
    'Adds the TXT records through the Cloudflare API v4, with an API token (preferred: scoped to the zones it ' +
    'may edit) or the account e-mail and Global API Key. The zone is looked up by name.',
  docsUrl: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/',
  permissions:
    'CLOUDFLARE_DNS_API_TOKEN: Zone → DNS → Edit and Zone → Zone → Read, for the zones of your names ' +
    '(or give Zone → Zone → Read to a separate CLOUDFLARE_ZONE_API_TOKEN). The Global API Key can do everything ' +
    'the account can; prefer a token.',
  example: [
    'CLOUDFLARE_DNS_API_TOKEN=1234567890abcdefghijklmnopqrstuvwxyz \\',
    "  acmekit --dns cloudflare --domains example.com --domains '*.example.com' --email you@example.com run",
    '# or, with the Global API Key:',
    'CLOUDFLARE_EMAIL=you@example.com CLOUDFLARE_API_KEY=b9841238feb177a84330febba8a83208921177bffe733 \\',
    '  acmekit --dns cloudflare --domains example.com --email you@example.com run',
  ].join('\n'),
  envPrefix: 'CLOUDFLARE',
  env: [
    {
      name: 'CLOUDFLARE_DNS_API_TOKEN',
      fallbacks: ['CF_DNS_API_TOKEN'],
      description:
        'API token with Zone → DNS → Edit (and Zone → Zone → Read unless CLOUDFLARE_ZONE_API_TOKEN is set)',
      secret: true,
    },
    {
      name: 'CLOUDFLARE_ZONE_API_TOKEN',
      fallbacks: ['CF_ZONE_API_TOKEN'],
      description: 'API token with Zone → Zone → Read, used only to look zones up (default: the DNS token)',
      secret: true,
    },
    {
      name: 'CLOUDFLARE_EMAIL',
      fallbacks: ['CF_API_EMAIL'],
      description: 'account e-mail, with CLOUDFLARE_API_KEY (instead of a token)',
    },
    {
      name: 'CLOUDFLARE_API_KEY',
      fallbacks: ['CF_API_KEY'],
      description: 'Global API Key of that account, with CLOUDFLARE_EMAIL (instead of a token)',
      secret: true,
    },
    {
      name: 'CLOUDFLARE_BASE_URL',
      description: 'API base URL, for a private endpoint or tests',
      default: DEFAULT_BASE_URL,
    },
  ],
  configure(env) {
    return { auth: readAuth(env), baseUrl: readBaseUrl(env, 'CLOUDFLARE_BASE_URL', DEFAULT_BASE_URL) };
  },
  create(config, deps) {
    return new CloudflareProvider(config, deps.http, deps.logger, deps.clock);
  },
} satisfies DnsProviderDefinition<CloudflareConfig>;

/** lego's order: e-mail + key when both are set, else the DNS token (the zone token defaults to it). */
function readAuth(env: ProviderEnv): CloudflareAuth {
  const email = env.string('CLOUDFLARE_EMAIL');
  const key = env.secret('CLOUDFLARE_API_KEY');
  if (email !== undefined && key !== undefined) return { kind: 'key', email, key };
  const dnsToken = env.secret('CLOUDFLARE_DNS_API_TOKEN');
  if (dnsToken !== undefined)
    return { kind: 'token', dnsToken, zoneToken: env.secret('CLOUDFLARE_ZONE_API_TOKEN') };
  if (email !== undefined || key !== undefined) {
    const missing =
      email === undefined ? 'CLOUDFLARE_EMAIL (or CF_API_EMAIL)' : 'CLOUDFLARE_API_KEY (or CF_API_KEY)';
    throw new InvalidInputError(
      `cloudflare: ${missing} is not set; the Global API Key needs both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY ` +
        '(or use CLOUDFLARE_DNS_API_TOKEN instead)',
      email === undefined ? 'CLOUDFLARE_EMAIL' : 'CLOUDFLARE_API_KEY',
    );
  }
  throw new InvalidInputError(
    'cloudflare: CLOUDFLARE_DNS_API_TOKEN (or CF_DNS_API_TOKEN) is not set: give an API token with ' +
      'Zone → DNS → Edit, or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY (each also as <NAME>_FILE); ' +
      '`acmekit dns help cloudflare` lists every variable',
    'CLOUDFLARE_DNS_API_TOKEN',
  );
}

function readBaseUrl(env: ProviderEnv, name: string, fallback: string): string {
  const raw = env.string(name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(`${CODE}: ${name} must be an http(s) URL, got ${JSON.stringify(raw)}`, raw);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(`${CODE}: ${name} must be an http(s) URL, got ${JSON.stringify(raw)}`, raw);
  }
  if (url.username || url.password) {
    throw new InvalidInputError(`${CODE}: ${name} must not carry a user name or password`, name);
  }
  return raw.replace(/\/+$/, '');
}

interface CfError {
  readonly code: number;
  readonly message: string;
}
interface CfEnvelope {
  readonly success?: boolean;
  readonly errors?: readonly CfError[];
  readonly result?: unknown;
  readonly result_info?: { readonly total_pages?: number };
}
interface CfZone {
  readonly id: string;
  readonly name: string;
}
interface CfRecord {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly content: string;
}

/** Which credential a request used, so an error names the right variable and permission. */
type Purpose = 'zone' | 'dns';

class CloudflareProvider implements DnsProvider, ZoneFinder {
  readonly #config: CloudflareConfig;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #secrets: string[];
  /** zone name ("example.com") → zone id; lookups cost a request each. */
  readonly #zoneIds = new Map<string, string>();
  /** "fqdn value" → where present() put it, so cleanup in this process skips the lookup. */
  readonly #created = new Map<string, { zoneId: string; recordId: string }>();

  constructor(config: CloudflareConfig, http: ProviderHttp, logger: Logger, clock: Clock) {
    this.#config = config;
    this.#http = http;
    this.#logger = logger;
    this.#clock = clock;
    const a = config.auth;
    this.#secrets = (a.kind === 'key' ? [a.key] : [a.dnsToken, ...(a.zoneToken ? [a.zoneToken] : [])]).map(
      (s) => s.reveal(),
    );
  }

  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const zone = unFqdn(record.zone).toLowerCase();
    const name = unFqdn(record.fqdn).toLowerCase();
    const zoneId = await this.#zoneId(zone, 'present', signal);
    const existing = (await this.#txtRecords(zoneId, zone, name, 'present', signal)).filter(
      (r) => unquote(r.content) === record.value,
    );
    if (existing[0]) {
      this.#logger.debug({ provider: CODE, fqdn: record.fqdn }, 'cloudflare: the value is already there');
      this.#created.set(key(record), { zoneId, recordId: existing[0].id });
      return;
    }
    // Quoted, as Cloudflare now wants TXT content (RFC 1035 character-strings); reads accept both forms.
    const body = { type: 'TXT', name, content: `"${record.value}"`, ttl: Math.max(MIN_TTL, record.ttl) };
    const res = await this.#send('present', 'dns', 'POST', `/zones/${zoneId}/dns_records`, signal, body);
    const env = parse(res);
    if (ok(res, env)) {
      const id = (env?.result as Partial<CfRecord> | undefined)?.id;
      if (typeof id === 'string') this.#created.set(key(record), { zoneId, recordId: id });
      return;
    }
    // Another run created it between our lookup and our write.
    if (env?.errors?.some((e) => ALREADY_EXISTS.has(e.code))) return;
    throw this.#error('present', 'dns', res, env, zone, 'create the TXT record');
  }

  async cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const zone = unFqdn(record.zone).toLowerCase();
    const remembered = this.#created.get(key(record));
    let targets: { zoneId: string; recordId: string }[];
    if (remembered) {
      targets = [remembered];
    } else {
      // Not created by this process (restart, other machine): find it by name and content.
      const zoneId = await this.#zoneId(zone, 'cleanup', signal);
      const records = await this.#txtRecords(
        zoneId,
        zone,
        unFqdn(record.fqdn).toLowerCase(),
        'cleanup',
        signal,
      );
      targets = records
        .filter((r) => unquote(r.content) === record.value)
        .map((r) => ({ zoneId, recordId: r.id }));
    }
    for (const t of targets) {
      const res = await this.#send(
        'cleanup',
        'dns',
        'DELETE',
        `/zones/${t.zoneId}/dns_records/${t.recordId}`,
        signal,
      );
      const env = parse(res);
      if (ok(res, env) || res.status === 404 || env?.errors?.some((e) => e.code === RECORD_GONE)) continue;
      throw this.#error('cleanup', 'dns', res, env, zone, 'delete the TXT record');
    }
    this.#created.delete(key(record));
  }

  /** The longest enclosing name that is a zone this account holds: "_acme-challenge.a.example.com." → "example.com.". */
  async findZone(fqdn: string, signal: AbortSignal): Promise<string> {
    const labels = unFqdn(fqdn).toLowerCase().split('.');
    // A zone has at least two labels; top-level domains are not Cloudflare zones.
    for (let i = 0; i <= labels.length - 2; i++) {
      const candidate = labels.slice(i).join('.');
      if (await this.#lookupZone(candidate, 'findZone', signal)) return toFqdn(candidate);
    }
    throw new DnsProviderError(
      CODE,
      'findZone',
      `no zone enclosing ${unFqdn(fqdn)} is visible to ${this.#credentialName('zone')}: check the zone is in ` +
        'the Cloudflare account and that the credential may read it (Zone → Zone → Read)',
    );
  }

  async #zoneId(zone: string, op: DnsOperation, signal: AbortSignal): Promise<string> {
    const id = await this.#lookupZone(zone, op, signal);
    if (id) return id;
    throw new DnsProviderError(
      CODE,
      op,
      `zone ${zone} not found: no zone of that name is visible to ${this.#credentialName('zone')}; check the ` +
        'zone is active in the Cloudflare account and that the credential may read it (Zone → Zone → Read)',
    );
  }

  async #lookupZone(zone: string, op: DnsOperation, signal: AbortSignal): Promise<string | undefined> {
    const cached = this.#zoneIds.get(zone);
    if (cached) return cached;
    const res = await this.#send(
      op,
      'zone',
      'GET',
      `/zones?name=${encodeURIComponent(zone)}&per_page=50`,
      signal,
    );
    const env = parse(res);
    if (!ok(res, env)) throw this.#error(op, 'zone', res, env, zone, `look zone ${zone} up`);
    const zones = Array.isArray(env?.result) ? (env.result as CfZone[]) : [];
    const id = zones.find((z) => typeof z.id === 'string' && z.name?.toLowerCase() === zone)?.id;
    if (id) this.#zoneIds.set(zone, id);
    return id;
  }

  async #txtRecords(
    zoneId: string,
    zone: string,
    name: string,
    op: DnsOperation,
    signal: AbortSignal,
  ): Promise<CfRecord[]> {
    const found: CfRecord[] = [];
    // Pages of 100; a name rarely has more than two challenge values, the cap only guards a broken server.
    for (let page = 1; page <= 50; page++) {
      const query = `type=TXT&name=${encodeURIComponent(name)}&per_page=100&page=${page}`;
      const res = await this.#send(op, 'dns', 'GET', `/zones/${zoneId}/dns_records?${query}`, signal);
      const env = parse(res);
      if (!ok(res, env)) {
        if (env?.errors?.some((e) => NO_SUCH_OBJECT.has(e.code))) this.#zoneIds.delete(zone);
        throw this.#error(op, 'dns', res, env, zone, `list the TXT records at ${name}`);
      }
      const batch = Array.isArray(env?.result) ? (env.result as CfRecord[]) : [];
      found.push(...batch.filter((r) => r.type === 'TXT' && r.name?.toLowerCase() === name));
      if (batch.length === 0 || page >= (env?.result_info?.total_pages ?? 1)) break;
    }
    return found;
  }

  #send(
    op: DnsOperation,
    purpose: Purpose,
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
      baseUrl: this.#config.baseUrl,
      path,
      headers: this.#authHeaders(purpose),
      body,
      signal,
      apiName: 'Cloudflare',
      urlVariable: 'CLOUDFLARE_BASE_URL',
      redact: (t) => this.#redact(t),
      logger: this.#logger,
    });
  }

  #authHeaders(purpose: Purpose): Record<string, string> {
    const a = this.#config.auth;
    if (a.kind === 'key') return { 'x-auth-email': a.email, 'x-auth-key': a.key.reveal() };
    const token = purpose === 'zone' && a.zoneToken ? a.zoneToken : a.dnsToken;
    return { authorization: `Bearer ${token.reveal()}` };
  }

  #credentialName(purpose: Purpose): string {
    const a = this.#config.auth;
    if (a.kind === 'key') return 'CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY';
    return purpose === 'zone' && a.zoneToken ? 'CLOUDFLARE_ZONE_API_TOKEN' : 'CLOUDFLARE_DNS_API_TOKEN';
  }

  #error(
    op: DnsOperation,
    purpose: Purpose,
    res: HttpResponse,
    env: CfEnvelope | undefined,
    zone: string,
    what: string,
  ): DnsProviderError {
    const status = res.status;
    const detail = this.#detail(res, env);
    const codes = env?.errors?.map((e) => e.code) ?? [];
    let message: string;
    if (status === 429 || codes.includes(971)) {
      message = `rate limited while trying to ${what} (${detail}); ${retryHint(res, this.#clock)}`;
    } else if (status === 401 || status === 403 || codes.some((c) => AUTH_CODES.has(c))) {
      message = `${this.#refusal(purpose, zone)} (${detail})`;
    } else if (codes.some((c) => NO_SUCH_OBJECT.has(c)) || status === 404) {
      message = `zone ${zone} not found while trying to ${what} (${detail}); it may have been removed from the account`;
    } else if (status >= 500) {
      message = `Cloudflare API error while trying to ${what} (${detail}); try again in a few minutes (https://www.cloudflarestatus.com)`;
    } else {
      message = `Cloudflare refused to ${what} (${detail})`;
    }
    return new DnsProviderError(CODE, op, message, { status });
  }

  #refusal(purpose: Purpose, zone: string): string {
    const a = this.#config.auth;
    if (a.kind === 'key') {
      return 'e-mail and Global API Key refused: check CLOUDFLARE_EMAIL is the account e-mail and CLOUDFLARE_API_KEY its Global API Key';
    }
    if (purpose === 'zone' && a.zoneToken) {
      return `token refused: check CLOUDFLARE_ZONE_API_TOKEN has Zone:Zone:Read for zone ${zone}`;
    }
    return purpose === 'zone'
      ? `token refused: check CLOUDFLARE_DNS_API_TOKEN is valid and has Zone:Zone:Read and Zone:DNS:Edit for zone ${zone}`
      : `token refused: check CLOUDFLARE_DNS_API_TOKEN has Zone:DNS:Edit for zone ${zone}`;
  }

  /** "HTTP 403, Cloudflare error 10000: Authentication error", with any echoed secret cut out. */
  #detail(res: HttpResponse, env: CfEnvelope | undefined): string {
    const errors = (env?.errors ?? [])
      .slice(0, 3)
      .map((e) => `Cloudflare error ${e.code}: ${String(e.message).slice(0, 200)}`);
    return this.#redact([`HTTP ${res.status}`, ...errors].join(', '));
  }

  /** Cuts secrets out of server text (a server may echo them); very short ones would mangle ordinary words. */
  #redact(text: string): string {
    return redactSecrets(text, this.#secrets);
  }
}

function parse(res: HttpResponse): CfEnvelope | undefined {
  return parseJsonObject(res.body) as CfEnvelope | undefined;
}

function ok(res: HttpResponse, env: CfEnvelope | undefined): boolean {
  return res.status >= 200 && res.status < 300 && env?.success === true;
}

/** When to try again: Retry-After when sent, else Cloudflare's documented five-minute block. */
function retryHint(res: HttpResponse, clock: Clock): string {
  const ms = retryAfterOf(res.headers, clock.now());
  if (ms === undefined) {
    return 'Cloudflare blocks a user for five minutes after 1200 API requests in five minutes; retry in 5 minutes';
  }
  const at = new Date(clock.now() + ms).toISOString();
  return `retry after ${Math.ceil(ms / 1000)} s (at ${at}), as Cloudflare's Retry-After says`;
}

function unquote(content: string): string {
  return content.length >= 2 && content.startsWith('"') && content.endsWith('"')
    ? content.slice(1, -1)
    : content;
}

function key(record: TxtRecord): string {
  return `${unFqdn(record.fqdn).toLowerCase()} ${record.value}`;
}
