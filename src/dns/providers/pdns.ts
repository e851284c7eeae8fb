import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, toFqdn } from '../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// PowerDNS Authoritative Server HTTP API, v1: https://doc.powerdns.com/authoritative/http-api/zone.html
// The key goes in an X-API-Key header. A zone holds RRsets (one set of values per name and type); a
// value is added by PATCHing the zone with the set REPLACEd by one that has it, and removed by
// REPLACEing the set without it, or DELETEing the set once it is empty. TXT contents are in zone-file
// form, in double quotes. A zone of kind Master (Primary) is sent a NOTIFY afterwards, so its
// secondaries pick the change up at once.

const CODE = 'pdns';

interface PdnsConfig {
  readonly apiKey: Secret;
  /** The server's base URL (PDNS_API_URL): the API lives under /api/v1. */
  readonly apiUrl: string;
  readonly serverName: string;
  /** Zone name → its kind, learnt when the zone is looked up. */
  readonly kinds: Map<string, string>;
}

interface RrSet {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly records?: unknown;
}

/** One record of an RRset as PowerDNS lists it; written back as is when another value changes. */
interface PdnsRecord {
  readonly content: string;
  readonly disabled: boolean;
}

const api: RestApi<PdnsConfig> = {
  code: CODE,
  apiName: 'PowerDNS',
  urlVariable: 'PDNS_API_URL',
  credentialVariables: 'PDNS_API_KEY',
  oneWriterPerName: true,
  baseUrl: (c) => `${c.apiUrl}/api/v1/servers/${encodeURIComponent(c.serverName)}`,
  secrets: (c) => [c.apiKey],
  authorize: (c, req) => withHeaders(req, { 'x-api-key': c.apiKey.reveal() }),
  async zoneRef(c, zone, ctx) {
    // Only the zone's own fields are needed: rrsets=false keeps a large zone's records out of the answer
    // (servers before 4.8 ignore the parameter and send them anyway).
    const res = await ctx.send({
      method: 'GET',
      path: `/zones/${encodeURIComponent(toFqdn(zone))}?rrsets=false`,
    });
    if (res.status === 404 || res.status === 422)
      throw ctx.fail(
        `zone ${zone} is not on the PowerDNS server at PDNS_API_URL (server ${c.serverName}): ` +
          'create it there, or check PDNS_SERVER_NAME',
      );
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `read the zone ${zone}`);
    const body = parseJsonObject(res.body);
    if (typeof body?.id !== 'string')
      throw ctx.fail(`the PowerDNS API answered the zone ${zone} without its id (HTTP ${res.status})`);
    if (typeof body.kind === 'string') c.kinds.set(body.id, body.kind);
    return body.id;
  },
  async list(_c, record, zoneId, ctx) {
    return (await currentSet(record, zoneId, ctx)).map((r) => ({
      id: r.content,
      value: unquoteTxt(r.content),
    }));
  },
  async create(c, record, zoneId, ctx) {
    const current = await currentSet(record, zoneId, ctx);
    const content = `"${record.value}"`;
    if (current.some((r) => unquoteTxt(r.content) === record.value)) return content;
    await patch(
      c,
      zoneId,
      {
        name: owner(record),
        type: 'TXT',
        ttl: record.ttl,
        changetype: 'REPLACE',
        records: [...current, { content, disabled: false }],
      },
      ctx,
      `add a value to the TXT records of ${record.fqdn}`,
    );
    return content;
  },
  async remove(c, record, zoneId, _id, ctx) {
    const current = await currentSet(record, zoneId, ctx);
    const keep = current.filter((r) => unquoteTxt(r.content) !== record.value);
    if (keep.length === current.length) return; // already gone
    await patch(
      c,
      zoneId,
      keep.length === 0
        ? { name: owner(record), type: 'TXT', changetype: 'DELETE' }
        : { name: owner(record), type: 'TXT', ttl: record.ttl, changetype: 'REPLACE', records: keep },
      ctx,
      `remove a value from the TXT records of ${record.fqdn}`,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (json) return typeof json.error === 'string' ? json.error : undefined;
    // 401 and 404 come as a short plain text ("Unauthorized", "Not Found").
    const text = body.toString('utf8').trim();
    return text !== '' && text.length <= 200 && !text.startsWith('<') ? text : undefined;
  },
};

