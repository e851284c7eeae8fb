import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import { throwIfAborted } from '../../../internal/abort.ts';
import type { DnsProviderDefinition, ProviderDeps } from '../../definition.ts';
import { type DnsProvider, type TxtRecord, toFqdn, type ZoneFinder } from '../../provider.ts';
import { Route53Api } from './api.ts';
import { configure, type Route53Config, route53Env } from './config.ts';
import { AwsCredentialChain } from './credentials.ts';
import { KeyedSerial } from './serial.ts';
import { normaliseName, quoteTxt, unquoteTxt } from './txt.ts';
import { child, childrenNamed, escapeXml, textAt } from './xml.ts';

const API = '/2013-04-01';
const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';
/** A DELETE whose values changed under it (another writer) is read again and retried this often. */
const CONFLICT_RETRIES = 3;
/** A zone created meanwhile is found after this long. */
const NOT_A_ZONE_TTL_MS = 60_000;

interface CurrentSet {
  readonly ttl: number;
  /** Values as Route 53 stores them (quoted), so a DELETE can repeat them exactly. */
  readonly stored: readonly string[];
  readonly values: readonly string[];
}

interface Submitted {
  readonly id: string;
  readonly status: string;
}

/**
 * Route 53 keeps all TXT values of a name in one record set. present reads that set and UPSERTs it
 * with the value added; cleanup UPSERTs what remains, or DELETEs the set (with its exact current
 * values) when the value was the last. Writes to one name are queued in this process; after each
 * change, GetChange is polled until INSYNC unless AWS_WAIT_FOR_RECORD_SETS_CHANGED=false.
 */
class Route53Provider implements DnsProvider, ZoneFinder {
  readonly #config: Route53Config;
  readonly #deps: ProviderDeps;
  readonly #api: Route53Api;
  readonly #zoneIds = new Map<string, string>();
  /** Names known not to be hosted zones, until the epoch ms given: Route 53 allows 5 requests a second. */
  readonly #notZones = new Map<string, number>();
  readonly #serial = new KeyedSerial();

