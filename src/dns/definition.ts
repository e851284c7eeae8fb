import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';
import type { HttpResponse, RequestOptions } from '../protocol/transport.ts';
import type { EnvVarSpec, ProviderEnv } from './env.ts';
import type { DnsProvider } from './provider.ts';

/** The HTTP client a provider gets: verified TLS, a deadline per request, proxies honoured. */
export interface ProviderHttp {
  request(method: string, url: string, opts?: RequestOptions): Promise<HttpResponse>;
}

/** Settings every provider has, read from `<PREFIX>_TTL`, `_PROPAGATION_TIMEOUT`, `_POLLING_INTERVAL`, `_HTTP_TIMEOUT`. */
export interface CommonDnsSettings {
  /** TXT record TTL in seconds. */
  readonly ttl: number;
  /** How long the dns-01 solver waits for the record to be visible on every nameserver. */
  readonly propagationTimeoutMs: number;
  /** How often it checks meanwhile. */
  readonly pollingIntervalMs: number;
  /** Deadline of one API request. */
  readonly httpTimeoutMs: number;
}

export interface ProviderDeps {
  readonly http: ProviderHttp;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly settings: CommonDnsSettings;
}

/** How a provider is declared: metadata for `acmekit dns help`, its variables, and a factory. */
export interface DnsProviderDefinition<C = unknown> {
  /** `--dns <code>`; lower-case and stable. */
  readonly code: string;
  readonly aliases?: readonly string[];
  readonly title: string;
  /** One or two sentences for `acmekit dns help`. */
  readonly description: string;
  readonly docsUrl?: string;
  /** What the credentials must be allowed to do (API token scopes, IAM actions). */
  readonly permissions?: string;
  /** A shell example: variables, then the acmekit command. */
  readonly example?: string;
  /** Prefix of the standard variables `<PREFIX>_TTL`, `_PROPAGATION_TIMEOUT`, `_POLLING_INTERVAL`, `_HTTP_TIMEOUT`. */
  readonly envPrefix: string;
  /**
   * Further prefixes whose standard variables are read when `<envPrefix>_…` is unset, in order (lego reads
   * SCALEWAY_TTL, then SCW_TTL).
   */
  readonly envPrefixFallbacks?: readonly string[];
  /** The provider's own variables (the standard ones are added from `envPrefix`). */
  readonly env: readonly EnvVarSpec[];
  /** Defaults for the standard settings where the provider's API needs others than the global ones. */
  readonly defaults?: Partial<CommonDnsSettings>;
  /** Reads and checks the configuration; throws InvalidInputError naming a missing or bad variable. */
  configure(env: ProviderEnv): C;
  create(config: C, deps: ProviderDeps): DnsProvider;
}

export const globalDnsDefaults: CommonDnsSettings = {
  ttl: 120,
  propagationTimeoutMs: 120_000,
  pollingIntervalMs: 2_000,
  httpTimeoutMs: 30_000,
};

/** The variables every provider reads besides its own, generated from its prefix. */
export function standardEnv(
  def: Pick<DnsProviderDefinition, 'envPrefix' | 'envPrefixFallbacks' | 'defaults'>,
): EnvVarSpec[] {
  const d = { ...globalDnsDefaults, ...def.defaults };
  const p = def.envPrefix;
  const others = def.envPrefixFallbacks ?? [];
  const specs: EnvVarSpec[] = [
    { name: `${p}_TTL`, description: 'TTL of the TXT record, seconds', default: String(d.ttl) },
    {
      name: `${p}_PROPAGATION_TIMEOUT`,
      description: 'how long to wait for the record on every nameserver, seconds',
      default: String(d.propagationTimeoutMs / 1000),
    },
    {
      name: `${p}_POLLING_INTERVAL`,
      description: 'time between propagation checks, seconds',
      default: String(d.pollingIntervalMs / 1000),
    },
    {
      name: `${p}_HTTP_TIMEOUT`,
      description: 'deadline of one API request, seconds',
      default: String(d.httpTimeoutMs / 1000),
    },
  ];
  if (others.length === 0) return specs;
  return specs.map((s) => ({ ...s, fallbacks: others.map((o) => `${o}${s.name.slice(p.length)}`) }));
}

export function readCommonSettings(
  def: Pick<DnsProviderDefinition, 'envPrefix' | 'defaults'>,
  env: ProviderEnv,
): CommonDnsSettings {
  const d = { ...globalDnsDefaults, ...def.defaults };
  const p = def.envPrefix;
  return {
    ttl: env.int(`${p}_TTL`, d.ttl, 1),
    propagationTimeoutMs: env.durationMs(`${p}_PROPAGATION_TIMEOUT`, d.propagationTimeoutMs),
    pollingIntervalMs: env.durationMs(`${p}_POLLING_INTERVAL`, d.pollingIntervalMs),
    httpTimeoutMs: env.durationMs(`${p}_HTTP_TIMEOUT`, d.httpTimeoutMs),
  };
}
