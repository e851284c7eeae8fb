import { getServers } from 'node:dns';
import type { Identifier } from '../crypto/identifier.ts';
import { globalDnsDefaults } from '../dns/definition.ts';
import { authoritativeServers, type NamedServer, waitForTxt } from '../dns/propagation.ts';
import { type DnsProvider, isZoneFinder, relativeName, type TxtRecord, toFqdn } from '../dns/provider.ts';
import type { LoadedDnsProvider } from '../dns/registry.ts';
import { type DnsServer, parseDnsServer } from '../dns/wire/client.ts';
import { findZone, followCnames, type LookupOptions } from '../dns/zone.ts';
import { InvalidInputError } from '../errors/base.ts';
import { type Clock, systemClock } from '../internal/clock.ts';
import { type Logger, loggedWait, silentLogger } from '../internal/logger.ts';
import type { ChallengeContext, Solver } from './solver.ts';

export interface Dns01SolverOptions {
  /** A provider object, or one loaded by `createDnsProvider()` (its propagation settings then apply). */
  provider: DnsProvider | LoadedDnsProvider;
  /** Use this solver only for names equal to or under these domains (one provider per zone). Default: all. */
  domains?: readonly string[];
  /**
   * Resolvers ("8.8.8.8", "10.0.0.1:5353") for zone and CNAME lookups, through which the propagation check
   * then also runs instead of asking the authoritative nameservers (lego's --dns.resolvers).
   * Default: the system's resolvers, and the check asks every authoritative nameserver directly.
   */
  resolvers?: readonly (string | DnsServer)[];
  /** Record TTL, seconds. Default: the provider's (`<PREFIX>_TTL`) or 120. */
  ttl?: number;
  propagation?: {
    /** Give up after this long. Default: the provider's `<PREFIX>_PROPAGATION_TIMEOUT`. */
    timeoutMs?: number;
    /** Between checks. Default: the provider's `<PREFIX>_POLLING_INTERVAL`. */
    intervalMs?: number;
    /** Only sleep this long instead of checking (for servers the check cannot see). */
    waitMs?: number;
    /** Tell the CA at once, without any check. */
    disabled?: boolean;
    /** Ask the zone's authoritative nameservers even when `resolvers` are given (they then serve lookups only). */
    authoritative?: boolean;
  };
  /**
   * The zone the records go in (`--dns.zone`), when the SOA walk cannot find it (a private or
   * split-horizon zone) or should not be asked. Names outside it are refused.
   */
  zone?: string;
  /** Follow a CNAME at `_acme-challenge.<name>` into another zone (alias mode). Default true. */
  followCname?: boolean;
  /** Deadline of one DNS query (retries included). Default 3 s for checks, 5 s for lookups. */
  queryTimeoutMs?: number;
  /** Port of authoritative nameservers; only tests need another than 53. */
  nameserverPort?: number;
  logger?: Logger;
  clock?: Clock;
}

/**
 * dns-01 (RFC 8555 §8.4) through a DnsProvider: present works out the record (CNAME followed, zone from
 * SOA) and has the provider write it; wait checks the zone's authoritative nameservers until all of
 * them return the value; cleanup removes exactly that value, also after a failure.
 */
export class Dns01Solver implements Solver {
  readonly type = 'dns-01' as const;
  readonly #provider: DnsProvider;
  readonly #domains: string[] | undefined;
  readonly #resolvers: DnsServer[];
  readonly #checkThrough: DnsServer[] | undefined;
  readonly #ttl: number;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  readonly #waitMs: number | undefined;
  readonly #disabled: boolean;
  readonly #followCname: boolean;
  readonly #zone: string | undefined;
  readonly #nameserverPort: number;
  readonly #queryTimeoutMs: number | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #records = new Map<string, Promise<TxtRecord>>();
  readonly #nameservers = new Map<string, Promise<NamedServer[]>>();

