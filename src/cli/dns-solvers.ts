import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors/usage.ts';
import type { Logger } from '../internal/logger.ts';
import type { Solver } from '../solvers/solver.ts';
import type { DnsReplay } from '../storage/lego/certificate-record.ts';
import type { Options } from './options.ts';

/**
 * `--dns cloudflare` (one provider for every name) or `--dns example.com=cloudflare --dns
 * example.org=route53` (names at or under each domain go to that provider; a plain entry serves the rest).
 */
export function dnsReplayFrom(o: Options): DnsReplay | undefined {
  const entries = o.list('dns');
  if (entries.length === 0) return undefined;
  const providers: DnsReplay['providers'] = [];
  let fallback: string | undefined;
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq < 0) {
      if (fallback && fallback !== entry) {
        throw new UsageError(
          `--dns ${fallback} and --dns ${entry}: give one provider, or DOMAIN=PROVIDER pairs to split names between providers`,
        );
      }
      fallback = entry;
      continue;
    }
    const domain = entry.slice(0, eq).trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
    const provider = entry.slice(eq + 1).trim();
    if (!domain || !provider)
      throw new UsageError(`--dns ${entry}: expected DOMAIN=PROVIDER, e.g. example.com=cloudflare`);
    const same = providers.find((p) => p.provider === provider);
    if (same) same.domains = [...(same.domains ?? []), domain];
    else providers.push({ provider, domains: [domain] });
  }
  if (fallback) providers.push({ provider: fallback });
  const wait = o.num('dnsPropagationWait');
  const timeout = o.num('dnsTimeout');
  if (timeout !== undefined && !(timeout > 0))
    throw new UsageError(`--dns.timeout ${timeout}: give seconds > 0`);
  const resolvers = o.list('dnsResolvers');
  const zone = o.str('dnsZone')?.toLowerCase().replace(/\.$/, '');
  if (
    zone !== undefined &&
    !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(zone)
  )
    throw new UsageError(`--dns.zone ${zone}: expected a domain name such as example.com`);
  return {
    providers,
    ...(resolvers.length > 0 ? { resolvers } : {}),
    ...(zone ? { zone } : {}),
    ...(wait !== undefined ? { propagationWaitMs: Math.round(wait * 1000) } : {}),
    ...(o.bool('dnsPropagationDisable') ? { propagationDisabled: true } : {}),
    // lego v5 --dns.propagation.disable-rns: only the authoritative check, also when resolvers are named.
    ...(resolvers.length > 0 && o.bool('dnsPropagationDisableRns') ? { propagationAuthoritative: true } : {}),
    ...(timeout !== undefined ? { queryTimeoutMs: timeout * 1000 } : {}),
  };
}

/**
 * One dns-01 solver per domain entry, the most specific domain first, so a name goes to the provider
 * of the longest domain that covers it (a plain `--dns P` entry comes last). Entries of one provider
 * share one provider instance.
 */
export async function dnsSolversFrom(replay: DnsReplay, logger: Logger): Promise<Solver[]> {
  const [{ createDnsProvider }, { Dns01Solver }] = await Promise.all([
    import('../dns/registry.ts'),
    import('../solvers/dns01.ts'),
  ]);
  const bundlePath = process.env.ACMEKIT_DNS_CA_BUNDLE;
  const caBundle = bundlePath ? await readBundle(bundlePath) : undefined;
  const loaded = new Map<string, Awaited<ReturnType<typeof createDnsProvider>>>();
  for (const { provider } of replay.providers) {
    if (!loaded.has(provider)) {
      loaded.set(provider, await createDnsProvider(provider, { logger, ...(caBundle ? { caBundle } : {}) }));
    }
  }
  const solvers: Solver[] = [];
  for (const { provider, domain } of solverOrder(replay.providers)) {
    solvers.push(
      new Dns01Solver({
        provider: loaded.get(provider) as NonNullable<ReturnType<typeof loaded.get>>,
        ...(domain !== undefined ? { domains: [domain] } : {}),
        ...(replay.resolvers ? { resolvers: replay.resolvers } : {}),
        ...(replay.zone ? { zone: replay.zone } : {}),
        propagation: {
          ...(replay.propagationWaitMs !== undefined ? { waitMs: replay.propagationWaitMs } : {}),
          ...(replay.propagationDisabled ? { disabled: true } : {}),
          ...(replay.propagationAuthoritative ? { authoritative: true } : {}),
        },
        ...(replay.queryTimeoutMs !== undefined ? { queryTimeoutMs: replay.queryTimeoutMs } : {}),
        logger,
      }),
    );
  }
  return solvers;
}

/** (provider, domain) pairs with the most labels first; an entry without domains (the default) last. */
export function solverOrder(
  providers: DnsReplay['providers'],
): { provider: string; domain: string | undefined }[] {
  const pairs = providers.flatMap(
    ({ provider, domains }): { provider: string; domain: string | undefined }[] =>
      domains ? domains.map((domain) => ({ provider, domain })) : [{ provider, domain: undefined }],
  );
  const labels = (d: string | undefined): number => (d === undefined ? 0 : d.split('.').length);
  return pairs.sort((a, b) => labels(b.domain) - labels(a.domain));
}

async function readBundle(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`ACMEKIT_DNS_CA_BUNDLE ${path} cannot be read: ${err.code ?? err.message}`);
  });
}