/** PowerDNS names RRsets by their absolute, canonical (lower-case) name with the trailing dot. */
function owner(record: TxtRecord): string {
  return toFqdn(record.fqdn).toLowerCase();
}

/** The TXT records at the record's name, [] when there is no RRset. */
async function currentSet(record: TxtRecord, zoneId: string, ctx: RestCallContext): Promise<PdnsRecord[]> {
  // The whole zone, filtered here: PowerDNS's rrset_name/rrset_type filter leaves disabled records out
  // (seen on 4.7), and a REPLACE written from that answer would delete them.
  const zone = await ctx.json(
    { method: 'GET', path: `/zones/${zoneId}` },
    `list the TXT records of ${record.fqdn}`,
  );
  const found: PdnsRecord[] = [];
  for (const set of Array.isArray(zone.rrsets) ? (zone.rrsets as RrSet[]) : []) {
    if (set.type !== 'TXT' || String(set.name).toLowerCase() !== owner(record)) continue;
    for (const r of Array.isArray(set.records)
      ? (set.records as { content?: unknown; disabled?: unknown }[])
      : [])
      if (typeof r.content === 'string') found.push({ content: r.content, disabled: r.disabled === true });
  }
  return found;
}

/** Writes one RRset change, then asks a primary zone to NOTIFY its secondaries. */
async function patch(
  c: PdnsConfig,
  zoneId: string,
  rrset: Record<string, unknown>,
  ctx: RestCallContext,
  what: string,
): Promise<void> {
  await ctx.json({ method: 'PATCH', path: `/zones/${zoneId}`, body: { rrsets: [rrset] } }, what);
  const kind = c.kinds.get(zoneId)?.toLowerCase();
  if (kind === 'master' || kind === 'primary')
    await ctx.json({ method: 'PUT', path: `/zones/${zoneId}/notify` }, `notify the secondaries of ${zoneId}`);
}

export const definition = {
  code: CODE,
  title: 'PowerDNS',
  description:
    "Adds the TXT records through the PowerDNS Authoritative Server's HTTP API (v1, PowerDNS 4.0 and later): the " +
    'value is added to or removed from the RRset at the name, and a primary zone notifies its secondaries.',
  docsUrl: 'https://doc.powerdns.com/authoritative/http-api/zone.html',
  permissions:
    'PDNS_API_KEY: the api-key of the server (api=yes and webserver=yes in pdns.conf, the client address in ' +
    'webserver-allow-from).',
  example: [
    'PDNS_API_URL=http://pdns.internal:8081 PDNS_API_KEY=secret \\',
    "  acmekit --dns pdns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'PDNS',
  // lego's pdns defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'PDNS_API_URL',
      description: "the server's webserver URL, e.g. http://pdns.internal:8081 (the API is under /api/v1)",
      required: true,
    },
    { name: 'PDNS_API_KEY', description: 'the api-key from pdns.conf', required: true, secret: true },
    { name: 'PDNS_SERVER_NAME', description: 'server id in the API URLs', default: 'localhost' },
    {
      name: 'PDNS_API_VERSION',
      description: 'API version; only 1 is spoken (0 or unset: the same)',
      default: '1',
    },
  ],
  configure(env) {
    const version = env.string('PDNS_API_VERSION');
    if (version !== undefined && version !== '0' && version !== '1')
      throw new InvalidInputError(
        `${CODE}: PDNS_API_VERSION=${version} is not supported; acmekit speaks the PowerDNS API v1 ` +
          '(PowerDNS 4.0 and later): set 1 or leave it unset',
        version,
      );
    const url = env.required('PDNS_API_URL');
    return {
      apiKey: env.requiredSecret('PDNS_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'PDNS_API_URL', url),
      serverName: env.string('PDNS_SERVER_NAME') ?? 'localhost',
      kinds: new Map<string, string>(),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<PdnsConfig>;
