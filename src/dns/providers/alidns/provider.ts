import { InvalidInputError } from '../../../errors/base.ts';
import { DnsProviderError } from '../../../errors/dns.ts';
import { throwIfAborted } from '../../../internal/abort.ts';
import type { Secret } from '../../../internal/secret.ts';
import type { DnsProviderDefinition, ProviderDeps } from '../../definition.ts';
import type { ProviderEnv } from '../../env.ts';
import {
  type DnsProvider,
  relativeName,
  type TxtRecord,
  toFqdn,
  unFqdn,
  type ZoneFinder,
} from '../../provider.ts';
import { AlidnsApiError, AlidnsClient } from './client.ts';
import { type CredentialSource, EcsRamRoleCredentials, StaticCredentials } from './credentials.ts';
import { isRecordGone, isZoneMissing, toDnsProviderError } from './errors.ts';

export const DEFAULT_API_URL = 'https://alidns.aliyuncs.com';
export const DEFAULT_METADATA_URL = 'http://100.100.100.200';

export type AlidnsCredentialConfig =
  | {
      readonly kind: 'accessKey';
      readonly accessKeyId: string;
      readonly accessKeySecret: Secret;
      readonly securityToken?: Secret | undefined;
    }
  | { readonly kind: 'ramRole'; readonly role: string; readonly metadataUrl: string };

export interface AlidnsConfig {
  readonly credentials: AlidnsCredentialConfig;
  readonly endpoint: URL;
  /** Kept for lego compatibility; Alidns has one public endpoint, so it does not change where requests go. */
  readonly regionId: string;
  /** Resolution line of the record ("default" answers every resolver). */
  readonly line: string;
}

const PERMISSIONS = [
  'alidns:AddDomainRecord',
  'alidns:DeleteDomainRecord',
  'alidns:DescribeDomainRecords',
  'alidns:DescribeDomains',
];

/** Largest pages the API allows: DescribeDomainRecords 500, DescribeDomains 100. */
const RECORD_PAGE_SIZE = 500;
const DOMAIN_PAGE_SIZE = 100;
const DOMAIN_LIST_TTL_MS = 60_000;
/** Stops a misbehaving endpoint from paging forever. */
const MAX_PAGES = 200;

export const definition = {
  code: 'alidns',
  title: 'Alibaba Cloud DNS',
  description:
    'Alibaba Cloud DNS (Alidns, Aliyun DNS) through its OpenAPI with ACS3-HMAC-SHA256 signatures. ' +
    'Credentials: an AccessKey pair of a RAM user (optionally STS with a security token), or the RAM role of ' +
    'the ECS instance acmekit runs on.',
  docsUrl: 'https://www.alibabacloud.com/help/en/dns/',
  permissions:
    `RAM actions ${PERMISSIONS.join(', ')} (DescribeDomains finds which Alidns domain holds a name); ` +
    'the system policy AliyunDNSFullAccess includes them.',
  example: [
    '# AccessKey pair of a RAM user, as for lego:',
    'ALICLOUD_ACCESS_KEY=abcdefghijklmnopqrstuvwx \\',
    'ALICLOUD_SECRET_KEY=your-secret-key \\',
    "acmekit run -a -m m@laeni.cn -d laeni.cn -d '*.laeni.cn' --dns alidns",
    '# On an ECS instance with a RAM role attached, no AccessKey needed:',
    "ALICLOUD_RAM_ROLE=acmekit acmekit run -a -m m@laeni.cn -d laeni.cn -d '*.laeni.cn' --dns alidns",
  ].join('\n'),
  envPrefix: 'ALICLOUD',
  env: [
    {
      name: 'ALICLOUD_ACCESS_KEY',
      description: 'AccessKey ID of a RAM user allowed to edit DNS records (or of STS credentials)',
    },
    {
      name: 'ALICLOUD_SECRET_KEY',
      description: 'AccessKey secret that goes with ALICLOUD_ACCESS_KEY',
      secret: true,
    },
    {
      name: 'ALICLOUD_SECURITY_TOKEN',
      description:
        'STS security token, when ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY are temporary STS credentials',
      secret: true,
    },
    {
      name: 'ALICLOUD_RAM_ROLE',
      description:
        'RAM role attached to this ECS instance: credentials come from the instance metadata service instead ' +
        'of an AccessKey (takes precedence, as in lego)',
    },
    {
      name: 'ALICLOUD_REGION_ID',
      description: 'region ID, accepted for lego compatibility (Alidns has one public endpoint)',
      default: 'cn-hangzhou',
    },
    { name: 'ALICLOUD_LINE', description: 'resolution line of the TXT record', default: 'default' },
    {
      name: 'ALICLOUD_API_URL',
      description: 'Alidns API endpoint, for a private endpoint or tests',
      default: DEFAULT_API_URL,
    },
    {
      name: 'ALICLOUD_METADATA_URL',
      description: 'ECS instance metadata service used with ALICLOUD_RAM_ROLE, for tests',
      default: DEFAULT_METADATA_URL,
    },
  ],
  // lego's alidns defaults; the free Alidns edition refuses TTLs below 600.
  defaults: { ttl: 600, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 10_000 },
  configure: configureAlidns,
  create: (config: AlidnsConfig, deps: ProviderDeps) => new AlidnsProvider(config, deps),
} satisfies DnsProviderDefinition<AlidnsConfig>;