  constructor(config: Route53Config, deps: ProviderDeps) {
    this.#config = config;
    this.#deps = deps;
    const ctx = { http: deps.http, clock: deps.clock, logger: deps.logger };
    this.#api = new Route53Api({
      ctx,
      credentials: new AwsCredentialChain(config.credentials, ctx),
      endpoint: config.endpoint,
      region: config.signingRegion,
      maxRetries: config.maxRetries,
      zoneFromEnv: config.hostedZoneId !== undefined,
    });
  }

  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const fqdn = toFqdn(record.fqdn).toLowerCase();
    const zoneId = await this.#zoneFor(record, 'present', signal);
    const change = await this.#serial.run(`${zoneId} ${fqdn}`, signal, async () => {
      const current = await this.#read('present', zoneId, fqdn, signal);
      if (current?.values.includes(record.value)) return undefined;
      const stored = [...(current?.stored ?? []), quoteTxt(record.value)];
      return this.#change('present', zoneId, 'UPSERT', fqdn, record.ttl, stored, signal);
    });
    if (change) await this.#waitInSync('present', change, signal);
  }

  async cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const fqdn = toFqdn(record.fqdn).toLowerCase();
    const zoneId = await this.#zoneFor(record, 'cleanup', signal);
    const change = await this.#serial.run(`${zoneId} ${fqdn}`, signal, async () => {
      for (let attempt = 0; ; attempt++) {
        const current = await this.#read('cleanup', zoneId, fqdn, signal);
        if (!current?.values.includes(record.value)) return undefined;
        const remaining = current.stored.filter((_, i) => current.values[i] !== record.value);
        if (remaining.length > 0) {
          return this.#change('cleanup', zoneId, 'UPSERT', fqdn, current.ttl, remaining, signal);
        }
        // DELETE must name the set's exact current values; if another writer changed it, read again.
        const tolerate = attempt < CONFLICT_RETRIES ? ['InvalidChangeBatch'] : [];
        const done = await this.#change(
          'cleanup',
          zoneId,
          'DELETE',
          fqdn,
          current.ttl,
          current.stored,
          signal,
          tolerate,
        );
        if (done) return done;
      }
    });
    if (change) await this.#waitInSync('cleanup', change, signal);
  }

  /** The longest hosted zone (public, or private with AWS_PRIVATE_ZONE) that contains `fqdn`. */
  async findZone(fqdn: string, signal: AbortSignal): Promise<string> {
    throwIfAborted(signal);
    const name = toFqdn(fqdn).toLowerCase();
    if (this.#config.hostedZoneId !== undefined) return this.#zoneNameOf(this.#config.hostedZoneId, signal);
    for (const candidate of suffixes(name)) {
      if (await this.#lookupZone('findZone', candidate, signal)) return candidate;
    }
    throw this.#noZone('findZone', name, suffixes(name));
  }

  /** AWS_HOSTED_ZONE_ID, else the zone the solver found (when Route 53 hosts it), else the longest hosted suffix. */
  async #zoneFor(record: TxtRecord, op: DnsOperation, signal: AbortSignal): Promise<string> {
    if (this.#config.hostedZoneId !== undefined) return this.#config.hostedZoneId;
    const fqdn = toFqdn(record.fqdn).toLowerCase();
    const all = suffixes(fqdn);
    const zone = toFqdn(record.zone).toLowerCase();
    const candidates = all.includes(zone) ? [zone, ...all.filter((n) => n !== zone)] : all;
    for (const candidate of candidates) {
      const id = await this.#lookupZone(op, candidate, signal);
      if (id) return id;
    }
    throw this.#noZone(op, fqdn, candidates);
  }

  async #lookupZone(op: DnsOperation, name: string, signal: AbortSignal): Promise<string | undefined> {
    const known = this.#zoneIds.get(name);
    if (known) return known;
    const now = this.#deps.clock.now();
    if ((this.#notZones.get(name) ?? 0) > now) return undefined;
    const answer = await this.#api.send(
      op,
      {
        action: 'ListHostedZonesByName',
        method: 'GET',
        path: `${API}/hostedzonesbyname`,
        query: [
          ['dnsname', name.replace(/\.$/, '')],
          ['maxitems', '100'],
        ],
      },
      signal,
    );
    if (!answer.ok) return undefined;
    for (const zone of childrenNamed(child(answer.xml, 'HostedZones'), 'HostedZone')) {
      const zoneName = normaliseName(textAt(zone, 'Name') ?? '');
      const isPrivate = textAt(zone, 'Config/PrivateZone') === 'true';
      const id = (textAt(zone, 'Id') ?? '').replace(/^\/hostedzone\//, '');
      if (zoneName === name && isPrivate === this.#config.privateZone && id !== '') {
        this.#zoneIds.set(name, id);
        this.#deps.logger.debug(
          { provider: 'route53', zone: name, zoneId: id },
          'route53: hosted zone found',
        );
        return id;
      }
    }
    this.#notZones.set(name, now + NOT_A_ZONE_TTL_MS);
    return undefined;
  }

  /** The apex of a zone sorts first in ListResourceRecordSets, so its first set names the zone. */
  async #zoneNameOf(zoneId: string, signal: AbortSignal): Promise<string> {
    const answer = await this.#api.send(
      'findZone',
      {
        action: 'ListResourceRecordSets',
        method: 'GET',
        path: `${API}/hostedzone/${zoneId}/rrset`,
        query: [['maxitems', '1']],
        zoneId,
      },
      signal,
    );
    const first = answer.ok ? textAt(answer.xml, 'ResourceRecordSets/ResourceRecordSet/Name') : undefined;
    if (!first)
      throw new DnsProviderError('route53', 'findZone', `hosted zone ${zoneId} lists no record sets`);
    return normaliseName(first);
  }

  #noZone(op: DnsOperation, fqdn: string, looked: readonly string[]): DnsProviderError {
    const kind = this.#config.privateZone ? 'private' : 'public';
    return new DnsProviderError(
      'route53',
      op,
      `no ${kind} hosted zone in this AWS account contains ${fqdn} (looked for ${looked.join(', ')}); ` +
        `create one or set AWS_HOSTED_ZONE_ID${this.#config.privateZone ? '' : ' (for a private zone, AWS_PRIVATE_ZONE=true)'}`,
    );
  }

  async #read(
    op: DnsOperation,
    zoneId: string,
    fqdn: string,
    signal: AbortSignal,
  ): Promise<CurrentSet | undefined> {
    const answer = await this.#api.send(
      op,
      {
        action: 'ListResourceRecordSets',
        method: 'GET',
        path: `${API}/hostedzone/${zoneId}/rrset`,
        // Listing starts at (name, type) in Route 53's order; the set we want, if any, comes first.
        query: [
          ['name', fqdn],
          ['type', 'TXT'],
          ['maxitems', '10'],
        ],
        zoneId,
      },
      signal,
    );
    if (!answer.ok) return undefined;
    for (const set of childrenNamed(child(answer.xml, 'ResourceRecordSets'), 'ResourceRecordSet')) {
      if (normaliseName(textAt(set, 'Name') ?? '') !== fqdn || textAt(set, 'Type') !== 'TXT') continue;
      if (child(set, 'SetIdentifier')) continue; // weighted or latency sets are not ours
      const stored = childrenNamed(child(set, 'ResourceRecords'), 'ResourceRecord').map(
        (r) => textAt(r, 'Value') ?? '',
      );
      return { ttl: Number(textAt(set, 'TTL') ?? '300'), stored, values: stored.map(unquoteTxt) };
    }
    return undefined;
  }

  async #change(
    op: DnsOperation,
    zoneId: string,
    action: 'UPSERT' | 'DELETE',
    fqdn: string,
    ttl: number,
    stored: readonly string[],
    signal: AbortSignal,
    tolerate: readonly string[] = [],
  ): Promise<Submitted | undefined> {
    const records = stored
      .map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`)
      .join('');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${XMLNS}"><ChangeBatch>` +
      `<Comment>acmekit dns-01</Comment><Changes><Change><Action>${action}</Action><ResourceRecordSet>` +
      `<Name>${escapeXml(fqdn)}</Name><Type>TXT</Type><TTL>${ttl}</TTL><ResourceRecords>${records}</ResourceRecords>` +
      '</ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>';
    const answer = await this.#api.send(
      op,
      {
        action: 'ChangeResourceRecordSets',
        method: 'POST',
        path: `${API}/hostedzone/${zoneId}/rrset/`,
        body,
        zoneId,
      },
      signal,
      tolerate,
    );
    if (!answer.ok) {
      this.#deps.logger.debug(
        { provider: 'route53', fqdn, action, reason: answer.error.code },
        'route53: change refused, reading the record set again',
      );
      return undefined;
    }
    const id = (textAt(answer.xml, 'ChangeInfo/Id') ?? '').replace(/^\/change\//, '');
    const status = textAt(answer.xml, 'ChangeInfo/Status') ?? 'PENDING';
    this.#deps.logger.debug(
      { provider: 'route53', fqdn, zoneId, action, values: stored.length, changeId: id, status },
      'route53: change submitted',
    );
    return { id, status };
  }

  async #waitInSync(op: DnsOperation, change: Submitted, signal: AbortSignal): Promise<void> {
    if (!this.#config.waitForChange || change.status === 'INSYNC' || change.id === '') return;
    const { clock, settings } = this.#deps;
    const deadline = clock.now() + settings.propagationTimeoutMs;
    let status = change.status;
    for (;;) {
      await clock.sleep(settings.pollingIntervalMs, signal);
      const answer = await this.#api.send(
        op,
        { action: 'GetChange', method: 'GET', path: `${API}/change/${change.id}` },
        signal,
      );
      status = (answer.ok ? textAt(answer.xml, 'ChangeInfo/Status') : undefined) ?? status;
      if (status === 'INSYNC') return;
      if (clock.now() >= deadline) {
        throw new DnsProviderError(
          'route53',
          op,
          `change ${change.id} is still ${status} after ${Math.round(settings.propagationTimeoutMs / 1000)} s; ` +
            'raise AWS_PROPAGATION_TIMEOUT, or set AWS_WAIT_FOR_RECORD_SETS_CHANGED=false to rely on the DNS check alone',
        );
      }
    }
  }
}

