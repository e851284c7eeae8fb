import { createHmac } from 'node:crypto';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  type RestRequest,
  unquoteTxt,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Exoscale API v2, DNS: https://openapi-v2.exoscale.com/ (record operations:
// https://openapi-v2.exoscale.com/operation/operation-create-dns-domain-record), requests signed as
// https://openapi-v2.exoscale.com/topic/topic-api-request-signature describes: HMAC-SHA256 with the API
// secret over "METHOD path", the body, the values of the signed query parameters, the signed header
// values (none) and the expiry, each on its own line; sent as "EXO2-HMAC-SHA256 credential=…,expires=…,
// signature=…". Changes answer with an operation, which may still be pending.

const CODE = 'exoscale';
const DEFAULT_ENDPOINT = 'https://api-ch-gva-2.exoscale.com/v2';
/** How long a signature stays valid. */
const SIGNATURE_LIFETIME_S = 600;
/** A pending operation is looked at this often, this many times. */
const OPERATION_POLL_MS = 1000;
const OPERATION_POLLS = 60;

interface ExoscaleConfig {
  readonly key: string;
  readonly secret: Secret;
  readonly endpoint: string;
}

/** The Authorization header for a request; `now` in milliseconds. */
export function exoscaleAuthorization(
  key: string,
  secret: string,
  method: string,
  urlPath: string,
  query: URLSearchParams,
  body: string,
  now: number,
): string {
  const expires = Math.floor(now / 1000) + SIGNATURE_LIFETIME_S;
  const names = [...query.keys()];
  const message = [
    `${method} ${urlPath}`,
    body,
    names.map((n) => query.get(n) ?? '').join(''),
    '',
    String(expires),
  ].join('\n');
  const signature = createHmac('sha256', secret).update(message, 'utf8').digest('base64');
  return (
    `EXO2-HMAC-SHA256 credential=${key}` +
    (names.length > 0 ? `,signed-query-args=${names.join(';')}` : '') +
    `,expires=${expires},signature=${signature}`
  );
}

