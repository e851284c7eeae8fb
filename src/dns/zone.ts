import { InvalidInputError } from '../errors/base.ts';
import { DnsPropagationError } from '../errors/dns.ts';
import { toFqdn } from './provider.ts';
import type { DnsQueryOptions, DnsResponse, DnsServer } from './wire/client.ts';
import { queryDns } from './wire/client.ts';

export interface LookupOptions {
  /** Recursive resolvers, tried in order until one answers. */
  readonly resolvers: readonly DnsServer[];
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const MAX_CNAME_HOPS = 10;

/** Asks the resolvers in turn; the first that answers (any RCODE but SERVFAIL/REFUSED) wins. */
export async function resolve(
  name: string,
  type: 'SOA' | 'NS' | 'CNAME' | 'TXT' | 'A' | 'AAAA',
  opts: LookupOptions,
): Promise<DnsResponse> {
  if (opts.resolvers.length === 0)
    throw new InvalidInputError('no DNS resolvers to ask (give --dns.resolvers)');
  const errors: string[] = [];
  const q: DnsQueryOptions = {
    recursionDesired: true,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  for (const server of opts.resolvers) {
    try {
      const res = await queryDns(server, name, type, q);
      if (res.rcodeName !== 'SERVFAIL' && res.rcodeName !== 'REFUSED') return res;
      errors.push(`${hostPort(server)}: ${res.rcodeName}`);
    } catch (err) {
      opts.signal?.throwIfAborted();
      errors.push(`${hostPort(server)}: ${(err as Error).message}`);
    }
  }
  throw new DnsPropagationError(name, '', [], `no resolver answered ${type} ${name}: ${errors.join('; ')}`);
}

/**
 * Follows CNAMEs from the challenge name (delegated validation, "alias mode"): a CNAME at
 * `_acme-challenge.example.com` pointing into another zone means the TXT record belongs there.
 */
export async function followCnames(fqdn: string, opts: LookupOptions): Promise<string> {
  const seen = [toFqdn(fqdn).toLowerCase()];
  for (;;) {
    const current = seen[seen.length - 1]!;
    const res = await resolve(current, 'CNAME', opts);
    const cname = res.answers.find((rr) => rr.typeName === 'CNAME' && rr.name === current);
    if (!cname) return current;
    const target = toFqdn(String(cname.data)).toLowerCase();
    if (seen.includes(target)) {
      throw new DnsPropagationError(
        fqdn,
        '',
        [],
        `CNAME loop: ${[...seen, target].join(' → ')}; fix the CNAME records`,
      );
    }
    seen.push(target);
    if (seen.length > MAX_CNAME_HOPS) {
      throw new DnsPropagationError(
        fqdn,
        '',
        [],
        `more than ${MAX_CNAME_HOPS} CNAMEs from ${fqdn}: ${seen.join(' → ')}`,
      );
    }
  }
}

/**
 * The zone that holds a name: the owner of the SOA record in the answer (the name is an apex) or in the
 * authority section (NXDOMAIN / no data answers name the zone there); otherwise ask again one label up.
 */
export async function findZone(fqdn: string, opts: LookupOptions): Promise<string> {
  let name = toFqdn(fqdn).toLowerCase();
  for (;;) {
    const res = await resolve(name, 'SOA', opts);
    const inAnswer = res.answers.find((rr) => rr.typeName === 'SOA' && rr.name === name);
    if (inAnswer) return name;
    const isAlias = res.answers.some((rr) => rr.typeName === 'CNAME' && rr.name === name);
    const inAuthority = res.authority.find((rr) => rr.typeName === 'SOA');
    if (!isAlias && inAuthority && (name === inAuthority.name || name.endsWith(`.${inAuthority.name}`))) {
      return inAuthority.name;
    }
    if (name === '.') break;
    const dot = name.indexOf('.');
    name = dot === name.length - 1 ? '.' : name.slice(dot + 1);
  }
  throw new DnsPropagationError(
    fqdn,
    '',
    [],
    `no zone (SOA record) found for ${fqdn}; is the domain registered and delegated?`,
  );
}

export function hostPort(s: DnsServer): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}
