import { isIP } from 'node:net';
import { InvalidInputError } from '../../../errors/base.ts';
import type { Secret } from '../../../internal/secret.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../../definition.ts';
import type { TxtRecord } from '../../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { childrenNamed, find, parseXmlDocument, type XmlNode } from './xml.ts';

// Namecheap API, https://www.namecheap.com/support/api/methods/ (intro and global parameters:
// https://www.namecheap.com/support/api/intro/). Every command goes to one URL with the global parameters
// ApiUser, ApiKey, UserName, ClientIp (the caller's public IP, which must be whitelisted for the key) and
// Command, and is answered with HTTP 200 and <ApiResponse Status="OK|ERROR"> carrying <Errors><Error
// Number="…">. namecheap.domains.dns.getHosts (SLD, TLD) lists every host record of a domain;
// namecheap.domains.dns.setHosts replaces them all ("all host records that are not included into the API
// call will be deleted"): HostName<n>, RecordType<n>, Address<n>, MXPref<n>, TTL<n>, and EmailType. So a
// change reads every record, adds or drops one TXT value, and writes every record back as it was.

const CODE = 'namecheap';
const DEFAULT_API_URL = 'https://api.namecheap.com/xml.response';
const SANDBOX_API_URL = 'https://api.sandbox.namecheap.com/xml.response';
/** Namecheap's own "what is my IP" service, used when NAMECHEAP_CLIENT_IP is unset (as lego does). */
const DEFAULT_IP_LOOKUP_URL = 'https://dynamicdns.park-your-domain.com/getip';
/** Namecheap accepts TTLs from 60 to 60000 seconds. */
const MIN_TTL = 60;
const MAX_TTL = 60_000;
const CREDENTIALS = 'NAMECHEAP_API_USER and NAMECHEAP_API_KEY';
/** Error numbers that mean the key, the user or the calling IP was refused. */
const AUTH_ERRORS: Readonly<Record<string, string>> = {
  '1011102': `check ${CREDENTIALS} (and that API access is enabled for the account)`,
  '1011150':
    'the calling IP is not whitelisted for the API key: add it under Profile → Tools → API Access, or set NAMECHEAP_CLIENT_IP to the whitelisted address',
};

interface NamecheapConfig {
  readonly apiUser: string;
  readonly apiKey: Secret;
  readonly apiUrl: string;
  readonly clientIp: string | undefined;
  readonly ipLookupUrl: string;
}

interface NamecheapRuntime extends NamecheapConfig {
  readonly http: ProviderHttp;
  /** The public IP once known. */
  ip?: Promise<string>;
  /** zone → the last change queued for it: setHosts rewrites the whole domain, so one change at a time. */
  readonly changes: Map<string, Promise<void>>;
}

/** One host record as getHosts lists it, kept whole so setHosts writes it back unchanged. */
interface Host {
  readonly name: string;
  readonly type: string;
  readonly address: string;
  readonly mxPref: string;
  readonly ttl: string;
}

interface Hosts {
  readonly hosts: Host[];
  readonly emailType: string | undefined;
}

async function clientIp(c: NamecheapRuntime, ctx: RestCallContext): Promise<string> {
  if (c.clientIp !== undefined) return c.clientIp;
  c.ip ??= (async () => {
    let text: string;
    try {
      const res = await c.http.request('GET', c.ipLookupUrl, { signal: ctx.signal });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      text = res.body.toString('utf8').trim();
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw ctx.fail(
        `could not find this machine's public IP at ${c.ipLookupUrl} (${(err as Error).message}): set NAMECHEAP_CLIENT_IP ` +
          'to the IP whitelisted for the API key',
      );
    }
    if (isIP(text) === 0)
      throw ctx.fail(
        `${c.ipLookupUrl} did not answer with an IP address: set NAMECHEAP_CLIENT_IP to the IP whitelisted for the API key`,
      );
    return text;
  })();
  c.ip.catch(() => {
    c.ip = undefined;
  });
  return c.ip;
}

