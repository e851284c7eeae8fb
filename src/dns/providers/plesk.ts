import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { unFqdn } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { child, childrenNamed, escapeXml, parseXml, textAt, type XmlElement } from './route53/xml.ts';

// Plesk XML API (XML-RPC): https://docs.plesk.com/en-US/obsidian/api-rpc/about-xml-api/reference.28784/
// One endpoint, POST /enterprise/control/agent.php, with a <packet> in the body (Content-Type text/xml)
// and the login in the HTTP_AUTH_LOGIN and HTTP_AUTH_PASSWD headers. site/get (filter by name) gives the
// site id of the zone; dns/get_rec (filter by site-id), dns/add_rec (site-id, type, host, value) and
// dns/del_rec (filter by id) manage the records. Every answer is HTTP 200: a failure is a <result> with
// status error, errcode and errtext, or a <system> error for the whole packet (1001: wrong login).
// Plesk has no TTL per record (the zone's SOA sets it).

const CODE = 'plesk';
const AGENT = '/enterprise/control/agent.php';
const LOGIN_FAILED = '1001';
const NOT_FOUND = '1013';

interface PleskConfig {
  readonly username: string;
  readonly password: Secret;
  readonly baseUrl: string;
}

const api: RestApi<PleskConfig> = {
  code: CODE,
  apiName: 'Plesk',
  urlVariable: 'PLESK_SERVER_BASE_URL',
  credentialVariables: 'PLESK_USERNAME and PLESK_PASSWORD',
  baseUrl: (c) => c.baseUrl,
  secrets: (c) => [c.password],
  authorize: (c, req) =>
    withHeaders(req, { HTTP_AUTH_LOGIN: c.username, HTTP_AUTH_PASSWD: c.password.reveal() }),
  async zoneRef(_c, zone, ctx) {
    const result = await operation(
      ctx,
      'site',
      'get',
      `<filter><name>${escapeXml(zone)}</name></filter><dataset><gen_info/></dataset>`,
      `find the site ${zone}`,
    );
    if (result.status !== 'ok' && result.errcode === NOT_FOUND)
      throw ctx.fail(
        `site ${zone} does not exist in Plesk (${result.errtext}): the zone must be a domain of the ` +
          'subscriptions PLESK_USERNAME manages',
      );
    const id = textAt(result.element, 'id');
    if (result.status !== 'ok' || !id || !/^\d+$/.test(id))
      throw refusal(ctx, result, `find the site ${zone}`);
    return id;
  },
  async list(_c, record, siteId, ctx) {
    const results = await operations(
      ctx,
      'dns',
      'get_rec',
      `<filter><site-id>${siteId}</site-id></filter>`,
      `list the DNS records of ${record.zone}`,
    );
    const want = unFqdn(record.fqdn).toLowerCase();
    const zone = unFqdn(record.zone).toLowerCase();
    const found = [];
    for (const r of results) {
      if (r.status !== 'ok') throw refusal(ctx, r, `list the DNS records of ${record.zone}`);
      const data = child(r.element, 'data');
      const id = textAt(r.element, 'id');
      const host = (textAt(data, 'host') ?? '').toLowerCase().replace(/\.$/, '');
      if (textAt(data, 'type') !== 'TXT' || !id) continue;
      // Plesk answers with the full name; a bare relative one is read in the zone all the same.
      if (host !== want && `${host}.${zone}` !== want && !(host === '' && want === zone)) continue;
      found.push({ id, value: textAt(data, 'value') ?? '' });
    }
    return found;
  },
  async create(_c, record, siteId, ctx) {
    const host = record.name === '@' ? '' : record.name.toLowerCase();
    const [result] = await operations(
      ctx,
      'dns',
      'add_rec',
      `<site-id>${siteId}</site-id><type>TXT</type><host>${escapeXml(host)}</host><value>${escapeXml(record.value)}</value>`,
      `add the TXT record ${record.fqdn}`,
    );
    if (result?.status !== 'ok') throw refusal(ctx, result, `add the TXT record ${record.fqdn}`);
    return textAt(result.element, 'id');
  },
  async remove(_c, record, _siteId, id, ctx) {
    const [result] = await operations(
      ctx,
      'dns',
      'del_rec',
      `<filter><id>${escapeXml(id)}</id></filter>`,
      `delete the TXT record ${record.fqdn}`,
    );
    // No result, or "does not exist": already gone, which is what cleanup wants.
    if (!result || result.status === 'ok' || result.errcode === NOT_FOUND) return;
    throw refusal(ctx, result, `delete the TXT record ${record.fqdn}`);
  },
  errorDetail(body) {
    try {
      const packet = parseXml(body.toString('utf8'));
      const text = textAt(child(packet, 'system'), 'errtext');
      if (text) return text;
    } catch {
      // Not XML: an HTML error page.
    }
    return undefined;
  },
};

