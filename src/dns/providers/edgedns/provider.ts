import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { InvalidInputError } from '../../../errors/base.ts';
import { Secret } from '../../../internal/secret.ts';
import type { DnsProviderDefinition } from '../../definition.ts';
import type { ProviderEnv } from '../../env.ts';
import { parseJsonObject } from '../../json-api.ts';
import { type TxtRecord, unFqdn } from '../../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, unquoteTxt } from '../../rest-provider.ts';
import { DEFAULT_MAX_BODY, edgeGridTimestamp, signEdgeGrid } from './edgegrid.ts';

// Akamai Edge DNS Zone Management API v2 (https://techdocs.akamai.com/edge-dns/reference/api): a record set
// lives at /config-dns/v2/zones/{zone}/names/{name}/types/{type} — GET reads it (404 when there is none),
// POST creates it, PUT replaces its rdata, DELETE removes it. Requests are signed with EdgeGrid
// (edgegrid.ts); an API client that manages several accounts names the target with ?accountSwitchKey=.
// TXT rdata is quoted. A record set holds every value at a name, so present and cleanup read it and write
// it back.

const CODE = 'edgedns';
const CREDENTIALS =
  'AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET and AKAMAI_ACCESS_TOKEN (or the AKAMAI_EDGERC section)';

interface EdgeDnsConfig {
  readonly baseUrl: string;
  readonly clientToken: string;
  readonly accessToken: Secret;
  readonly clientSecret: Secret;
  readonly maxBody: number;
  readonly accountSwitchKey: string | undefined;
}

interface RecordSet {
  readonly name: string;
  readonly ttl: number;
  readonly rdata: string[];
}

function recordPath(c: EdgeDnsConfig, zone: string, record: TxtRecord): string {
  const name = unFqdn(record.fqdn).toLowerCase();
  const query = c.accountSwitchKey ? `?accountSwitchKey=${encodeURIComponent(c.accountSwitchKey)}` : '';
  return `/config-dns/v2/zones/${encodeURIComponent(zone)}/names/${encodeURIComponent(name)}/types/TXT${query}`;
}

