import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, toFqdn, unFqdn } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// cPanel UAPI, DNS module: https://api.docs.cpanel.net/openapi/cpanel/operation/dns-parse_zone and
// https://api.docs.cpanel.net/openapi/cpanel/operation/dns-mass_edit_zone (GET /execute/DNS/…, header
// "Authorization: cpanel <user>:<API token>"), or the same through WHM API 1:
// https://api.docs.cpanel.net/openapi/whm/operation/parse_dns_zone and …/mass_edit_dns_zone
// (GET /json-api/…?api.version=1, header "Authorization: whm <user>:<API token>").
// parse_zone lists the zone file's lines with base64 names and data; mass_edit_zone adds a record
// (JSON: dname, ttl, record_type, data) or removes one by the line where it starts, and only when the
// serial given is the zone's current SOA serial. Each value is its own TXT record (the strings of one
// record's data are joined into one value by DNS), and every edit reads the zone first for the serial
// and the line.

const CODE = 'cpanel';
/** Tries of one edit when the zone changed between reading its serial and writing. */
const SERIAL_TRIES = 3;

type Mode = 'cpanel' | 'whm';

interface CpanelConfig {
  readonly mode: Mode;
  readonly username: string;
  readonly token: Secret;
  readonly baseUrl: string;
}

/** One line of parse_zone's answer. */
interface ZoneLine {
  readonly line_index?: unknown;
  readonly type?: unknown;
  readonly record_type?: unknown;
  readonly dname_b64?: unknown;
  readonly data_b64?: unknown;
}

interface ParsedZone {
  readonly serial: string;
  readonly lines: readonly ZoneLine[];
}

const api: RestApi<CpanelConfig> = {
  code: CODE,
  apiName: 'cPanel',
  urlVariable: 'CPANEL_BASE_URL',
  credentialVariables: 'CPANEL_USERNAME and CPANEL_TOKEN',
  oneWriterPerName: true,
  baseUrl: (c) => c.baseUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `${c.mode} ${c.username}:${c.token.reveal()}` }),
  async list(c, record, zone, ctx) {
    const parsed = await parseZone(c, zone, ctx, `list the TXT records of ${record.fqdn}`);
    return txtLines(parsed, record, zone).map((l) => ({ id: String(l.line), value: l.value }));
  },
  async create(c, record, zone, ctx) {
    await edit(c, zone, ctx, `add the TXT record ${record.fqdn}`, (parsed) => {
      if (txtLines(parsed, record, zone).some((l) => l.value === record.value)) return undefined;
      const add = {
        dname: toFqdn(record.fqdn).toLowerCase(),
        ttl: record.ttl,
        record_type: 'TXT',
        data: [record.value],
      };
      return { add: JSON.stringify(add) };
    });
    // No id: a line index moves with every edit, so cleanup looks the record up again.
    return undefined;
  },
  async remove(c, record, zone, _line, ctx) {
    await edit(c, zone, ctx, `delete the TXT record ${record.fqdn}`, (parsed) => {
      const found = txtLines(parsed, record, zone).find((l) => l.value === record.value);
      // Already gone: what cleanup wants.
      return found ? { remove: String(found.line) } : undefined;
    });
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    if (json) return apiError(json);
    const text = body
      .toString('utf8')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return text !== '' ? text.slice(0, 200) : undefined;
  },
};

/** The API's own words from an answer (UAPI errors, WHM metadata.reason). */
function apiError(json: Record<string, unknown>): string | undefined {
  if (Array.isArray(json.errors) && json.errors.length > 0) return json.errors.map(String).join('; ');
  const meta = json.metadata as { reason?: unknown } | undefined;
  return typeof meta?.reason === 'string' ? meta.reason : undefined;
}

/** Calls one function of the mode's API; returns its data, or throws with the API's words. */
async function call(
  c: CpanelConfig,
  fn: 'parse' | 'edit',
  params: Record<string, string>,
  ctx: RestCallContext,
  what: string,
): Promise<unknown> {
  const path =
    c.mode === 'cpanel'
      ? `/execute/DNS/${fn === 'parse' ? 'parse_zone' : 'mass_edit_zone'}?${new URLSearchParams(params)}`
      : `/json-api/${fn === 'parse' ? 'parse_dns_zone' : 'mass_edit_dns_zone'}?${new URLSearchParams({ 'api.version': '1', ...params })}`;
  const body = await ctx.json({ method: 'GET', path }, what);
  const ok = c.mode === 'cpanel' ? body.status === 1 : (body.metadata as { result?: unknown })?.result === 1;
  if (ok)
    return c.mode === 'cpanel'
      ? body.data
      : ((body.data as { payload?: unknown } | null)?.payload ?? body.data);
  throw new CpanelRefusal(apiError(body) ?? 'no reason given');
}

/** A well-formed answer saying the function failed (UAPI status 0, WHM metadata.result 0). */
class CpanelRefusal extends Error {}

