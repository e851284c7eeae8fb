import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// netcup CCP API (DNS part), JSON flavour: https://www.netcup-wiki.de/wiki/DNS_API and the endpoint's own
// reference, https://ccp.netcup.net/run/webservice/servers/endpoint.php. Every call is a POST of
// {"action": ..., "param": {...}} to one URL and is answered with HTTP 200 and a response message whose
// `status` ("success", "error", …) and `statuscode` (2000 for success) say how it went. `login` with the
// customer number, API key and API password opens a session (`apisessionid`) that later calls carry with
// the customer number and API key. `infoDnsRecords` lists a zone's records; `updateDnsRecords` adds the
// records it is given without an id and deletes those given with their id and `deleterecord: true`,
// leaving every other record as it is. The TTL is the zone's, not the record's.

const CODE = 'netcup';
const DEFAULT_API_URL = 'https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON';
/** netcup closes an idle session after 15 minutes; a new one is opened a little before. */
const SESSION_IDLE_MS = 14 * 60_000;
/** The status code of a call that needs a (new) session. */
const SESSION_INVALID = 4001;
/** infoDnsRecords on a zone that holds no record at all. */
const ZONE_WITHOUT_RECORDS = 5029;

interface NetcupConfig {
  readonly customerNumber: string;
  readonly apiKey: Secret;
  readonly apiPassword: Secret;
  readonly apiUrl: string;
}

interface NetcupRuntime extends NetcupConfig {
  /** The open session of this provider instance, and when it was last used. */
  readonly session: { id?: Secret; usedAt: number; opening?: Promise<Secret> };
}

interface Answer {
  readonly status: string;
  readonly statuscode: number;
  readonly text: string;
  readonly data: Record<string, unknown> | undefined;
}

interface NetcupRecord {
  readonly id?: unknown;
  readonly hostname?: unknown;
  readonly type?: unknown;
  readonly priority?: unknown;
  readonly destination?: unknown;
}

const CREDENTIALS = 'NETCUP_CUSTOMER_NUMBER, NETCUP_API_KEY and NETCUP_API_PASSWORD';

/** One action; the HTTP status is 200 whatever happened, so the answer's own status is returned. */
async function action(
  ctx: RestCallContext,
  name: string,
  param: Record<string, unknown>,
  what: string,
): Promise<Answer> {
  const body = await ctx.json({ method: 'POST', path: '', body: { action: name, param } }, what);
  const data = body.responsedata;
  return {
    status: String(body.status ?? ''),
    statuscode: Number(body.statuscode ?? 0),
    text: [body.shortmessage, body.longmessage]
      .filter((t) => typeof t === 'string' && t.trim() !== '')
      .map((t) => String(t).trim())
      .join(' ')
      .slice(0, 300),
    data:
      data && typeof data === 'object' && !Array.isArray(data)
        ? (data as Record<string, unknown>)
        : undefined,
  };
}

async function openSession(c: NetcupRuntime, ctx: RestCallContext): Promise<Secret> {
  const answer = await action(
    ctx,
    'login',
    {
      customernumber: c.customerNumber,
      apikey: c.apiKey.reveal(),
      apipassword: c.apiPassword.reveal(),
    },
    'log in',
  );
  const id = answer.data?.apisessionid;
  if (answer.status !== 'success' || typeof id !== 'string' || id === '')
    throw ctx.fail(
      `credentials refused by the netcup login (status ${answer.statuscode}${answer.text ? `, ${answer.text}` : ''}): ` +
        `check ${CREDENTIALS} (CCP → Master Data → API)`,
    );
  return new Secret(id);
}

async function session(c: NetcupRuntime, ctx: RestCallContext, now: number): Promise<Secret> {
  const s = c.session;
  if (s.id && now - s.usedAt < SESSION_IDLE_MS) return s.id;
  s.opening ??= openSession(c, ctx).finally(() => {
    s.opening = undefined;
  });
  s.id = await s.opening;
  s.usedAt = now;
  return s.id;
}

/** An action within the session; a session netcup no longer knows is opened again once. */
async function sessionAction(
  c: NetcupRuntime,
  ctx: RestCallContext,
  name: string,
  param: Record<string, unknown>,
  what: string,
): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const id = await session(c, ctx, Date.now());
    const answer = await action(
      ctx,
      name,
      { customernumber: c.customerNumber, apikey: c.apiKey.reveal(), apisessionid: id.reveal(), ...param },
      what,
    );
    if (answer.statuscode === SESSION_INVALID && attempt === 0) {
      if (c.session.id === id) c.session.id = undefined;
      continue;
    }
    c.session.usedAt = Date.now();
    return answer;
  }
}