/** One command; answers the <CommandResponse> of a Status="OK" answer, or throws what the errors say. */
async function command(
  c: NamecheapRuntime,
  ctx: RestCallContext,
  name: string,
  params: Readonly<Record<string, string>>,
  what: string,
): Promise<XmlNode> {
  const form = new URLSearchParams({
    ApiUser: c.apiUser,
    ApiKey: c.apiKey.reveal(),
    UserName: c.apiUser,
    ClientIp: await clientIp(c, ctx),
    Command: name,
    ...params,
  });
  const res = await ctx.send({
    method: 'POST',
    path: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/xml' },
    rawBody: form.toString(),
  });
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  let doc: XmlNode;
  try {
    doc = parseXmlDocument(res.body.toString('utf8'));
  } catch {
    throw ctx.fail(`the Namecheap API answered ${what} with something other than XML (HTTP ${res.status})`);
  }
  if (doc.attributes.Status === 'OK') {
    const response = find(doc, 'CommandResponse');
    if (response) return response;
  }
  const errors = childrenNamed(find(doc, 'Errors'), 'Error').map((e) => ({
    number: e.attributes.Number ?? '',
    text: e.text.trim(),
  }));
  const words =
    errors.map((e) => `${e.number ? `error ${e.number}: ` : ''}${e.text}`).join('; ') || 'no reason given';
  const auth = errors.map((e) => AUTH_ERRORS[e.number]).find((hint) => hint !== undefined);
  if (auth) throw ctx.fail(`credentials refused while trying to ${what} (${words}): ${auth}`);
  throw ctx.fail(`Namecheap refused to ${what} (${words})`);
}

/** "example.co.uk" → SLD "example", TLD "co.uk". */
function domainParams(zone: string): { SLD: string; TLD: string } {
  const dot = zone.indexOf('.');
  return { SLD: zone.slice(0, dot), TLD: zone.slice(dot + 1) };
}

async function getHosts(c: NamecheapRuntime, zone: string, ctx: RestCallContext): Promise<Hosts> {
  const response = await command(
    c,
    ctx,
    'namecheap.domains.dns.getHosts',
    domainParams(zone),
    `list the host records of ${zone}`,
  );
  const result = find(response, 'DomainDNSGetHostsResult');
  if (!result)
    throw ctx.fail(`the Namecheap API listed the host records of ${zone} without a DomainDNSGetHostsResult`);
  if (result.attributes.IsUsingOurDNS === 'false')
    throw ctx.fail(
      `${zone} does not use Namecheap's nameservers, so its host records cannot be changed through the API`,
    );
  const hosts = result.children
    .filter((h) => h.name.toLowerCase() === 'host')
    .map((h) => ({
      name: h.attributes.Name ?? '',
      type: h.attributes.Type ?? '',
      address: h.attributes.Address ?? '',
      mxPref: h.attributes.MXPref ?? '',
      ttl: h.attributes.TTL ?? '',
    }));
  return { hosts, emailType: result.attributes.EmailType || undefined };
}

async function setHosts(
  c: NamecheapRuntime,
  zone: string,
  all: Hosts,
  ctx: RestCallContext,
  what: string,
): Promise<void> {
  const params: Record<string, string> = { ...domainParams(zone) };
  all.hosts.forEach((h, i) => {
    const n = i + 1;
    params[`HostName${n}`] = h.name;
    params[`RecordType${n}`] = h.type;
    params[`Address${n}`] = h.address;
    if (h.mxPref !== '') params[`MXPref${n}`] = h.mxPref;
    if (h.ttl !== '') params[`TTL${n}`] = h.ttl;
  });
  const emailType = all.emailType ?? (all.hosts.some((h) => h.type === 'MX') ? 'MX' : undefined);
  if (emailType) params.EmailType = emailType;
  const response = await command(c, ctx, 'namecheap.domains.dns.setHosts', params, what);
  if (find(response, 'DomainDNSSetHostsResult')?.attributes.IsSuccess !== 'true')
    throw ctx.fail(`Namecheap did not confirm the change while trying to ${what}`);
}