async function parseZone(
  c: CpanelConfig,
  zone: string,
  ctx: RestCallContext,
  what: string,
): Promise<ParsedZone> {
  let data: unknown;
  try {
    data = await call(c, 'parse', { zone }, ctx, what);
  } catch (err) {
    if (!(err instanceof CpanelRefusal)) throw err;
    throw ctx.fail(
      `${c.mode === 'cpanel' ? 'cPanel' : 'WHM'} refused to ${what} (${err.message}): check that the zone ${zone} ` +
        `is in the account of CPANEL_USERNAME${c.mode === 'whm' ? ' (or on this WHM server)' : ''}`,
    );
  }
  const lines = Array.isArray(data) ? (data as ZoneLine[]) : [];
  const soa = lines.find((l) => l.type === 'record' && l.record_type === 'SOA');
  const raw = Array.isArray(soa?.data_b64) ? soa.data_b64[2] : undefined;
  const serial = typeof raw === 'string' ? decode(raw).trim() : '';
  if (!/^\d+$/.test(serial)) throw ctx.fail(`the zone ${zone} as cPanel parsed it has no SOA serial`);
  return { serial, lines };
}

/**
 * Reads the zone, asks `change` for the edit (undefined: nothing to do) and sends it with the serial read.
 * When the edit is refused and the serial has moved meanwhile (another edit won the race), reads again.
 */
async function edit(
  c: CpanelConfig,
  zone: string,
  ctx: RestCallContext,
  what: string,
  change: (parsed: ParsedZone) => Record<string, string> | undefined,
): Promise<void> {
  let parsed = await parseZone(c, zone, ctx, what);
  for (let attempt = 1; ; attempt++) {
    const params = change(parsed);
    if (!params) return;
    try {
      await call(c, 'edit', { zone, serial: parsed.serial, ...params }, ctx, what);
      return;
    } catch (err) {
      if (!(err instanceof CpanelRefusal)) throw err;
      const again = await parseZone(c, zone, ctx, what);
      if (again.serial === parsed.serial || attempt >= SERIAL_TRIES)
        throw ctx.fail(`${c.mode === 'cpanel' ? 'cPanel' : 'WHM'} refused to ${what} (${err.message})`);
      parsed = again;
    }
  }
}

/** The TXT records at the record's name: where each starts, and its value (its strings joined). */
function txtLines(parsed: ParsedZone, record: TxtRecord, zone: string): { line: number; value: string }[] {
  const want = unFqdn(record.fqdn).toLowerCase();
  const found: { line: number; value: string }[] = [];
  for (const l of parsed.lines) {
    if (l.type !== 'record' || l.record_type !== 'TXT' || typeof l.line_index !== 'number') continue;
    if (typeof l.dname_b64 !== 'string' || absolute(decode(l.dname_b64), zone) !== want) continue;
    const strings = Array.isArray(l.data_b64)
      ? l.data_b64.filter((d): d is string => typeof d === 'string')
      : [];
    found.push({ line: l.line_index, value: strings.map(decode).join('') });
  }
  return found;
}

/** A zone file name, absolute ("x.example.com.") or relative ("x", "@"), as a full name without the dot. */
function absolute(name: string, zone: string): string {
  const n = name.trim().toLowerCase();
  if (n === '@' || n === '') return zone;
  return n.endsWith('.') ? n.slice(0, -1) : `${n}.${zone}`;
}

function decode(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

export const definition = {
  code: CODE,
  title: 'cPanel / WHM',
  description:
    "Adds the TXT records through cPanel's UAPI (DNS::parse_zone and DNS::mass_edit_zone) with a cPanel API " +
    'token, or through WHM API 1 (parse_dns_zone, mass_edit_dns_zone) with a WHM API token when CPANEL_MODE=whm.',
  docsUrl: 'https://api.docs.cpanel.net/openapi/cpanel/operation/dns-mass_edit_zone',
  permissions:
    'CPANEL_TOKEN: a cPanel API token of CPANEL_USERNAME (cPanel » Security » Manage API Tokens), whose account ' +
    'owns the zone; with CPANEL_MODE=whm a WHM API token with the DNS privileges (edit DNS zones).',
  example: [
    'CPANEL_USERNAME=alice CPANEL_TOKEN=0123ABCD CPANEL_BASE_URL=https://host.example.com:2083 \\',
    "  acmekit --dns cpanel --domains example.com --domains '*.example.com' --email you@example.com run",
    '# WHM: CPANEL_MODE=whm CPANEL_USERNAME=root CPANEL_BASE_URL=https://host.example.com:2087',
  ].join('\n'),
  envPrefix: 'CPANEL',
  // lego's cpanel defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'CPANEL_USERNAME', description: 'cPanel (or WHM) user name', required: true },
    { name: 'CPANEL_TOKEN', description: 'API token of that user', required: true, secret: true },
    {
      name: 'CPANEL_BASE_URL',
      description: 'URL of the server: https://host:2083 (cPanel) or https://host:2087 (WHM)',
      required: true,
    },
    { name: 'CPANEL_MODE', description: 'cpanel (UAPI) or whm (WHM API 1)', default: 'cpanel' },
  ],
  configure(env) {
    const mode = (env.string('CPANEL_MODE') ?? 'cpanel').toLowerCase();
    if (mode !== 'cpanel' && mode !== 'whm')
      throw new InvalidInputError(
        `${CODE}: CPANEL_MODE must be cpanel or whm, got ${JSON.stringify(mode)}`,
        mode,
      );
    return {
      mode: mode as Mode,
      username: env.required('CPANEL_USERNAME'),
      token: env.requiredSecret('CPANEL_TOKEN'),
      baseUrl: apiUrlSetting(env, CODE, 'CPANEL_BASE_URL', env.required('CPANEL_BASE_URL')),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<CpanelConfig>;