function refusedBy(ctx: RestCallContext, answer: Answer, what: string) {
  const zoneCodes = [5028, ZONE_WITHOUT_RECORDS];
  return ctx.fail(
    `netcup refused to ${what} (status ${answer.statuscode}${answer.text ? `, ${answer.text}` : ''})` +
      (zoneCodes.includes(answer.statuscode)
        ? ': check that the domain is one of customer NETCUP_CUSTOMER_NUMBER and uses netcup nameservers'
        : ''),
  );
}

/** netcup names hosts relative to the zone, "@" at the apex. */
function hostname(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

async function records(c: NetcupRuntime, zone: string, ctx: RestCallContext): Promise<NetcupRecord[]> {
  const what = `list the DNS records of ${zone}`;
  const answer = await sessionAction(c, ctx, 'infoDnsRecords', { domainname: zone }, what);
  if (answer.status !== 'success') {
    if (answer.statuscode === ZONE_WITHOUT_RECORDS) return [];
    throw refusedBy(ctx, answer, what);
  }
  const list = answer.data?.dnsrecords;
  return Array.isArray(list) ? (list as NetcupRecord[]) : [];
}

function isOurTxt(r: NetcupRecord, record: TxtRecord): boolean {
  return r.type === 'TXT' && String(r.hostname).toLowerCase() === hostname(record);
}

const api: RestApi<NetcupRuntime> = {
  code: CODE,
  apiName: 'netcup CCP',
  urlVariable: 'NETCUP_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey, c.apiPassword, ...(c.session.id ? [c.session.id] : [])],
  // The credentials travel in each action's parameters (sessionAction), not in headers.
  authorize: (_c, req) => req,
  async list(c, record, zone, ctx) {
    return (await records(c, zone, ctx))
      .filter((r) => isOurTxt(r, record) && r.id !== undefined)
      .map((r): ListedTxt => ({ id: String(r.id), value: String(r.destination) }));
  },
  async create(c, record, zone, ctx) {
    const what = `create the TXT record ${record.fqdn}`;
    const answer = await sessionAction(
      c,
      ctx,
      'updateDnsRecords',
      {
        domainname: zone,
        dnsrecordset: {
          dnsrecords: [{ hostname: hostname(record), type: 'TXT', priority: '', destination: record.value }],
        },
      },
      what,
    );
    if (answer.status !== 'success') throw refusedBy(ctx, answer, what);
    const after = answer.data?.dnsrecords;
    const made = (Array.isArray(after) ? (after as NetcupRecord[]) : []).find(
      (r) => isOurTxt(r, record) && r.destination === record.value,
    );
    return made?.id !== undefined ? String(made.id) : undefined;
  },
  async remove(c, record, zone, id, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    // The delete names the record by id and repeats its fields; a record already gone is what cleanup wants.
    const current = (await records(c, zone, ctx)).find((r) => String(r.id) === id);
    if (!current) return;
    const answer = await sessionAction(
      c,
      ctx,
      'updateDnsRecords',
      {
        domainname: zone,
        dnsrecordset: {
          dnsrecords: [
            {
              id,
              hostname: String(current.hostname),
              type: 'TXT',
              priority: String(current.priority ?? ''),
              destination: String(current.destination),
              deleterecord: true,
            },
          ],
        },
      },
      what,
    );
    if (answer.status !== 'success') throw refusedBy(ctx, answer, what);
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    return typeof json?.longmessage === 'string' ? json.longmessage : undefined;
  },
};

export const definition = {
  code: CODE,
  title: 'netcup',
  description:
    'Adds the TXT records through the netcup CCP DNS API (JSON), in a session opened with the customer number, ' +
    'API key and API password.',
  docsUrl: 'https://www.netcup-wiki.de/wiki/DNS_API',
  permissions:
    'An API key and API password created in the netcup CCP (Master Data → API) of the customer that owns the ' +
    'domains; the domains must use netcup nameservers.',
  example: [
    'NETCUP_CUSTOMER_NUMBER=12345 \\',
    'NETCUP_API_KEY=yyyy \\',
    'NETCUP_API_PASSWORD=zzzz \\',
    "  acmekit --dns netcup --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NETCUP',
  // lego's netcup defaults: netcup's nameservers take several minutes to pick a change up.
  defaults: { propagationTimeoutMs: 900_000, pollingIntervalMs: 30_000, httpTimeoutMs: 10_000 },
  env: [
    { name: 'NETCUP_CUSTOMER_NUMBER', description: 'customer number', required: true },
    { name: 'NETCUP_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'NETCUP_API_PASSWORD', description: 'API password', required: true, secret: true },
    { name: 'NETCUP_API_URL', description: 'API endpoint, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      customerNumber: env.required('NETCUP_CUSTOMER_NUMBER'),
      apiKey: env.requiredSecret('NETCUP_API_KEY'),
      apiPassword: env.requiredSecret('NETCUP_API_PASSWORD'),
      apiUrl: apiUrlSetting(env, CODE, 'NETCUP_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, session: { usedAt: 0 } }, deps);
  },
} satisfies DnsProviderDefinition<NetcupConfig>;
