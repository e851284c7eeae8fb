import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, unquoteTxt } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Gandi LiveDNS API (v5): https://api.gandi.net/docs/livedns/
// A personal access token ("Authorization: Bearer …") or the deprecated API key ("Authorization: Apikey …");
// records are RRsets at /domains/{fqdn}/records/{name}/{type}: a value is added by writing the set with
// it (PUT creates or replaces) and removed by writing the set without it, or deleting the RRset when no
// value is left. LiveDNS refuses TTLs below 300 s.

const CODE = 'gandiv5';
const DEFAULT_API_URL = 'https://api.gandi.net/v5/livedns';
const MIN_TTL = 300;

type GandiCredential =
  | { readonly kind: 'token'; readonly secret: Secret }
  | { readonly kind: 'apikey'; readonly secret: Secret };

interface GandiConfig {
  readonly credential: GandiCredential;
  readonly apiUrl: string;
}

interface CurrentSet {
  /** The values as LiveDNS lists them. */
  readonly values: string[];
  readonly ttl: number | undefined;
}

const api: RestApi<GandiConfig> = {
  code: CODE,
  apiName: 'Gandi LiveDNS',
  urlVariable: 'GANDIV5_API_URL',
  credentialVariables: 'GANDIV5_PERSONAL_ACCESS_TOKEN (or the deprecated GANDIV5_API_KEY)',
  oneWriterPerName: true,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.credential.secret],
  authorize: (c, req) => ({
    ...req,
    headers: {
      ...req.headers,
      authorization: `${c.credential.kind === 'token' ? 'Bearer' : 'Apikey'} ${c.credential.secret.reveal()}`,
    },
  }),
  async zoneRef(_c, zone, ctx) {
    // 404 is a domain not on LiveDNS in this organization: said in words below rather than as a bare 404.
    const body = await ctx.json(
      { method: 'GET', path: `/domains/${encodeURIComponent(zone)}` },
      `read the domain ${zone}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    if (typeof body.fqdn !== 'string')
      throw ctx.fail(
        `domain ${zone} is not on Gandi LiveDNS for GANDIV5_PERSONAL_ACCESS_TOKEN (its nameservers must be LiveDNS)`,
      );
    return zone;
  },
  async list(_c, record, zone, ctx) {
    return (await currentSet(record, zone, ctx)).values.map((raw) => ({ id: raw, value: unquoteTxt(raw) }));
  },
  async create(_c, record, zone, ctx) {
    const current = await currentSet(record, zone, ctx);
    if (!current.values.some((raw) => unquoteTxt(raw) === record.value)) {
      await ctx.json(
        {
          method: 'PUT',
          path: rrsetPath(record, zone),
          body: {
            rrset_ttl: current.ttl ?? Math.max(MIN_TTL, record.ttl),
            rrset_values: [...current.values, record.value],
          },
        },
        `add a value to the TXT record ${record.fqdn}`,
      );
    }
    return record.value;
  },
  async remove(_c, record, zone, _id, ctx) {
    const current = await currentSet(record, zone, ctx);
    const keep = current.values.filter((raw) => unquoteTxt(raw) !== record.value);
    if (keep.length === current.values.length) return; // already gone
    if (keep.length === 0) {
      await ctx.json(
        { method: 'DELETE', path: rrsetPath(record, zone) },
        `delete the TXT record ${record.fqdn}`,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
      return;
    }
    await ctx.json(
      {
        method: 'PUT',
        path: rrsetPath(record, zone),
        body: { rrset_ttl: current.ttl ?? Math.max(MIN_TTL, record.ttl), rrset_values: keep },
      },
      `remove a value from the TXT record ${record.fqdn}`,
    );
  },
};

/** The TXT RRset at the record's name; no values when LiveDNS has none (404). */
async function currentSet(record: TxtRecord, zone: string, ctx: RestCallContext): Promise<CurrentSet> {
  const body = await ctx.json(
    { method: 'GET', path: rrsetPath(record, zone) },
    `read the TXT record ${record.fqdn}`,
    (s) => (s >= 200 && s < 300) || s === 404,
  );
  const values = Array.isArray(body.rrset_values)
    ? body.rrset_values.filter((v): v is string => typeof v === 'string')
    : [];
  return { values, ttl: typeof body.rrset_ttl === 'number' ? body.rrset_ttl : undefined };
}

/** LiveDNS names records relative to the domain, "@" at the apex. */
function rrsetPath(record: TxtRecord, zone: string): string {
  const name = encodeURIComponent(record.name.toLowerCase()).replace('%40', '@');
  return `/domains/${encodeURIComponent(zone)}/records/${name}/TXT`;
}

export const definition = {
  code: CODE,
  title: 'Gandi LiveDNS (v5)',
  description:
    'Adds the TXT records through the Gandi LiveDNS API, with a personal access token (or the deprecated API key).',
  docsUrl: 'https://api.gandi.net/docs/livedns/',
  permissions:
    'GANDIV5_PERSONAL_ACCESS_TOKEN: a personal access token of the organization owning the domain, with ' +
    '"Manage domain name technical configurations".',
  example: [
    'GANDIV5_PERSONAL_ACCESS_TOKEN=gandipat \\',
    "  acmekit --dns gandiv5 --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'GANDIV5',
  // lego's gandiv5 defaults.
  defaults: {
    ttl: MIN_TTL,
    propagationTimeoutMs: 1_200_000,
    pollingIntervalMs: 20_000,
    httpTimeoutMs: 10_000,
  },
  env: [
    {
      name: 'GANDIV5_PERSONAL_ACCESS_TOKEN',
      description: 'personal access token (used when both it and GANDIV5_API_KEY are set)',
      secret: true,
    },
    { name: 'GANDIV5_API_KEY', description: 'API key (deprecated by Gandi)', secret: true },
    { name: 'GANDIV5_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    const token = env.secret('GANDIV5_PERSONAL_ACCESS_TOKEN');
    const apiKey = env.secret('GANDIV5_API_KEY');
    const credential: GandiCredential | undefined = token
      ? { kind: 'token', secret: token }
      : apiKey
        ? { kind: 'apikey', secret: apiKey }
        : undefined;
    if (!credential)
      throw new InvalidInputError(
        'gandiv5: GANDIV5_PERSONAL_ACCESS_TOKEN is not set (nor the deprecated GANDIV5_API_KEY): create a personal ' +
          'access token in the Gandi admin (each also as <NAME>_FILE); `acmekit dns help gandiv5` lists every variable',
        'GANDIV5_PERSONAL_ACCESS_TOKEN',
      );
    const ttl = env.int('GANDIV5_TTL', MIN_TTL, 1);
    if (ttl < MIN_TTL)
      throw new InvalidInputError(
        `gandiv5: GANDIV5_TTL must be at least ${MIN_TTL} (LiveDNS refuses less)`,
        String(ttl),
      );
    return { credential, apiUrl: apiUrlSetting(env, CODE, 'GANDIV5_API_URL', DEFAULT_API_URL) };
  },
  create(config, deps) {
    if (config.credential.kind === 'apikey')
      deps.logger.warn(
        { provider: CODE },
        'gandiv5: GANDIV5_API_KEY is deprecated by Gandi; use GANDIV5_PERSONAL_ACCESS_TOKEN',
      );
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<GandiConfig>;
