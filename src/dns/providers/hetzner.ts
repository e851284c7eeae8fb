import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Hetzner Cloud API, Zones and Zone RRSets: https://docs.hetzner.cloud/reference/cloud#zone-rrsets
// A Bearer token of a Cloud project. The API keeps one RRSet per name and type; values are added and
// removed one by one with the add_records / remove_records actions (the RRSet is created with its first
// record and deleted with its last), so other values at the name are never rewritten. TXT values are
// quoted strings. Changes are asynchronous actions, polled until they succeed or fail.

const CODE = 'hetzner';
const DEFAULT_API_URL = 'https://api.hetzner.cloud/v1';
/** The smallest TTL the API accepts for an RRSet. */
const MIN_TTL = 60;
/** How often and how long an action is polled. */
const ACTION_POLL_MS = 1000;
const ACTION_POLLS = 60;

interface HetznerConfig {
  readonly token: Secret;
  readonly apiUrl: string;
}

interface Action {
  readonly id?: unknown;
  readonly status?: unknown;
  readonly error?: { readonly code?: unknown; readonly message?: unknown } | null;
}

const api: RestApi<HetznerConfig> = {
  code: CODE,
  apiName: 'Hetzner Cloud',
  urlVariable: 'HETZNER_API_URL',
  credentialVariables: 'HETZNER_API_TOKEN (a Cloud project API token with Read & Write)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.token],
  authorize: (c, req) => withHeaders(req, { authorization: `Bearer ${c.token.reveal()}` }),
  async zoneRef(_c, zone, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: `/zones/${encodeURIComponent(zone)}` },
      `find the zone ${zone}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    const found = body.zone as { id?: unknown; mode?: unknown } | undefined;
    if (typeof found?.id !== 'number' && typeof found?.id !== 'string')
      throw ctx.fail(
        `zone ${zone} is not in the Hetzner Cloud project of HETZNER_API_TOKEN: add it under DNS in the Cloud Console`,
      );
    if (found.mode !== undefined && found.mode !== 'primary')
      throw ctx.fail(
        `zone ${zone} is a ${String(found.mode)} zone: records can only be changed in a primary zone`,
      );
    return String(found.id);
  },
  async list(_c, record, zoneId, ctx) {
    const rrset = await getRrset(record, zoneId, ctx);
    return rrset.map((value) => ({ id: value, value }));
  },
  async create(_c, record, zoneId, ctx) {
    const body = await ctx.json(
      {
        method: 'POST',
        path: `${rrsetPath(record, zoneId)}/actions/add_records`,
        body: { ttl: Math.max(MIN_TTL, record.ttl), records: [{ value: quote(record.value) }] },
      },
      `add the TXT value to ${record.fqdn}`,
    );
    await waitForAction(body.action as Action | undefined, `add the TXT value to ${record.fqdn}`, ctx);
    return record.value;
  },
  async remove(_c, record, zoneId, value, ctx) {
    // What removing a value the RRSet does not hold does is not documented: look first (a value this
    // process added may have been removed by someone else meanwhile; then there is nothing to do).
    if (!(await getRrset(record, zoneId, ctx)).includes(value)) return;
    // 404: the RRSet went away meanwhile, which is what cleanup wants.
    const body = await ctx.json(
      {
        method: 'POST',
        path: `${rrsetPath(record, zoneId)}/actions/remove_records`,
        body: { records: [{ value: quote(value) }] },
      },
      `remove the TXT value from ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    await waitForAction(body.action as Action | undefined, `remove the TXT value from ${record.fqdn}`, ctx);
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error as { code?: unknown; message?: unknown } | undefined;
    if (!error) return undefined;
    return [error.code, error.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
  },
};

/** The TXT values of the RRSet at the record's name (none when the RRSet does not exist). */
async function getRrset(record: TxtRecord, zoneId: string, ctx: RestCallContext): Promise<string[]> {
  const body = await ctx.json(
    { method: 'GET', path: rrsetPath(record, zoneId) },
    `read the TXT RRSet ${record.fqdn}`,
    (s) => (s >= 200 && s < 300) || s === 404,
  );
  const records = (body.rrset as { records?: { value?: unknown }[] } | undefined)?.records ?? [];
  return records.filter((r) => typeof r.value === 'string').map((r) => unquoteTxt(r.value as string));
}

/** RRSet names are relative, lower case, "@" at the apex. */
function rrsetPath(record: TxtRecord, zoneId: string): string {
  const name = record.name === '@' ? '@' : encodeURIComponent(record.name.toLowerCase());
  return `/zones/${encodeURIComponent(zoneId)}/rrsets/${name}/TXT`;
}

/** One quoted character-string (ACME values are 43 characters, no quotes or backslashes). */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Polls GET /actions/{id} until the action is no longer running; a failed action is an error. */
async function waitForAction(first: Action | undefined, what: string, ctx: RestCallContext): Promise<void> {
  let action = first;
  for (let i = 0; action?.status === 'running'; i++) {
    if (i >= ACTION_POLLS)
      throw ctx.fail(`the Hetzner Cloud action to ${what} was still running after ${ACTION_POLLS} s`);
    await ctx.sleep(ACTION_POLL_MS);
    const body = await ctx.json(
      { method: 'GET', path: `/actions/${encodeURIComponent(String(action.id))}` },
      `follow the action to ${what}`,
    );
    action = body.action as Action | undefined;
  }
  if (action?.status === 'error') {
    const e = action.error;
    throw ctx.fail(
      `the Hetzner Cloud action to ${what} failed: ${String(e?.code ?? 'error')}: ${String(e?.message ?? '')}`,
    );
  }
}

export const definition = {
  code: CODE,
  aliases: ['hetznerv1'],
  title: 'Hetzner (Cloud DNS)',
  description:
    'Adds the TXT records through the Hetzner Cloud API (Zones and RRSets), with a Cloud project API token; ' +
    'other values at the name are kept.',
  docsUrl: 'https://docs.hetzner.cloud/reference/cloud#zone-rrset-actions-add-records-to-an-rrset',
  permissions:
    'HETZNER_API_TOKEN: an API token of the Cloud project that holds the zone, with Read & Write permission.',
  example: [
    'HETZNER_API_TOKEN=0123456789abcdef \\',
    "  acmekit --dns hetzner --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'HETZNER',
  // lego's hetzner defaults with HETZNER_API_TOKEN (the Cloud API).
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'HETZNER_API_TOKEN',
      description: 'Hetzner Cloud API token (Read & Write) of the project holding the zone',
      required: true,
      secret: true,
    },
    {
      name: 'HETZNER_API_KEY',
      description:
        'token of the old Hetzner DNS Console API (dns.hetzner.com), which acmekit does not use: ' +
        'move the zone to the Cloud Console and set HETZNER_API_TOKEN',
      secret: true,
    },
    { name: 'HETZNER_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    if (env.string('HETZNER_API_TOKEN') === undefined && env.string('HETZNER_API_KEY') !== undefined) {
      throw new InvalidInputError(
        `${CODE}: HETZNER_API_KEY is a token of the old Hetzner DNS Console API, which acmekit does not support; ` +
          'Hetzner DNS now lives in the Cloud API: create an API token (Read & Write) in the Cloud project ' +
          'holding the zone and set HETZNER_API_TOKEN',
        'HETZNER_API_KEY',
      );
    }
    return {
      token: env.requiredSecret('HETZNER_API_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'HETZNER_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<HetznerConfig>;