function configureAlidns(env: ProviderEnv): AlidnsConfig {
  const role = env.string('ALICLOUD_RAM_ROLE');
  const accessKeyId = env.string('ALICLOUD_ACCESS_KEY');
  const accessKeySecret = env.secret('ALICLOUD_SECRET_KEY');
  const securityToken = env.secret('ALICLOUD_SECURITY_TOKEN');

  let credentials: AlidnsCredentialConfig;
  if (role !== undefined) {
    // It becomes a URL path segment of the metadata service.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(role)) {
      throw new InvalidInputError(
        `alidns: ALICLOUD_RAM_ROLE must be a RAM role name (letters, digits, . _ -), got ${JSON.stringify(role)}`,
        role,
      );
    }
    const metadataUrl = httpUrl(env, 'ALICLOUD_METADATA_URL', DEFAULT_METADATA_URL, false).href;
    credentials = { kind: 'ramRole', role, metadataUrl };
  } else if (accessKeyId === undefined && accessKeySecret === undefined) {
    throw new InvalidInputError(
      'alidns: no credentials: set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (an AccessKey pair of a RAM user ' +
        'allowed to edit DNS records), or ALICLOUD_RAM_ROLE on an ECS instance with that role attached; ' +
        '`acmekit dns help alidns` lists every variable',
      'ALICLOUD_ACCESS_KEY',
    );
  } else {
    credentials = {
      kind: 'accessKey',
      accessKeyId: env.required('ALICLOUD_ACCESS_KEY'),
      accessKeySecret: accessKeySecret ?? env.requiredSecret('ALICLOUD_SECRET_KEY'),
      securityToken,
    };
  }

  const regionId = env.string('ALICLOUD_REGION_ID') ?? 'cn-hangzhou';
  if (!/^[a-z0-9-]+$/.test(regionId)) {
    throw new InvalidInputError(
      `alidns: ALICLOUD_REGION_ID must look like cn-hangzhou, got ${JSON.stringify(regionId)}`,
      regionId,
    );
  }
  return {
    credentials,
    endpoint: httpUrl(env, 'ALICLOUD_API_URL', DEFAULT_API_URL, true),
    regionId,
    line: env.string('ALICLOUD_LINE') ?? 'default',
  };
}

/** Parses an endpoint variable; plain http only on loopback when `httpsOnly` (the STS token travels in a header). */
function httpUrl(env: ProviderEnv, name: string, fallback: string, httpsOnly: boolean): URL {
  const raw = env.string(name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(
      `alidns: ${name} must be a URL such as ${fallback}, got ${JSON.stringify(raw)}`,
      raw,
    );
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && (!httpsOnly || loopback));
  if (!ok || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidInputError(
      `alidns: ${name} must be an ${httpsOnly ? 'https' : 'http(s)'} URL without query or credentials, got ${JSON.stringify(raw)}`,
      raw,
    );
  }
  return url;
}