/** "_acme-challenge.a.example.com." → itself, "a.example.com.", "example.com.", "com." (longest first). */
function suffixes(fqdn: string): string[] {
  const labels = fqdn.replace(/\.$/, '').split('.');
  return labels.map((_, i) => `${labels.slice(i).join('.')}.`);
}

export const definition = {
  code: 'route53',
  title: 'Amazon Route 53',
  description:
    'Amazon Route 53 through its API, signed with Signature Version 4. Credentials come from the usual AWS ' +
    'chain: environment, web identity, shared files (AWS_PROFILE), container endpoint, EC2 instance role; ' +
    'optionally a role is then assumed (AWS_ASSUME_ROLE_ARN).',
  docsUrl: 'https://docs.aws.amazon.com/Route53/latest/APIReference/Welcome.html',
  permissions:
    'IAM actions route53:GetChange, route53:ChangeResourceRecordSets and route53:ListResourceRecordSets on the ' +
    'hosted zone (arn:aws:route53:::hostedzone/ID) and its changes (arn:aws:route53:::change/*), and ' +
    'route53:ListHostedZonesByName (resource *) unless AWS_HOSTED_ZONE_ID is set',
  example:
    'AWS_ACCESS_KEY_ID=AKIA... \\\nAWS_SECRET_ACCESS_KEY=... \\\nAWS_HOSTED_ZONE_ID=Z0123456789ABC \\\n' +
    "acmekit --email you@example.com --dns route53 -d '*.example.com' -d example.com run",
  envPrefix: 'AWS',
  env: route53Env,
  // lego's Route 53 defaults: a short TTL, and a polling interval that keeps within API rate limits.
  defaults: { ttl: 10, pollingIntervalMs: 4_000, propagationTimeoutMs: 120_000 },
  configure,
  create: (config: Route53Config, deps: ProviderDeps): DnsProvider => new Route53Provider(config, deps),
} satisfies DnsProviderDefinition<Route53Config>;
