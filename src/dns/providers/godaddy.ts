import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// GoDaddy Domains API v1, DNS records: https://developer.godaddy.com/doc/endpoint/domains
// "Authorization: sso-key <key>:<secret>"; the records of one type and name are replaced as a whole
// (PUT …/records/TXT/{name} with every value), so a value is added by writing the set with it and removed
// by writing it without, or by deleting the name's TXT records when none is left. TTLs start at 600 s.
// GoDaddy limits these APIs to accounts with enough domains or a Domain Pro plan (403 ACCESS_DENIED).

const CODE = 'godaddy';
const DEFAULT_API_URL = 'https://api.godaddy.com';
const MIN_TTL = 600;

interface GodaddyConfig {
  readonly apiKey: Secret;
  readonly apiSecret: Secret;
  readonly apiUrl: string;
}

interface GodaddyRecord {
  readonly data: string;
  readonly ttl: number;
}

const api: RestApi<GodaddyConfig> = {
  code: CODE,
  apiName: 'GoDaddy',
  urlVariable: 'GODADDY_API_URL',
  credentialVariables: 'GODADDY_API_KEY and GODADDY_API_SECRET (a production key)',
  oneWriterPerName: true,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey, c.apiSecret],
  authorize: (c, req) =>
    withHeaders(req, { authorization: `sso-key ${c.apiKey.reveal()}:${c.apiSecret.reveal()}` }),
  async list(_c, record, domain, ctx) {
    return (await currentSet(record, domain, ctx)).map((r) => ({ id: r.data, value: r.data }));
  },
  async create(_c, record, domain, ctx) {
    const current = await currentSet(record, domain, ctx);
    if (!current.some((r) => r.data === record.value)) {
      const added = { data: record.value, ttl: Math.max(MIN_TTL, record.ttl) };
      await writeSet(
        record,
        domain,
        [...current, added],
        ctx,
        `add a value to the TXT record ${record.fqdn}`,
      );
    }
    return record.value;
  },
  async remove(_c, record, domain, _id, ctx) {
    const current = await currentSet(record, domain, ctx);
    const keep = current.filter((r) => r.data !== record.value);
    if (keep.length === current.length) return; // already gone
    if (keep.length > 0) {
      await writeSet(record, domain, keep, ctx, `remove a value from the TXT record ${record.fqdn}`);
      return;
    }
    await ctx.json(
      { method: 'DELETE', path: recordsPath(record, domain) },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (!json) return undefined;
    const fields = Array.isArray(json.fields)
      ? (json.fields as { path?: unknown; message?: unknown }[])
          .map((f) => `${String(f.path ?? '')}: ${String(f.message ?? '')}`)
          .join('; ')
      : '';
    const text = [json.code, json.message].filter((x) => typeof x === 'string').join(': ');
    return [text, fields].filter(Boolean).join(' — ') || undefined;
  },
};

/** The TXT records at the record's name, as GoDaddy lists them (records without data are skipped). */
async function currentSet(record: TxtRecord, domain: string, ctx: RestCallContext): Promise<GodaddyRecord[]> {
  const list = await ctx.jsonArray(
    { method: 'GET', path: recordsPath(record, domain) },
    `list the TXT records of ${record.fqdn}`,
  );
  const out: GodaddyRecord[] = [];
  for (const r of list as { data?: unknown; ttl?: unknown }[]) {
    if (typeof r?.data === 'string' && r.data !== '')
      out.push({ data: r.data, ttl: typeof r.ttl === 'number' ? r.ttl : MIN_TTL });
  }
  return out;
}

async function writeSet(
  record: TxtRecord,
  domain: string,
  records: GodaddyRecord[],
  ctx: RestCallContext,
  what: string,
): Promise<void> {
  await ctx.json({ method: 'PUT', path: recordsPath(record, domain), body: records }, what);
}

/** GoDaddy names records relative to the domain, "@" at the apex. */
function recordsPath(record: TxtRecord, domain: string): string {
  const name = encodeURIComponent(record.name.toLowerCase()).replace('%40', '@');
  return `/v1/domains/${encodeURIComponent(domain)}/records/TXT/${name}`;
}

export const definition = {
  code: CODE,
  title: 'GoDaddy',
  description:
    'Adds the TXT records through the GoDaddy Domains API (v1), with a production API key and secret.',
  docsUrl: 'https://developer.godaddy.com/doc/endpoint/domains',
  permissions:
    'GODADDY_API_KEY and GODADDY_API_SECRET: a production key of the account holding the domain (GoDaddy opens ' +
    'its DNS API only to accounts with 10 or more domains or a Domain Pro plan).',
  example: [
    'GODADDY_API_KEY=godaddykey \\',
    'GODADDY_API_SECRET=godaddysecret \\',
    "  acmekit --dns godaddy --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'GODADDY',
  // lego's godaddy defaults.
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'GODADDY_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'GODADDY_API_SECRET', description: 'API secret', required: true, secret: true },
    { name: 'GODADDY_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    const ttl = env.int('GODADDY_TTL', MIN_TTL, 1);
    if (ttl < MIN_TTL)
      throw new InvalidInputError(
        `godaddy: GODADDY_TTL must be at least ${MIN_TTL} (GoDaddy refuses less)`,
        String(ttl),
      );
    return {
      apiKey: env.requiredSecret('GODADDY_API_KEY'),
      apiSecret: env.requiredSecret('GODADDY_API_SECRET'),
      apiUrl: apiUrlSetting(env, CODE, 'GODADDY_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<GodaddyConfig>;