interface Domain {
  /** ASCII (punycode) name, lower case, no trailing dot: what DomainName takes. */
  readonly name: string;
}

export class AlidnsProvider implements DnsProvider, ZoneFinder {
  readonly #client: AlidnsClient;
  readonly #credentials: CredentialSource;
  readonly #line: string;
  readonly #endpoint: string;
  /** Zone named by the core → Alidns domain the API found instead, when they differ. */
  readonly #zoneOverride = new Map<string, string>();
  readonly #clock: ProviderDeps['clock'];
  /** The account's domains, kept briefly: findZone runs once per name of an order (apex and wildcard). */
  #domains: { list: Domain[]; until: number } | undefined;

  constructor(config: AlidnsConfig, deps: ProviderDeps) {
    const c = config.credentials;
    this.#credentials =
      c.kind === 'ramRole'
        ? new EcsRamRoleCredentials({
            role: c.role,
            metadataUrl: c.metadataUrl,
            http: deps.http,
            clock: deps.clock,
            logger: deps.logger,
          })
        : new StaticCredentials({
            accessKeyId: c.accessKeyId,
            accessKeySecret: c.accessKeySecret,
            securityToken: c.securityToken,
          });
    this.#client = new AlidnsClient({
      endpoint: config.endpoint,
      credentials: this.#credentials,
      http: deps.http,
      clock: deps.clock,
      logger: deps.logger,
    });
    this.#line = config.line;
    this.#endpoint = config.endpoint.origin;
    this.#clock = deps.clock;
  }

  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    await this.#inZone(record, 'present', signal, async (domain, rr) => {
      try {
        await this.#client.call(
          'AddDomainRecord',
          {
            DomainName: domain,
            RR: rr,
            Type: 'TXT',
            Value: record.value,
            TTL: String(record.ttl),
            Line: this.#line,
          },
          signal,
        );
      } catch (err) {
        // The same RR, type and value already exist: present is idempotent.
        if (err instanceof AlidnsApiError && err.code === 'DomainRecordDuplicate') return;
        throw err;
      }
    });
  }

  async cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    await this.#inZone(record, 'cleanup', signal, async (domain, rr) => {
      // Looked up again every time, so cleanup works after a restart and removes only this value.
      for (const id of await this.#recordIds(domain, rr, record.value, signal)) {
        try {
          await this.#client.call('DeleteDomainRecord', { RecordId: id }, signal);
        } catch (err) {
          if (!isRecordGone(err)) throw err;
        }
      }
    });
  }

  /** The Alidns domain of this account that holds `fqdn` (the longest match), absolute. */
  async findZone(fqdn: string, signal: AbortSignal): Promise<string> {
    throwIfAborted(signal);
    try {
      const domains = await this.#listDomains(signal);
      const zone = longestMatch(fqdn, domains);
      if (zone === undefined) {
        const some = domains.slice(0, 10).map((d) => d.name);
        throw new DnsProviderError(
          'alidns',
          'findZone',
          `no Alidns domain of this account holds ${unFqdn(fqdn)} (the account has ${some.length ? some.join(', ') : 'none'}` +
            `${domains.length > 10 ? ', ...' : ''}): add the domain to Alibaba Cloud DNS, or check ${this.#credentials.hint}`,
        );
      }
      return toFqdn(zone);
    } catch (err) {
      throw toDnsProviderError(err, {
        operation: 'findZone',
        credentialHint: this.#credentials.hint,
        endpoint: this.#endpoint,
      });
    }
  }

  /**
   * Runs `fn` with the Alidns domain and the RR for the record: the core's zone first; when the API does
   * not know it as a domain, the account's domain list decides (a name under a sub-zone the SOA walk
   * took for the zone, or a zone the account holds under its parent).
   */
  async #inZone(
    record: TxtRecord,
    operation: 'present' | 'cleanup',
    signal: AbortSignal,
    fn: (domain: string, rr: string) => Promise<void>,
  ): Promise<void> {
    const given = unFqdn(record.zone).toLowerCase();
    let domain = this.#zoneOverride.get(given) ?? given;
    const ctx = () => ({
      operation,
      credentialHint: this.#credentials.hint,
      zone: domain,
      endpoint: this.#endpoint,
    });
    try {
      try {
        await fn(domain, rrOf(record, domain));
      } catch (err) {
        if (!isZoneMissing(err)) throw err;
        const found = await this.#lookUpDomain(record.fqdn, signal);
        if (found === undefined || found === domain) throw err;
        this.#zoneOverride.set(given, found);
        domain = found;
        await fn(domain, rrOf(record, domain));
      }
    } catch (err) {
      throw toDnsProviderError(err, ctx());
    }
  }

  /** The account's domain for `fqdn`, or undefined when none (or when listing is not allowed). */
  async #lookUpDomain(fqdn: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      return longestMatch(fqdn, await this.#listDomains(signal));
    } catch (err) {
      // Without alidns:DescribeDomains the original "zone not in this account" error is the useful one.
      if (err instanceof AlidnsApiError) return undefined;
      throw err;
    }
  }

  async #listDomains(signal: AbortSignal): Promise<Domain[]> {
    const now = this.#clock.now();
    if (this.#domains && now < this.#domains.until) return this.#domains.list;
    const out: Domain[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const doc = await this.#client.call(
        'DescribeDomains',
        { PageNumber: String(page), PageSize: String(DOMAIN_PAGE_SIZE) },
        signal,
      );
      const items = arrayAt(doc, 'Domains', 'Domain');
      for (const item of items) {
        const name = str(item.PunyCode) || str(item.DomainName);
        if (name) out.push({ name: unFqdn(name).toLowerCase() });
      }
      if (isLastPage(doc, page, items.length, DOMAIN_PAGE_SIZE)) break;
    }
    this.#domains = { list: out, until: now + DOMAIN_LIST_TTL_MS };
    return out;
  }

  /** RecordIds of TXT records at exactly `rr` with exactly `value`, over every page. */
  async #recordIds(domain: string, rr: string, value: string, signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const doc = await this.#client.call(
        'DescribeDomainRecords',
        {
          DomainName: domain,
          // RRKeyWord matches substrings; the exact comparison happens below.
          RRKeyWord: rr,
          TypeKeyWord: 'TXT',
          PageNumber: String(page),
          PageSize: String(RECORD_PAGE_SIZE),
        },
        signal,
      );
      const items = arrayAt(doc, 'DomainRecords', 'Record');
      for (const r of items) {
        const id = str(r.RecordId);
        if (
          id &&
          str(r.RR).toLowerCase() === rr.toLowerCase() &&
          str(r.Type).toUpperCase() === 'TXT' &&
          unquote(str(r.Value)) === value
        ) {
          ids.push(id);
        }
      }
      if (isLastPage(doc, page, items.length, RECORD_PAGE_SIZE)) break;
    }
    return ids;
  }
}

function rrOf(record: TxtRecord, domain: string): string {
  return relativeName(record.fqdn, toFqdn(domain));
}

function longestMatch(fqdn: string, domains: readonly Domain[]): string | undefined {
  const name = unFqdn(fqdn).toLowerCase();
  let best: string | undefined;
  for (const { name: d } of domains) {
    if ((name === d || name.endsWith(`.${d}`)) && (best === undefined || d.length > best.length)) best = d;
  }
  return best;
}

/** Uses the page size the server answered with, which may be smaller than the one asked for. */
function isLastPage(doc: Record<string, unknown>, page: number, got: number, asked: number): boolean {
  const total = Number(doc.TotalCount);
  const size = Number(doc.PageSize) || asked;
  if (got === 0) return true;
  if (Number.isFinite(total)) return page * size >= total;
  return got < size;
}

function arrayAt(doc: Record<string, unknown>, outer: string, inner: string): Record<string, unknown>[] {
  const wrap = doc[outer];
  const list =
    wrap !== null && typeof wrap === 'object' ? (wrap as Record<string, unknown>)[inner] : undefined;
  return Array.isArray(list)
    ? list.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object')
    : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