async function recordSet(
  c: EdgeDnsConfig,
  zone: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<RecordSet | undefined> {
  const res = await ctx.send({ method: 'GET', path: recordPath(c, zone, record) });
  // No record set there (an unknown zone is reported by the write that follows).
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw ctx.refused(res, `read the TXT record set ${record.fqdn}`);
  const body = parseJsonObject(res.body);
  return {
    name: String(body?.name ?? unFqdn(record.fqdn)),
    ttl: Number(body?.ttl ?? record.ttl),
    rdata: Array.isArray(body?.rdata) ? body.rdata.map(String) : [],
  };
}

const quoted = (value: string) => `"${value}"`;

const api: RestApi<EdgeDnsConfig> = {
  code: CODE,
  apiName: 'Akamai Edge DNS',
  urlVariable: 'AKAMAI_HOST',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.baseUrl,
  secrets: (c) => [c.accessToken, c.clientSecret, new Secret(c.clientToken)],
  authorize(c, req, clock) {
    const url = new URL(`${c.baseUrl}${req.path}`);
    const body = req.rawBody ?? (req.body !== undefined ? JSON.stringify(req.body) : '');
    const { authorization } = signEdgeGrid(
      {
        method: req.method,
        scheme: url.protocol.slice(0, -1),
        host: url.host,
        path: `${url.pathname}${url.search}`,
        body,
      },
      {
        clientToken: c.clientToken,
        accessToken: c.accessToken,
        clientSecret: c.clientSecret,
        maxBody: c.maxBody,
      },
      edgeGridTimestamp(new Date(clock.now())),
      randomUUID(),
    );
    const { body: _json, ...rest } = req;
    return {
      ...rest,
      ...(body !== '' ? { rawBody: body } : {}),
      headers: {
        ...req.headers,
        ...(body !== '' ? { 'content-type': 'application/json' } : {}),
        authorization,
      },
    };
  },
  async list(c, record, zone, ctx) {
    return ((await recordSet(c, zone, record, ctx))?.rdata ?? []).map((r) => ({
      id: unquoteTxt(r),
      value: unquoteTxt(r),
    }));
  },
  async create(c, record, zone, ctx) {
    const set = await recordSet(c, zone, record, ctx);
    const what = `write the TXT record set ${record.fqdn}`;
    if (!set) {
      await ctx.json(
        {
          method: 'POST',
          path: recordPath(c, zone, record),
          body: {
            name: unFqdn(record.fqdn).toLowerCase(),
            type: 'TXT',
            ttl: record.ttl,
            rdata: [quoted(record.value)],
          },
        },
        what,
      );
    } else if (!set.rdata.some((r) => unquoteTxt(r) === record.value)) {
      await ctx.json(
        {
          method: 'PUT',
          path: recordPath(c, zone, record),
          body: { name: set.name, type: 'TXT', ttl: record.ttl, rdata: [...set.rdata, quoted(record.value)] },
        },
        what,
      );
    }
    return record.value;
  },
  async remove(c, record, zone, value, ctx) {
    const set = await recordSet(c, zone, record, ctx);
    if (!set) return;
    const kept = set.rdata.filter((r) => unquoteTxt(r) !== value);
    if (kept.length === set.rdata.length) return;
    const what = `remove a value from the TXT record set ${record.fqdn}`;
    if (kept.length === 0) {
      await ctx.json(
        { method: 'DELETE', path: recordPath(c, zone, record) },
        what,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
      return;
    }
    await ctx.json(
      {
        method: 'PUT',
        path: recordPath(c, zone, record),
        body: { name: set.name, type: 'TXT', ttl: set.ttl, rdata: kept },
      },
      what,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    const words = [json?.title, json?.detail].filter((x) => typeof x === 'string' && x).join(': ');
    return words || undefined;
  },
  oneWriterPerName: true,
};

/** The sections of an .edgerc file: INI, "key = value", "#" or ";" comments. */
export function parseEdgerc(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!.trim(), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !current) continue;
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    current.set(line.slice(0, eq).trim().toLowerCase().replace(/-/g, '_'), value);
  }
  return sections;
}

interface EdgeGridSettings {
  readonly host: string;
  readonly clientToken: string;
  readonly clientSecret: string;
  readonly accessToken: string;
  readonly maxBody: number;
}

/**
 * Where the EdgeGrid credentials come from, in lego's order: AKAMAI_HOST and friends when the section is
 * "default" (or unset) and they are all set; else the section of the .edgerc file; else AKAMAI_HOST and
 * friends whatever the section.
 */
function edgeGridSettings(env: ProviderEnv): EdgeGridSettings {
  const section = env.string('AKAMAI_EDGERC_SECTION') ?? 'default';
  const fromEnv = () => {
    const host = env.string('AKAMAI_HOST');
    const clientToken = env.string('AKAMAI_CLIENT_TOKEN');
    const clientSecret = env.string('AKAMAI_CLIENT_SECRET');
    const accessToken = env.string('AKAMAI_ACCESS_TOKEN');
    return host && clientToken && clientSecret && accessToken
      ? { host, clientToken, clientSecret, accessToken, maxBody: DEFAULT_MAX_BODY }
      : undefined;
  };
  if (section === 'default') {
    const direct = fromEnv();
    if (direct) return direct;
  }
  const path = env.string('AKAMAI_EDGERC') ?? '~/.edgerc';
  const file = path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (env.string('AKAMAI_EDGERC') !== undefined)
      throw new InvalidInputError(
        `${CODE}: AKAMAI_EDGERC names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        path,
        { cause: err },
      );
  }
  const values = text === undefined ? undefined : parseEdgerc(text).get(section);
  if (values) {
    const get = (k: string) => values.get(k);
    const missing = ['host', 'client_token', 'client_secret', 'access_token'].filter((k) => !get(k));
    if (missing.length > 0)
      throw new InvalidInputError(
        `${CODE}: section [${section}] of ${path} has no ${missing.join(', ')}`,
        path,
      );
    const maxBody = Number(get('max_body') ?? DEFAULT_MAX_BODY);
    return {
      host: get('host')!,
      clientToken: get('client_token')!,
      clientSecret: get('client_secret')!,
      accessToken: get('access_token')!,
      maxBody: Number.isInteger(maxBody) && maxBody > 0 ? maxBody : DEFAULT_MAX_BODY,
    };
  }
  const direct = fromEnv();
  if (direct) return direct;
  throw new InvalidInputError(
    `${CODE}: no EdgeGrid credentials: set AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET and ` +
      `AKAMAI_ACCESS_TOKEN, or an .edgerc file with a [${section}] section (AKAMAI_EDGERC, AKAMAI_EDGERC_SECTION)`,
    'AKAMAI_HOST',
  );
}

export const definition = {
  code: CODE,
  aliases: ['fastdns'],
  title: 'Akamai Edge DNS',
  description:
    'Adds the TXT records through the Akamai Edge DNS Zone Management API v2 with EdgeGrid-signed requests ' +
    '(credentials from AKAMAI_* variables or an .edgerc file). Formerly FastDNS.',
  docsUrl: 'https://techdocs.akamai.com/edge-dns/reference/post-zones-zone-names-name-types-type',
  permissions:
    'An API client (Identity and Access Management → API clients) with READ-WRITE access to the "DNS—Zone ' +
    'Record Management" API; with AKAMAI_ACCOUNT_SWITCH_KEY, one allowed to manage the target account.',
  example: [
    'AKAMAI_CLIENT_SECRET=abcdefghijklmnopqrstuvwxyz1234567890ABCDEFG= \\',
    'AKAMAI_CLIENT_TOKEN=akab-mnbvcxzlkjhgfdsapoiuytrewq1234567 \\',
    'AKAMAI_HOST=akab-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.luna.akamaiapis.net \\',
    'AKAMAI_ACCESS_TOKEN=akab-1234567890qwerty-asdfghjklzxcvtnu \\',
    "  acmekit --dns edgedns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'AKAMAI',
  // lego's edgedns defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 180_000, pollingIntervalMs: 15_000 },
  env: [
    { name: 'AKAMAI_HOST', description: 'API host of the API client (akab-….luna.akamaiapis.net)' },
    { name: 'AKAMAI_CLIENT_TOKEN', description: 'client token of the API client', secret: true },
    { name: 'AKAMAI_CLIENT_SECRET', description: 'client secret of the API client', secret: true },
    { name: 'AKAMAI_ACCESS_TOKEN', description: 'access token of the API client', secret: true },
    { name: 'AKAMAI_EDGERC', description: '.edgerc file with the credentials', default: '~/.edgerc' },
    { name: 'AKAMAI_EDGERC_SECTION', description: 'section of the .edgerc file', default: 'default' },
    {
      name: 'AKAMAI_ACCOUNT_SWITCH_KEY',
      description: 'target account, when the zones and the API client belong to different accounts',
    },
  ],
  configure(env) {
    const s = edgeGridSettings(env);
    const host = s.host.replace(/^https:\/\//, '').replace(/\/+$/, '');
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host))
      throw new InvalidInputError(
        `${CODE}: the EdgeGrid host must be a host name such as akab-….luna.akamaiapis.net, got ${JSON.stringify(s.host)}`,
        s.host,
      );
    return {
      baseUrl: `https://${host}`,
      clientToken: s.clientToken,
      accessToken: new Secret(s.accessToken),
      clientSecret: new Secret(s.clientSecret),
      maxBody: s.maxBody,
      accountSwitchKey: env.string('AKAMAI_ACCOUNT_SWITCH_KEY'),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<EdgeDnsConfig>;
