import { InvalidInputError } from '../errors/base.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type Logger, silentLogger } from '../internal/logger.ts';
import { HttpTransport } from '../protocol/transport.ts';
import {
  type CommonDnsSettings,
  type DnsProviderDefinition,
  type ProviderHttp,
  readCommonSettings,
  standardEnv,
} from './definition.ts';
import { type EnvSource, ProviderEnv } from './env.ts';
import type { DnsProvider } from './provider.ts';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own config type
type AnyDefinition = DnsProviderDefinition<any>;
type Loader = () => Promise<{ definition: AnyDefinition }>;

// Loaded on use, so `acmekit run --dns cloudflare` reads one provider's code and no other.
const builtins: Record<string, Loader> = {
  acmedns: () => import('./providers/acmedns.ts'),
  alidns: () => import('./providers/alidns/provider.ts'),
  azuredns: () => import('./providers/azuredns/provider.ts'),
  bunny: () => import('./providers/bunny.ts'),
  civo: () => import('./providers/civo.ts'),
  cloudflare: () => import('./providers/cloudflare.ts'),
  cloudns: () => import('./providers/cloudns.ts'),
  cpanel: () => import('./providers/cpanel.ts'),
  desec: () => import('./providers/desec.ts'),
  designate: () => import('./providers/designate.ts'),
  digitalocean: () => import('./providers/digitalocean.ts'),
  directadmin: () => import('./providers/directadmin.ts'),
  dnsimple: () => import('./providers/dnsimple.ts'),
  dnsmadeeasy: () => import('./providers/dnsmadeeasy.ts'),
  duckdns: () => import('./providers/duckdns.ts'),
  dynu: () => import('./providers/dynu.ts'),
  easydns: () => import('./providers/easydns.ts'),
  edgedns: () => import('./providers/edgedns/provider.ts'),
  exec: () => import('./providers/exec.ts'),
  exoscale: () => import('./providers/exoscale.ts'),
  gandiv5: () => import('./providers/gandiv5.ts'),
  gcloud: () => import('./providers/gcloud/provider.ts'),
  gcore: () => import('./providers/gcore.ts'),
  godaddy: () => import('./providers/godaddy.ts'),
  hetzner: () => import('./providers/hetzner.ts'),
  hostingde: () => import('./providers/hostingde.ts'),
  httpreq: () => import('./providers/httpreq.ts'),
  huaweicloud: () => import('./providers/huaweicloud/provider.ts'),
  hurricane: () => import('./providers/hurricane.ts'),
  infoblox: () => import('./providers/infoblox.ts'),
  infomaniak: () => import('./providers/infomaniak.ts'),
  inwx: () => import('./providers/inwx.ts'),
  ionos: () => import('./providers/ionos.ts'),
  joker: () => import('./providers/joker.ts'),
  lightsail: () => import('./providers/lightsail.ts'),
  linode: () => import('./providers/linode.ts'),
  loopia: () => import('./providers/loopia.ts'),
  luadns: () => import('./providers/luadns.ts'),
  manual: () => import('./providers/manual.ts'),
  mythicbeasts: () => import('./providers/mythicbeasts.ts'),
  namecheap: () => import('./providers/namecheap/provider.ts'),
  namedotcom: () => import('./providers/namedotcom.ts'),
  namesilo: () => import('./providers/namesilo.ts'),
  nearlyfreespeech: () => import('./providers/nearlyfreespeech.ts'),
  netcup: () => import('./providers/netcup.ts'),
  netlify: () => import('./providers/netlify.ts'),
  njalla: () => import('./providers/njalla.ts'),
  ns1: () => import('./providers/ns1.ts'),
  oraclecloud: () => import('./providers/oraclecloud/provider.ts'),
  ovh: () => import('./providers/ovh/provider.ts'),
  pdns: () => import('./providers/pdns.ts'),
  plesk: () => import('./providers/plesk.ts'),
  porkbun: () => import('./providers/porkbun.ts'),
  rackspace: () => import('./providers/rackspace.ts'),
  regru: () => import('./providers/regru.ts'),
  rfc2136: () => import('./providers/rfc2136.ts'),
  route53: () => import('./providers/route53/provider.ts'),
  scaleway: () => import('./providers/scaleway.ts'),
  selectel: () => import('./providers/selectel.ts'),
  technitium: () => import('./providers/technitium.ts'),
  tencentcloud: () => import('./providers/tencentcloud/provider.ts'),
  transip: () => import('./providers/transip.ts'),
  vercel: () => import('./providers/vercel.ts'),
  vultr: () => import('./providers/vultr.ts'),
  yandexcloud: () => import('./providers/yandexcloud/provider.ts'),
};
const builtinAliases: Record<string, string> = {
  'acme-dns': 'acmedns',
  dnsupdate: 'rfc2136',
  fastdns: 'edgedns',
  hetznerv1: 'hetzner',
  linodev4: 'linode',
};