interface Result {
  readonly element: XmlElement;
  readonly status: string;
  readonly errcode: string | undefined;
  readonly errtext: string;
}

/** Sends one operation and returns its first <result> (a get with nothing found has none). */
async function operation(
  ctx: RestCallContext,
  operator: string,
  op: string,
  inner: string,
  what: string,
): Promise<Result> {
  const [first] = await operations(ctx, operator, op, inner, what);
  if (!first) throw ctx.fail(`Plesk answered without a result while trying to ${what}`);
  return first;
}

/** Sends <packet><operator><op>inner</op></operator></packet> and returns the operation's <result>s. */
async function operations(
  ctx: RestCallContext,
  operator: string,
  op: string,
  inner: string,
  what: string,
): Promise<Result[]> {
  const res = await ctx.send({
    method: 'POST',
    path: AGENT,
    headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
    rawBody: `<?xml version="1.0" encoding="UTF-8"?>\n<packet><${operator}><${op}>${inner}</${op}></${operator}></packet>`,
  });
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  let packet: XmlElement;
  try {
    packet = parseXml(res.body.toString('utf8'));
  } catch {
    throw ctx.fail(
      `the Plesk API answered with something other than XML while trying to ${what} (HTTP ${res.status})`,
    );
  }
  const system = child(packet, 'system');
  if (system) {
    const code = textAt(system, 'errcode');
    const text = textAt(system, 'errtext') ?? '';
    if (code === LOGIN_FAILED)
      throw ctx.fail(
        `credentials refused while trying to ${what} (${text}): check PLESK_USERNAME and PLESK_PASSWORD`,
      );
    throw ctx.fail(`Plesk refused the request to ${what} (error ${code ?? '?'}: ${text})`);
  }
  return childrenNamed(child(child(packet, operator), op), 'result').map((element) => ({
    element,
    status: textAt(element, 'status') ?? '',
    errcode: textAt(element, 'errcode'),
    errtext: textAt(element, 'errtext') ?? '',
  }));
}

function refusal(ctx: RestCallContext, result: Result | undefined, what: string) {
  if (!result) return ctx.fail(`Plesk answered without a result while trying to ${what}`);
  if (/permission|access|not allowed|denied/i.test(result.errtext))
    return ctx.fail(
      `Plesk refused to ${what} (error ${result.errcode}: ${result.errtext}): PLESK_USERNAME needs the ` +
        'permission to manage the DNS zone',
    );
  return ctx.fail(
    `Plesk refused to ${what} (error ${result.errcode ?? '?'}: ${result.errtext || result.status})`,
  );
}

export const definition = {
  code: CODE,
  title: 'Plesk',
  description:
    "Adds the TXT records through Plesk's XML API (site get, dns add_rec, get_rec and del_rec) with a Plesk " +
    'login. Plesk has no TTL per record: the zone SOA sets it.',
  docsUrl: 'https://docs.plesk.com/en-US/obsidian/api-rpc/about-xml-api/reference/managing-dns.34756/',
  permissions:
    'PLESK_USERNAME and PLESK_PASSWORD: the administrator, or a reseller or customer allowed to manage the DNS ' +
    'zone of the domain.',
  example: [
    'PLESK_SERVER_BASE_URL=https://plesk.example.com:8443 PLESK_USERNAME=admin PLESK_PASSWORD=secret \\',
    "  acmekit --dns plesk --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'PLESK',
  // lego's plesk defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'PLESK_SERVER_BASE_URL',
      description: 'URL of the Plesk server, e.g. https://plesk.example.com:8443',
      required: true,
    },
    { name: 'PLESK_USERNAME', description: 'Plesk login', required: true },
    { name: 'PLESK_PASSWORD', description: 'its password', required: true, secret: true },
  ],
  configure(env) {
    return {
      username: env.required('PLESK_USERNAME'),
      password: env.requiredSecret('PLESK_PASSWORD'),
      baseUrl: apiUrlSetting(env, CODE, 'PLESK_SERVER_BASE_URL', env.required('PLESK_SERVER_BASE_URL')),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<PleskConfig>;