/** Namecheap names hosts relative to the domain, "@" at the apex. */
function hostName(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

const isOurs = (h: Host, record: TxtRecord) => h.type === 'TXT' && h.name.toLowerCase() === hostName(record);

/** Runs `change` after the changes already queued for the zone in this instance. */
async function oneChangeAtATime(
  c: NamecheapRuntime,
  zone: string,
  change: () => Promise<void>,
): Promise<void> {
  const run = (c.changes.get(zone) ?? Promise.resolve()).then(change);
  const settled = run.catch(() => {});
  c.changes.set(zone, settled);
  try {
    await run;
  } finally {
    if (c.changes.get(zone) === settled) c.changes.delete(zone);
  }
}

const api: RestApi<NamecheapRuntime> = {
  code: CODE,
  apiName: 'Namecheap',
  urlVariable: 'NAMECHEAP_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.apiKey],
  // The credentials are global parameters of each command's form (command), not headers.
  authorize: (_c, req) => req,
  async list(c, record, zone, ctx) {
    return (await getHosts(c, zone, ctx)).hosts
      .filter((h) => isOurs(h, record))
      .map((h) => ({ id: h.address, value: h.address }));
  },
  async create(c, record, zone, ctx) {
    await oneChangeAtATime(c, zone, async () => {
      const all = await getHosts(c, zone, ctx);
      if (all.hosts.some((h) => isOurs(h, record) && h.address === record.value)) return;
      const ttl = String(Math.min(MAX_TTL, Math.max(MIN_TTL, record.ttl)));
      all.hosts.push({ name: hostName(record), type: 'TXT', address: record.value, mxPref: '10', ttl });
      await setHosts(c, zone, all, ctx, `add the TXT record ${record.fqdn}`);
    });
    return record.value;
  },
  async remove(c, record, zone, value, ctx) {
    await oneChangeAtATime(c, zone, async () => {
      const all = await getHosts(c, zone, ctx);
      const kept = all.hosts.filter((h) => !(isOurs(h, record) && h.address === value));
      // Already gone: nothing to write.
      if (kept.length === all.hosts.length) return;
      await setHosts(c, zone, { ...all, hosts: kept }, ctx, `delete the TXT record ${record.fqdn}`);
    });
  },
};

export const definition = {
  code: CODE,
  title: 'Namecheap',
  description:
    'Adds the TXT records through the Namecheap API (getHosts, then setHosts with every host record of the ' +
    'domain kept as it was). The API key must be enabled for API access and the calling IP whitelisted.',
  docsUrl: 'https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/',
  permissions:
    'NAMECHEAP_API_USER / NAMECHEAP_API_KEY: the account user name and its API key (Profile → Tools → API Access); ' +
    "this machine's public IP (or NAMECHEAP_CLIENT_IP) must be on the key's whitelist, and the domains must use " +
    "Namecheap's nameservers.",
  example: [
    'NAMECHEAP_API_USER=user \\',
    'NAMECHEAP_API_KEY=key \\',
    "  acmekit --dns namecheap --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NAMECHEAP',
  // lego's namecheap defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 3_600_000, pollingIntervalMs: 15_000, httpTimeoutMs: 60_000 },
  env: [
    { name: 'NAMECHEAP_API_USER', description: 'API user (the account user name)', required: true },
    { name: 'NAMECHEAP_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'NAMECHEAP_SANDBOX', description: "use Namecheap's sandbox API", default: 'false' },
    {
      name: 'NAMECHEAP_CLIENT_IP',
      description: "this machine's public IP as whitelisted for the key (default: looked up, as lego does)",
    },
    {
      name: 'NAMECHEAP_IP_LOOKUP_URL',
      description: 'where the public IP is looked up when NAMECHEAP_CLIENT_IP is unset',
      default: DEFAULT_IP_LOOKUP_URL,
    },
    {
      name: 'NAMECHEAP_API_URL',
      description: 'API URL, for tests or a proxy (default: the production or sandbox API)',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    const clientIp = env.string('NAMECHEAP_CLIENT_IP');
    if (clientIp !== undefined && isIP(clientIp) === 0)
      throw new InvalidInputError(
        `${CODE}: NAMECHEAP_CLIENT_IP must be an IP address, got ${JSON.stringify(clientIp)}`,
        clientIp,
      );
    const sandbox = env.bool('NAMECHEAP_SANDBOX', false);
    return {
      apiUser: env.required('NAMECHEAP_API_USER'),
      apiKey: env.requiredSecret('NAMECHEAP_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'NAMECHEAP_API_URL', sandbox ? SANDBOX_API_URL : DEFAULT_API_URL),
      clientIp,
      ipLookupUrl: apiUrlSetting(env, CODE, 'NAMECHEAP_IP_LOOKUP_URL', DEFAULT_IP_LOOKUP_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, http: deps.http, changes: new Map() }, deps);
  },
} satisfies DnsProviderDefinition<NamecheapConfig>;
