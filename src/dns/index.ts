// acmekit/dns: DNS providers for dns-01, their registry, and the pieces to write your own.

export type { CommonDnsSettings, DnsProviderDefinition, ProviderDeps, ProviderHttp } from './definition.ts';
export { type EnvSource, type EnvVarSpec, ProviderEnv } from './env.ts';
export { type DnsProvider, isZoneFinder, relativeName, type TxtRecord, type ZoneFinder } from './provider.ts';
export {
  type CreateDnsProviderOptions,
  createDnsProvider,
  dnsProviderCodes,
  type LoadedDnsProvider,
  loadDnsProviderDefinition,
  registerDnsProvider,
} from './registry.ts';