  constructor(opts: Dns01SolverOptions) {
    const loaded = 'provider' in opts.provider && 'settings' in opts.provider ? opts.provider : undefined;
    this.#provider = loaded ? loaded.provider : (opts.provider as DnsProvider);
    const settings = loaded?.settings ?? globalDnsDefaults;
    this.#domains = opts.domains?.map((d) => toFqdn(d.replace(/^\*\./, '')).toLowerCase());
    const given = opts.resolvers?.map((r) => (typeof r === 'string' ? parseDnsServer(r, 53) : r));
    this.#resolvers = given && given.length > 0 ? given : systemResolvers();
    const viaResolvers = given && given.length > 0 && opts.propagation?.authoritative !== true;
    this.#checkThrough = viaResolvers ? given : undefined;
    this.#ttl = opts.ttl ?? settings.ttl;
    this.#timeoutMs = opts.propagation?.timeoutMs ?? settings.propagationTimeoutMs;
    this.#intervalMs = opts.propagation?.intervalMs ?? settings.pollingIntervalMs;
    this.#waitMs = opts.propagation?.waitMs;
    this.#disabled = opts.propagation?.disabled === true;
    this.#followCname = opts.followCname !== false;
    this.#zone = opts.zone === undefined ? undefined : toFqdn(opts.zone).toLowerCase();
    this.#nameserverPort = opts.nameserverPort ?? 53;
    this.#queryTimeoutMs = opts.queryTimeoutMs;
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
  }