function sign(c: ExoscaleConfig, req: RestRequest, now: number): RestRequest {
  const url = new URL(`${c.endpoint}${req.path}`);
  const body = req.rawBody ?? (req.body === undefined ? '' : JSON.stringify(req.body));
  const authorization = exoscaleAuthorization(
    c.key,
    c.secret.reveal(),
    req.method,
    url.pathname,
    url.searchParams,
    body,
    now,
  );
  // The body is sent exactly as signed.
  return {
    ...req,
    headers: {
      ...req.headers,
      authorization,
      ...(body !== '' ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== '' ? { rawBody: body } : {}),
  };
}

/** Waits for an operation to finish; its record id when it names one. */
async function settle(
  op: Record<string, unknown>,
  what: string,
  ctx: RestCallContext,
): Promise<string | undefined> {
  let current = op;
  for (let i = 0; current.state === 'pending' && i < OPERATION_POLLS; i++) {
    await ctx.sleep(OPERATION_POLL_MS);
    current = await ctx.json(
      { method: 'GET', path: `/operation/${encodeURIComponent(String(current.id))}` },
      `follow the operation that will ${what}`,
    );
  }
  if (current.state === 'pending')
    throw ctx.fail(`the operation that would ${what} was still pending after ${OPERATION_POLLS} s`);
  if (current.state !== 'success') {
    const detail = [current.reason, current.message].filter((x) => typeof x === 'string' && x).join(': ');
    throw ctx.fail(
      `Exoscale could not ${what} (operation ${String(current.state)}${detail ? `, ${detail}` : ''})`,
    );
  }
  const ref = current.reference as { id?: unknown } | undefined;
  return typeof ref?.id === 'string' ? ref.id : undefined;
}

/** A domain name as the core names zones: lower case, IDN labels in punycode. */
function ascii(name: string): string | undefined {
  try {
    return new URL(`https://${name}`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

/** Exoscale names records relative to the domain; the apex is the empty name. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '' : record.name.toLowerCase();
}

const api: RestApi<ExoscaleConfig> = {
  code: CODE,
  apiName: 'Exoscale',
  urlVariable: 'EXOSCALE_ENDPOINT',
  credentialVariables: 'EXOSCALE_API_KEY and EXOSCALE_API_SECRET (an API key whose role may manage DNS)',
  baseUrl: (c) => c.endpoint,
  secrets: (c) => [c.secret],
  authorize: (c, req, clock) => sign(c, req, clock.now()),
  async zoneRef(_c, zone, ctx) {
    const body = await ctx.json({ method: 'GET', path: '/dns-domain' }, 'list the DNS domains');
    const domains = Array.isArray(body['dns-domains'])
      ? (body['dns-domains'] as { id?: unknown; 'unicode-name'?: unknown }[])
      : [];
    const found = domains.find(
      (d) => typeof d['unicode-name'] === 'string' && ascii(d['unicode-name']) === zone,
    );
    if (typeof found?.id !== 'string')
      throw ctx.fail(
        `domain ${zone} is not in the Exoscale organization of EXOSCALE_API_KEY: add it under DNS`,
      );
    return found.id;
  },
  async list(_c, record, domainId, ctx) {
    const body = await ctx.json(
      { method: 'GET', path: `/dns-domain/${domainId}/record` },
      `list the records of domain ${domainId}`,
    );
    const name = relative(record);
    const found: ListedTxt[] = [];
    for (const r of (body['dns-domain-records'] as
      | { id?: unknown; name?: unknown; type?: unknown; content?: unknown }[]
      | undefined) ?? []) {
      if (
        r.type === 'TXT' &&
        typeof r.name === 'string' &&
        r.name.toLowerCase() === name &&
        typeof r.id === 'string' &&
        typeof r.content === 'string'
      )
        found.push({ id: r.id, value: unquoteTxt(r.content) });
    }
    return found;
  },
  async create(_c, record, domainId, ctx) {
    const what = `create the TXT record ${record.fqdn}`;
    const op = await ctx.json(
      {
        method: 'POST',
        path: `/dns-domain/${domainId}/record`,
        body: { name: relative(record), type: 'TXT', content: record.value, ttl: record.ttl },
      },
      what,
    );
    return settle(op, what, ctx);
  },
  async remove(_c, record, domainId, id, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    const res = await ctx.send({ method: 'DELETE', path: `/dns-domain/${domainId}/record/${id}` });
    // 404: already gone, which is what cleanup wants.
    if (res.status === 404) return;
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    await settle(parseJsonObject(res.body) ?? {}, what, ctx);
  },
};

export const definition = {
  code: CODE,
  title: 'Exoscale',
  description:
    'Adds the TXT records through the Exoscale API v2 (DNS), with an API key and secret (EXO2-HMAC-SHA256 request signatures).',
  docsUrl: 'https://openapi-v2.exoscale.com/',
  permissions:
    'EXOSCALE_API_KEY / EXOSCALE_API_SECRET: an IAM API key whose role allows the dns service ' +
    '(list-dns-domains, list-dns-domain-records, create-dns-domain-record, delete-dns-domain-record, get-operation).',
  example: [
    'EXOSCALE_API_KEY=EXOabcdefghijklmnopqrstuvwx \\',
    'EXOSCALE_API_SECRET=xxxxxxx \\',
    "  acmekit --dns exoscale --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'EXOSCALE',
  // lego's exoscale defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 60_000 },
  env: [
    { name: 'EXOSCALE_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'EXOSCALE_API_SECRET', description: 'API secret', required: true, secret: true },
    {
      name: 'EXOSCALE_ENDPOINT',
      description: 'API endpoint URL (the zone of the API: any, DNS is global)',
      default: DEFAULT_ENDPOINT,
    },
  ],
  configure(env) {
    return {
      key: env.required('EXOSCALE_API_KEY'),
      secret: env.requiredSecret('EXOSCALE_API_SECRET'),
      endpoint: apiUrlSetting(env, CODE, 'EXOSCALE_ENDPOINT', DEFAULT_ENDPOINT),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<ExoscaleConfig>;
