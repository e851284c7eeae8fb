import { DnsPropagationError, type NameserverAnswer } from '../errors/dns.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type Logger, silentLogger } from '../internal/logger.ts';
import { toFqdn } from './provider.ts';
import { type DnsServer, queryDns } from './wire/client.ts';
import { hostPort, type LookupOptions, resolve } from './zone.ts';

/** A nameserver to ask, by name (for messages) and address. */
export interface NamedServer extends DnsServer {
  readonly name: string;
}

export interface PropagationCheckOptions {
  /** Resolvers used to find the zone's nameservers and their addresses. */
  readonly resolvers: readonly DnsServer[];
  /**
   * Check through these (recursive) resolvers instead of the zone's authoritative nameservers,
   * e.g. when the authoritative servers are not reachable from here (split horizon).
   */
  readonly checkThrough?: readonly DnsServer[];
  /** Port of the authoritative nameservers; 53 everywhere except in tests. */
  readonly nameserverPort?: number;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Deadline of one query. Default 3 s. */
  readonly queryTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly signal: AbortSignal;
}

/** The authoritative nameservers of a zone with their addresses (glue if given, else looked up). */
export async function authoritativeServers(
  zone: string,
  opts: LookupOptions & { port?: number },
): Promise<NamedServer[]> {
  const res = await resolve(toFqdn(zone), 'NS', opts);
  const names = res.answers.filter((rr) => rr.typeName === 'NS').map((rr) => String(rr.data).toLowerCase());
  if (names.length === 0) {
    throw new DnsPropagationError(zone, '', [], `zone ${zone} has no NS records at the resolvers asked`);
  }
  const port = opts.port ?? 53;
  const servers: NamedServer[] = [];
  for (const name of names) {
    const glue = res.additional.filter(
      (rr) => rr.name === name && (rr.typeName === 'A' || rr.typeName === 'AAAA'),
    );
    let addresses = glue.map((rr) => String(rr.data));
    if (addresses.length === 0) {
      const [a, aaaa] = await Promise.allSettled([resolve(name, 'A', opts), resolve(name, 'AAAA', opts)]);
      for (const r of [a, aaaa]) {
        if (r.status !== 'fulfilled') continue;
        addresses.push(
          ...r.value.answers
            .filter((rr) => rr.typeName === 'A' || rr.typeName === 'AAAA')
            .map((rr) => String(rr.data)),
        );
      }
    }
    addresses = [...new Set(addresses)];
    for (const host of addresses) servers.push({ name, host, port });
    if (addresses.length === 0) servers.push({ name, host: name, port }); // reported as unreachable below
  }
  return servers;
}

/**
 * Waits until every nameserver returns all `values` at `fqdn`. Each nameserver (by name) counts as
 * visible when any of its addresses returns them, so a host without IPv6 is not stuck on AAAA glue.
 * The first check runs at once: records that are already visible cost one round of queries.
 */
export async function waitForTxt(
  fqdn: string,
  values: readonly string[],
  servers: readonly NamedServer[],
  opts: PropagationCheckOptions,
): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const deadline = clock.now() + opts.timeoutMs;
  const recursive = opts.checkThrough !== undefined;
  for (let round = 1; ; round++) {
    const answers = await Promise.all(servers.map((s) => askTxt(s, fqdn, recursive, opts)));
    const missing = byName(servers, answers).filter(
      (group) => !group.some((a) => values.every((v) => a.values.includes(v))),
    );
    if (missing.length === 0) {
      logger.debug(
        { fqdn, round, nameservers: servers.length },
        'dns-01: record visible on every nameserver',
      );
      return;
    }
    if (clock.now() + opts.intervalMs > deadline) {
      const shown = missing.flat();
      throw new DnsPropagationError(
        fqdn,
        values.join(', '),
        answers,
        `TXT ${fqdn} not visible on every nameserver after ${Math.round(opts.timeoutMs / 1000)} s: ` +
          `${shown.map(describe).join('; ')}. Check the record at your DNS provider, or raise the propagation timeout`,
      );
    }
    logger.debug(
      { fqdn, round, waiting: missing.map((g) => g[0]?.nameserver) },
      'dns-01: waiting for the record',
    );
    await clock.sleep(opts.intervalMs, opts.signal);
  }
}

async function askTxt(
  server: NamedServer,
  fqdn: string,
  recursive: boolean,
  opts: PropagationCheckOptions,
): Promise<NameserverAnswer> {
  const nameserver = `${server.name} (${hostPort(server)})`;
  try {
    const res = await queryDns(server, fqdn, 'TXT', {
      recursionDesired: recursive,
      timeoutMs: opts.queryTimeoutMs ?? 3000,
      signal: opts.signal,
    });
    if (res.rcodeName !== 'NOERROR' && res.rcodeName !== 'NXDOMAIN') {
      return { nameserver, values: [], error: res.rcodeName };
    }
    const values = res.answers
      .filter((rr) => rr.typeName === 'TXT' && rr.name === toFqdn(fqdn).toLowerCase())
      .map((rr) => (rr.data as { text: string }).text);
    return { nameserver, values };
  } catch (err) {
    opts.signal.throwIfAborted();
    return { nameserver, values: [], error: (err as Error).message };
  }
}

/** Answers grouped by nameserver name (answers[i] came from servers[i]). */
function byName(servers: readonly NamedServer[], answers: NameserverAnswer[]): NameserverAnswer[][] {
  const groups = new Map<string, NameserverAnswer[]>();
  answers.forEach((a, i) => {
    const name = servers[i]!.name;
    groups.set(name, [...(groups.get(name) ?? []), a]);
  });
  return [...groups.values()];
}

function describe(a: NameserverAnswer): string {
  if (a.error) return `${a.nameserver} did not answer (${a.error})`;
  return a.values.length === 0
    ? `${a.nameserver} has no TXT record there`
    : `${a.nameserver} answers ${a.values.map((v) => JSON.stringify(v)).join(', ')}`;
}
