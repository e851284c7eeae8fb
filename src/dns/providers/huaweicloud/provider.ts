import { InvalidInputError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import type { Clock } from '../../../internal/clock.ts';
import { redactSecrets } from '../../../internal/redact.ts';
import type { Secret } from '../../../internal/secret.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import { type TxtRecord, toFqdn } from '../../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, unquoteTxt } from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { signHuaweiRequest } from './signer.ts';

// Huawei Cloud DNS API v2 (https://support.huaweicloud.com/intl/en-us/api-dns/dns_api_64001.html: public
// zones, https://support.huaweicloud.com/intl/en-us/api-dns/dns_api_64003.html: record sets), called with
// AK/SK signatures (signer.ts). A regional endpoint, dns.<region>.myhuaweicloud.com, takes the project of
// the region in X-Project-Id; the project id comes from IAM (GET /v3/projects?name=<region>, signed the
// same way). A record set holds every TXT value of one name: present and cleanup read it and write it back
// (POST when new, PUT with the values, DELETE when the last one goes); changes are asynchronous (status
// PENDING_CREATE / PENDING_UPDATE, then ACTIVE), so a write waits for ACTIVE as lego does.

const CODE = 'huaweicloud';
const PAGE = 500;
const MAX_PAGES = 50;
/** Polls of a record set's status after a write, one second apart. */
const MAX_STATUS_POLLS = 60;
/** Retries of IAM's 429 and 5xx answers. */
const IAM_RETRIES = 3;
const CREDENTIALS = 'HUAWEICLOUD_ACCESS_KEY_ID and HUAWEICLOUD_SECRET_ACCESS_KEY';

interface HuaweiConfig {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
  readonly region: string;
  readonly apiUrl: string;
  readonly iamUrl: string;
}

interface HuaweiRuntime extends HuaweiConfig {
  readonly http: ProviderHttp;
  project?: Promise<string>;
}

interface RecordSet {
  readonly id: string;
  readonly name: string;
  readonly ttl: number;
  readonly records: string[];
  readonly status: string;
}