  handles(identifier: Identifier): boolean {
    if (identifier.type !== 'dns') return false;
    if (!this.#domains) return true;
    const name = toFqdn(identifier.value.replace(/^\*\./, '')).toLowerCase();
    return this.#domains.some((d) => name === d || name.endsWith(`.${d}`));
  }

  async present(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    const record = await this.#record(ctx, signal);
    this.#logger.info({ fqdn: record.fqdn, zone: record.zone }, 'dns-01: adding TXT record');
    await this.#provider.present(record, signal);
  }

  async wait(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    const record = await this.#record(ctx, signal);
    // Apex and wildcard share one name: wait for every value this solver put there.
    await this.waitFor(record, await this.#valuesAt(record.fqdn), signal, ctx.identifier.value);
  }

  /** One challenge at a time when the provider keeps one value per name. */
  get sequential(): { intervalMs: number } | undefined {
    const ms = this.#provider.sequentialIntervalMs;
    return ms === undefined ? undefined : { intervalMs: ms };
  }

  /** The provider this solver writes through. */
  get provider(): DnsProvider {
    return this.#provider;
  }

  /**
   * Waits until `values` are visible at `record.fqdn` on every authoritative nameserver (or through the
   * resolvers given), or only sleeps or returns at once, as the propagation options say.
   */
  async waitFor(
    record: TxtRecord,
    values: readonly string[],
    signal: AbortSignal,
    /** The name the wait is for, in progress lines; default the record's. */
    name = record.fqdn,
  ): Promise<void> {
    if (this.#disabled) return;
    const now = () => this.#clock.now();
    const waitMs = this.#waitMs;
    if (waitMs !== undefined) {
      await loggedWait(
        this.#logger,
        { kind: 'dns-delay', waitFor: name, delayMs: waitMs },
        {
          start: 'dns-01: waiting before asking the CA to check the TXT record',
          done: 'dns-01: done waiting before the check',
        },
        () => this.#clock.sleep(waitMs, signal),
        now,
      );
      return;
    }
    const servers = this.#checkThrough
      ? this.#checkThrough.map((s) => ({ ...s, name: 'resolver' }))
      : await this.#authoritative(record.zone, signal);
    await loggedWait(
      this.#logger,
      { kind: 'dns-propagation', waitFor: name, fields: { fqdn: record.fqdn } },
      {
        start: 'dns-01: waiting for the TXT record on every nameserver',
        done: 'dns-01: done waiting for the TXT record',
      },
      () =>
        waitForTxt(record.fqdn, values, servers, {
          resolvers: this.#resolvers,
          ...(this.#checkThrough ? { checkThrough: this.#checkThrough } : {}),
          timeoutMs: this.#timeoutMs,
          intervalMs: this.#intervalMs,
          ...(this.#queryTimeoutMs !== undefined ? { queryTimeoutMs: this.#queryTimeoutMs } : {}),
          clock: this.#clock,
          logger: this.#logger,
          signal,
        }),
      now,
    );
  }

  async cleanup(ctx: ChallengeContext, signal: AbortSignal): Promise<void> {
    const key = keyOf(ctx);
    const pending = this.#records.get(key);
    // A present that never worked out its record wrote nothing; there is nothing to remove.
    const record = pending ? await pending.catch(() => undefined) : undefined;
    this.#records.delete(key);
    if (!record) return;
    this.#logger.info({ fqdn: record.fqdn }, 'dns-01: removing TXT record');
    await this.#provider.cleanup(record, signal);
  }

  #record(ctx: ChallengeContext, signal: AbortSignal): Promise<TxtRecord> {
    const key = keyOf(ctx);
    let pending = this.#records.get(key);
    if (!pending) {
      pending = this.#buildRecord(ctx, signal);
      this.#records.set(key, pending);
    }
    return pending;
  }

  async #buildRecord(ctx: ChallengeContext, signal: AbortSignal): Promise<TxtRecord> {
    return this.recordFor(ctx.challenge.dnsRecordName, ctx.challenge.dnsTxtValue, signal, {
      domain: toFqdn(ctx.identifier.value.replace(/^\*\./, '')),
      token: ctx.challenge.token,
      keyAuthorization: ctx.challenge.keyAuthorization,
    });
  }

  /**
   * The record for `value` at `name` ("_acme-challenge.example.com"): a CNAME there followed, the zone
   * from --dns.zone, the SOA walk or the provider, as for a challenge.
   */
  async recordFor(
    name: string,
    value: string,
    signal: AbortSignal,
    acme?: TxtRecord['acme'],
  ): Promise<TxtRecord> {
    const lookup = this.#lookup(signal);
    const base = toFqdn(name).toLowerCase();
    // No public lookup at all when nothing will ask public DNS: a provider that needs no zone, and a
    // propagation check that only waits or is off (private zones, lego's exec behaviour).
    const offline = this.#provider.zoneless === true && (this.#disabled || this.#waitMs !== undefined);
    const fqdn = this.#followCname && !offline ? await followCnames(base, lookup) : base;
    if (fqdn !== base) this.#logger.info({ from: base, to: fqdn }, 'dns-01: following CNAME');
    const zone = offline ? parentOf(fqdn) : toFqdn(await this.#zoneOf(fqdn, lookup, signal)).toLowerCase();
    return {
      fqdn,
      zone,
      name: relativeName(fqdn, zone),
      value,
      ttl: this.#ttl,
      ...(acme ? { acme } : {}),
    };
  }

  /**
   * The public answer (SOA walk) first, as the CA sees it; the provider's own zone list only when DNS
   * cannot tell (split horizon, resolvers unreachable), so a stale sub-zone in an account never wins.
   */
  async #zoneOf(fqdn: string, lookup: LookupOptions, signal: AbortSignal): Promise<string> {
    if (this.#zone) {
      if (fqdn !== this.#zone && !fqdn.endsWith(`.${this.#zone}`)) {
        throw new InvalidInputError(
          `${fqdn} is not inside the zone ${this.#zone} given with --dns.zone`,
          fqdn,
        );
      }
      return this.#zone;
    }
    try {
      return await findZone(fqdn, lookup);
    } catch (err) {
      signal.throwIfAborted();
      // A provider that needs no zone still gets a plausible one: its parent name.
      if (this.#provider.zoneless === true) return parentOf(fqdn);
      if (!isZoneFinder(this.#provider)) throw err;
      this.#logger.info(
        { fqdn, error: (err as Error).message },
        'dns-01: zone not found by SOA; asking the provider',
      );
      return this.#provider.findZone(fqdn, signal);
    }
  }

  #lookup(signal: AbortSignal): LookupOptions {
    return {
      resolvers: this.#resolvers,
      signal,
      ...(this.#queryTimeoutMs !== undefined ? { timeoutMs: this.#queryTimeoutMs } : {}),
    };
  }

  async #valuesAt(fqdn: string): Promise<string[]> {
    const all = await Promise.allSettled(this.#records.values());
    return all.flatMap((r) => (r.status === 'fulfilled' && r.value.fqdn === fqdn ? [r.value.value] : []));
  }

  #authoritative(zone: string, signal: AbortSignal): Promise<NamedServer[]> {
    let servers = this.#nameservers.get(zone);
    if (!servers) {
      servers = authoritativeServers(zone, {
        resolvers: this.#resolvers,
        signal,
        port: this.#nameserverPort,
      });
      servers.catch(() => this.#nameservers.delete(zone));
      this.#nameservers.set(zone, servers);
    }
    return servers;
  }
}

/** "_acme-challenge.a.example." → "a.example.": the zone given to a provider that does not use it. */
function parentOf(fqdn: string): string {
  const dot = fqdn.indexOf('.');
  return dot > 0 && dot < fqdn.length - 1 ? fqdn.slice(dot + 1) : fqdn;
}

function keyOf(ctx: ChallengeContext): string {
  return `${ctx.authorization.url} ${ctx.challenge.url}`;
}

/** The resolvers from /etc/resolv.conf, as Node reads them. */
function systemResolvers(): DnsServer[] {
  const servers = getServers().map((s) => parseDnsServer(s, 53));
  if (servers.length === 0) {
    throw new InvalidInputError('no DNS resolvers configured on this system; give them with --dns.resolvers');
  }
  return servers;
}