const registered = new Map<string, AnyDefinition>();

/** Makes a provider written outside acmekit available by its code (and aliases), e.g. to `--dns` in a wrapper. */
export function registerDnsProvider(definition: AnyDefinition): void {
  for (const code of [definition.code, ...(definition.aliases ?? [])]) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(code)) {
      throw new InvalidInputError(
        `DNS provider code ${JSON.stringify(code)}: use lower-case letters, digits, . _ -`,
        code,
      );
    }
    registered.set(code, definition);
  }
}

/** Every provider code that `--dns` accepts, sorted (aliases not included). */
export function dnsProviderCodes(): string[] {
  const codes = new Set([...Object.keys(builtins), ...[...registered.values()].map((d) => d.code)]);
  return [...codes].sort();
}

export async function loadDnsProviderDefinition(code: string): Promise<AnyDefinition> {
  const key = code.trim().toLowerCase();
  const own = registered.get(key);
  if (own) return own;
  const loader = builtins[builtinAliases[key] ?? key];
  if (!loader) {
    throw new InvalidInputError(
      `unknown DNS provider ${JSON.stringify(code)}; known providers: ${dnsProviderCodes().join(', ')} ` +
        '(`acmekit dns list`)',
      code,
    );
  }
  return (await loader()).definition;
}

export interface CreateDnsProviderOptions {
  /** Where the provider's variables are read from. Default: process.env. */
  env?: EnvSource;
  /** HTTP client for API providers. Default: acmekit's transport with `caBundle` and `<PREFIX>_HTTP_TIMEOUT`. */
  http?: ProviderHttp;
  /** Trusted roots for the provider's API (a private endpoint); replaces the default roots. */
  caBundle?: string | Buffer | readonly (string | Buffer)[];
  logger?: Logger;
  clock?: Clock;
}

export interface LoadedDnsProvider {
  readonly code: string;
  readonly definition: AnyDefinition;
  readonly provider: DnsProvider;
  readonly settings: CommonDnsSettings;
}

/** Loads a provider by code and configures it from its environment variables (lego's names). */
export async function createDnsProvider(
  code: string,
  opts: CreateDnsProviderOptions = {},
): Promise<LoadedDnsProvider> {
  const definition = await loadDnsProviderDefinition(code);
  const env = new ProviderEnv(
    definition.code,
    [...definition.env, ...standardEnv(definition)],
    opts.env ?? process.env,
  );
  const settings = readCommonSettings(definition, env);
  const config = definition.configure(env);
  const http =
    opts.http ??
    new HttpTransport(
      {
        timeoutMs: settings.httpTimeoutMs,
        ...(opts.caBundle !== undefined ? { caBundle: opts.caBundle } : {}),
      },
      opts.logger ? { logger: opts.logger } : {},
    );
  const provider = definition.create(config, {
    http,
    logger: opts.logger ?? silentLogger,
    clock: opts.clock ?? systemClock,
    settings,
  });
  return { code: definition.code, definition, provider, settings };
}