/** Signs one request: content-type, host, X-Sdk-Date and (for DNS calls) X-Project-Id. */
function signed(
  c: HuaweiConfig,
  base: string,
  method: string,
  path: string,
  body: string,
  clock: Clock,
  projectId: string | undefined,
): Record<string, string> {
  const url = new URL(`${base}${path}`);
  return signHuaweiRequest(
    {
      method,
      host: url.host,
      path: `${url.pathname}${url.search}`,
      headers: {
        'content-type': 'application/json',
        ...(projectId !== undefined ? { 'x-project-id': projectId } : {}),
      },
      body,
    },
    { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    new Date(clock.now()),
  ).headers;
}

/** The words of a Huawei error body: DNS's {code, message} or the API gateway's {error_code, error_msg}. */
function errorWords(body: Buffer): string | undefined {
  const json = parseJsonObject(body);
  if (!json) return undefined;
  const code = json.code ?? json.error_code;
  const message = json.message ?? json.error_msg;
  const text = [code, message].filter((x) => typeof x === 'string' && x).join(': ');
  return text || undefined;
}

/** The project of the region, from IAM; once per instance. */
function projectOf(
  c: HuaweiRuntime,
  clock: Clock,
  operation: DnsOperation,
  signal: AbortSignal,
): Promise<string> {
  c.project ??= (async () => {
    const fail = (message: string, status?: number, cause?: unknown) =>
      new DnsProviderError(CODE, operation, redactSecrets(message, [c.secretAccessKey]), {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    const path = `/v3/projects?name=${encodeURIComponent(c.region)}`;
    let res: HttpResponse;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await c.http.request('GET', `${c.iamUrl}${path}`, {
          headers: { accept: 'application/json', ...signed(c, c.iamUrl, 'GET', path, '', clock, undefined) },
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw fail(
          `Huawei Cloud IAM did not answer: ${(err as Error).message}; check the network, the proxy settings and HUAWEICLOUD_IAM_URL`,
          undefined,
          err,
        );
      }
      if ((res.status !== 429 && res.status < 500) || attempt >= IAM_RETRIES) break;
      await clock.sleep(1000 * 2 ** attempt, signal);
    }
    const words = errorWords(res.body);
    if (res.status === 401 || res.status === 403)
      throw fail(
        `credentials refused by Huawei Cloud IAM while looking up the project of ${c.region} (HTTP ${res.status}${words ? `, ${words}` : ''}): check ${CREDENTIALS}`,
        res.status,
      );
    if (res.status !== 200)
      throw fail(
        `Huawei Cloud IAM could not list the projects of ${c.region} (HTTP ${res.status}${words ? `, ${words}` : ''}); try again in a few minutes`,
        res.status,
      );
    const projects = parseJsonObject(res.body)?.projects;
    const found = (Array.isArray(projects) ? (projects as { id?: unknown; name?: unknown }[]) : []).find(
      (p) => p.name === c.region && typeof p.id === 'string',
    );
    if (!found)
      throw fail(
        `the account of HUAWEICLOUD_ACCESS_KEY_ID has no project for region ${c.region}: check HUAWEICLOUD_REGION`,
      );
    return found.id as string;
  })();
  c.project.catch(() => {
    c.project = undefined;
  });
  return c.project;
}

async function recordSet(
  zoneId: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<RecordSet | undefined> {
  const fqdn = toFqdn(record.fqdn).toLowerCase();
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await ctx.json(
      {
        method: 'GET',
        path: `/v2/zones/${zoneId}/recordsets?type=TXT&name=${encodeURIComponent(fqdn)}&limit=${PAGE}&offset=${page * PAGE}`,
      },
      `list the TXT record sets at ${record.fqdn}`,
    );
    const sets = Array.isArray(body.recordsets) ? (body.recordsets as Record<string, unknown>[]) : [];
    const found = sets.find((s) => s.type === 'TXT' && String(s.name).toLowerCase() === fqdn);
    if (found)
      return {
        id: String(found.id),
        name: String(found.name),
        ttl: Number(found.ttl),
        records: Array.isArray(found.records) ? found.records.map(String) : [],
        status: String(found.status ?? ''),
      };
    const total = Number((body.metadata as { total_count?: unknown } | undefined)?.total_count ?? 0);
    if (sets.length === 0 || (page + 1) * PAGE >= total) return undefined;
  }
  return undefined;
}

/** Waits while Huawei Cloud works on the record set (PENDING_*), as lego does after a write. */
async function untilActive(
  zoneId: string,
  id: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<void> {
  for (let poll = 0; poll < MAX_STATUS_POLLS; poll++) {
    const res = await ctx.send({ method: 'GET', path: `/v2/zones/${zoneId}/recordsets/${id}` });
    if (res.status === 404) return;
    if (res.status !== 200) throw ctx.refused(res, `read the status of the record set ${record.fqdn}`);
    const status = String(parseJsonObject(res.body)?.status ?? '');
    if (status === 'ERROR')
      throw ctx.fail(
        `Huawei Cloud could not apply the change to the record set ${record.fqdn} (status ERROR)`,
      );
    if (!status.startsWith('PENDING')) return;
    await ctx.sleep(1000);
  }
  throw ctx.fail(
    `the record set ${record.fqdn} was still pending after ${MAX_STATUS_POLLS} s; try again later`,
  );
}

const quoted = (value: string) => JSON.stringify(value);

const api: RestApi<HuaweiRuntime> = {
  code: CODE,
  apiName: 'Huawei Cloud DNS',
  urlVariable: 'HUAWEICLOUD_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.secretAccessKey],
  async authorize(c, req, clock, call) {
    const projectId = await projectOf(c, clock, call.operation, call.signal);
    const body = req.rawBody ?? (req.body !== undefined ? JSON.stringify(req.body) : '');
    const { body: _json, ...rest } = req;
    return {
      ...rest,
      ...(body !== '' ? { rawBody: body } : {}),
      headers: { ...req.headers, ...signed(c, c.apiUrl, req.method, req.path, body, clock, projectId) },
    };
  },
  async zoneRef(_c, zone, ctx) {
    const wanted = `${zone}.`;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await ctx.json(
        {
          method: 'GET',
          path: `/v2/zones?type=public&name=${encodeURIComponent(zone)}&limit=${PAGE}&offset=${page * PAGE}`,
        },
        `find the public zone ${zone}`,
      );
      const zones = Array.isArray(body.zones) ? (body.zones as { id?: unknown; name?: unknown }[]) : [];
      const found = zones.find((z) => String(z.name).toLowerCase() === wanted && typeof z.id === 'string');
      if (found) return found.id as string;
      const total = Number((body.metadata as { total_count?: unknown } | undefined)?.total_count ?? 0);
      if (zones.length === 0 || (page + 1) * PAGE >= total) break;
    }
    throw ctx.fail(
      `public zone ${zone} is not in the Huawei Cloud account of HUAWEICLOUD_ACCESS_KEY_ID (region HUAWEICLOUD_REGION): add it under DNS → Public Zones`,
    );
  },
  async list(_c, record, zoneId, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    return (set?.records ?? []).map((r) => ({ id: unquoteTxt(r), value: unquoteTxt(r) }));
  },
  async create(_c, record, zoneId, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    const what = `write the TXT record set ${record.fqdn}`;
    let id: string;
    if (!set) {
      const made = await ctx.json(
        {
          method: 'POST',
          path: `/v2/zones/${zoneId}/recordsets`,
          body: {
            name: toFqdn(record.fqdn).toLowerCase(),
            type: 'TXT',
            ttl: record.ttl,
            records: [quoted(record.value)],
            description: 'ACME dns-01 challenge (acmekit)',
          },
        },
        what,
      );
      id = String(made.id);
    } else {
      if (set.records.some((r) => unquoteTxt(r) === record.value)) return record.value;
      await ctx.json(
        {
          method: 'PUT',
          path: `/v2/zones/${zoneId}/recordsets/${set.id}`,
          body: {
            name: set.name,
            type: 'TXT',
            ttl: set.ttl,
            records: [...set.records, quoted(record.value)],
          },
        },
        what,
      );
      id = set.id;
    }
    await untilActive(zoneId, id, record, ctx);
    return record.value;
  },
  async remove(_c, record, zoneId, value, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    if (!set) return;
    const kept = set.records.filter((r) => unquoteTxt(r) !== value);
    if (kept.length === set.records.length) return;
    const what = `remove a value from the TXT record set ${record.fqdn}`;
    if (kept.length === 0) {
      await ctx.json(
        { method: 'DELETE', path: `/v2/zones/${zoneId}/recordsets/${set.id}` },
        what,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
      return;
    }
    await ctx.json(
      {
        method: 'PUT',
        path: `/v2/zones/${zoneId}/recordsets/${set.id}`,
        body: { name: set.name, type: 'TXT', ttl: set.ttl, records: kept },
      },
      what,
    );
    await untilActive(zoneId, set.id, record, ctx);
  },
  errorDetail: (body) => errorWords(body),
  oneWriterPerName: true,
};

export const definition = {
  code: CODE,
  title: 'Huawei Cloud DNS',
  description:
    'Adds the TXT records through the Huawei Cloud DNS API v2 (public zones, record sets) with AK/SK ' +
    '(SDK-HMAC-SHA256) signatures; the project of HUAWEICLOUD_REGION is looked up in IAM.',
  docsUrl: 'https://support.huaweicloud.com/intl/en-us/api-dns/dns_api_64003.html',
  permissions:
    'An access key (AK/SK) of an IAM user with DNS FullAccess (or dns:zone:list, dns:recordset:list, ' +
    'dns:recordset:create, dns:recordset:update, dns:recordset:delete) in the project of HUAWEICLOUD_REGION, ' +
    'and iam:projects:list to look that project up.',
  example: [
    'HUAWEICLOUD_ACCESS_KEY_ID=your-access-key-id \\',
    'HUAWEICLOUD_SECRET_ACCESS_KEY=your-secret-access-key \\',
    'HUAWEICLOUD_REGION=cn-south-1 \\',
    "  acmekit --dns huaweicloud --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'HUAWEICLOUD',
  // lego's huaweicloud defaults.
  defaults: { ttl: 300, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'HUAWEICLOUD_ACCESS_KEY_ID', description: 'access key ID (AK)', required: true },
    {
      name: 'HUAWEICLOUD_SECRET_ACCESS_KEY',
      description: 'secret access key (SK)',
      required: true,
      secret: true,
    },
    { name: 'HUAWEICLOUD_REGION', description: 'region, e.g. cn-south-1 or ap-southeast-1', required: true },
    {
      name: 'HUAWEICLOUD_API_URL',
      description: 'DNS endpoint, for tests or a proxy',
      default: 'https://dns.<region>.myhuaweicloud.com',
    },
    {
      name: 'HUAWEICLOUD_IAM_URL',
      description: 'IAM endpoint the project is looked up at, for tests or a proxy',
      default: 'https://iam.<region>.myhuaweicloud.com',
    },
  ],
  configure(env) {
    const region = env.required('HUAWEICLOUD_REGION');
    if (!/^[a-z0-9-]+$/.test(region))
      throw new InvalidInputError(
        `${CODE}: HUAWEICLOUD_REGION must be a region name such as cn-south-1, got ${JSON.stringify(region)}`,
        region,
      );
    return {
      accessKeyId: env.required('HUAWEICLOUD_ACCESS_KEY_ID'),
      secretAccessKey: env.requiredSecret('HUAWEICLOUD_SECRET_ACCESS_KEY'),
      region,
      apiUrl: apiUrlSetting(env, CODE, 'HUAWEICLOUD_API_URL', `https://dns.${region}.myhuaweicloud.com`),
      iamUrl: apiUrlSetting(env, CODE, 'HUAWEICLOUD_IAM_URL', `https://iam.${region}.myhuaweicloud.com`),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, http: deps.http }, deps);
  },
} satisfies DnsProviderDefinition<HuaweiConfig>;
