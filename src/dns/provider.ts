/** One TXT value to publish; the dns-01 solver has already found the zone and followed any CNAME. */
export interface TxtRecord {
  /** Absolute name with the trailing dot, e.g. "_acme-challenge.example.com." (after CNAME following). */
  readonly fqdn: string;
  /** The zone that holds it, absolute: "example.com." (from the SOA walk, or the provider's own ZoneFinder). */
  readonly zone: string;
  /** `fqdn` relative to `zone`, without a trailing dot: "_acme-challenge" ("@" at the zone apex). */
  readonly name: string;
  /** base64url(SHA-256(key authorization)), 43 characters. */
  readonly value: string;
  /** Seconds. */
  readonly ttl: number;
  /** The ACME values behind `value`, for programs that compute the record themselves (exec RAW mode). */
  readonly acme?: {
    /** The identifier without "*." and with a trailing dot: "example.com.". */
    readonly domain: string;
    readonly token: string;
    readonly keyAuthorization: string;
  };
}

/**
 * Writes TXT records through one DNS service. The core builds each record; a provider only writes it.
 *
 * - `present` adds exactly this value; other values at the same name (example.com and *.example.com
 *   share one) MUST survive. It SHOULD return once the API accepted the change, not wait for propagation.
 * - `cleanup` removes exactly this value. It MUST NOT require that present succeeded or ran in this
 *   process (look the record up again), and MUST NOT throw when the value is already gone.
 * - Both MUST reject promptly when the signal aborts.
 */
export interface DnsProvider {
  present(record: TxtRecord, signal: AbortSignal): Promise<void>;
  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void>;
  /**
   * True for a provider that writes by the full name and never uses `zone` or `name` (exec, httpreq,
   * manual): its records need no zone lookup, so private and split-horizon zones work without public DNS.
   */
  readonly zoneless?: boolean;
  /**
   * Set for a service that keeps one TXT value per name (DuckDNS, Hurricane Electric's dynamic TXT): the
   * challenges it serves are solved one after another, this many ms apart (lego's `_SEQUENCE_INTERVAL`).
   */
  readonly sequentialIntervalMs?: number;
}

/** Optional capability: a provider whose API lists its zones can name the zone of a record itself. */
export interface ZoneFinder {
  findZone(fqdn: string, signal: AbortSignal): Promise<string>;
}

export function isZoneFinder(p: DnsProvider): p is DnsProvider & ZoneFinder {
  return typeof (p as Partial<ZoneFinder>).findZone === 'function';
}

/** "_acme-challenge.www.example.com." in zone "example.com." → "_acme-challenge.www"; the apex is "@". */
export function relativeName(fqdn: string, zone: string): string {
  const f = toFqdn(fqdn).toLowerCase();
  const z = toFqdn(zone).toLowerCase();
  if (f === z) return '@';
  if (!f.endsWith(`.${z}`) && z !== '.') throw new Error(`${fqdn} is not inside zone ${zone}`);
  return z === '.' ? f.slice(0, -1) : f.slice(0, -(z.length + 1));
}

/** Adds the trailing dot. */
export function toFqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** Drops the trailing dot. */
export function unFqdn(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
