import { domainToASCII } from 'node:url';
import { InvalidInputError } from '../../../errors/base.ts';
import type { Secret } from '../../../internal/secret.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import type { DnsProviderDefinition } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import type { TxtRecord } from '../../provider.ts';
import { type ListedTxt, type RestApi, type RestCallContext, RestDnsProvider } from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { JSON_CONTENT_TYPE, signTc3 } from './tc3-signer.ts';

// DNSPod API 2021-03-23 on Tencent Cloud (https://cloud.tencent.com/document/api/1427/56153; DescribeRecordList:
// https://cloud.tencent.com/document/api/1427/56166): every call
// is a POST of a JSON body to https://dnspod.tencentcloudapi.com/ naming its action in X-TC-Action,
// signed TC3-HMAC-SHA256 (tc3-signer.ts). The calls are lego's: DescribeDomainList (the zone and its
// DomainId), DescribeRecordList (Subdomain, RecordType TXT; the error ResourceNotFound.NoDataOfRecord
// means none), CreateRecord (RecordLine "默认", the default line) and DeleteRecord. Answers are HTTP 200
// with {Response: {...}} or {Response: {Error: {Code, Message}}}; RequestLimitExceeded and InternalError
// are tried again.

const CODE = 'tencentcloud';
const VERSION = '2021-03-23';
const SERVICE = 'dnspod';
const DEFAULT_API_URL = 'https://dnspod.tencentcloudapi.com';
/** The default resolution line. */
const DEFAULT_LINE = '默认';
const PAGE = 100;

export interface TencentConfig {
  readonly secretId: string;
  readonly secretKey: Secret;
  readonly sessionToken?: Secret | undefined;
  readonly region?: string | undefined;
  readonly apiUrl: string;
}

interface ApiError {
  readonly Code: string;
  readonly Message: string;
}

const CREDENTIALS =
  'TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for temporary keys)';

function errorOf(res: HttpResponse): ApiError | undefined {
  const response = parseJsonObject(res.body)?.Response as { Error?: Partial<ApiError> } | undefined;
  const e = response?.Error;
  return e && typeof e.Code === 'string' ? { Code: e.Code, Message: String(e.Message ?? '') } : undefined;
}

/** One action: its Response object, or the error it answered (for the codes `accept` lists). */
async function call(
  ctx: RestCallContext,
  action: string,
  params: Record<string, unknown>,
  what: string,
  accept: readonly string[] = [],
): Promise<Record<string, unknown> | ApiError> {
  const res = await ctx.send({ method: 'POST', path: '/', headers: { 'x-tc-action': action }, body: params });
  if (res.status !== 200) throw ctx.refused(res, what);
  const error = errorOf(res);
  if (error) {
    if (accept.includes(error.Code)) return error;
    const detail = `${error.Code}: ${error.Message}`.slice(0, 300);
    if (error.Code.startsWith('AuthFailure') || error.Code.startsWith('UnauthorizedOperation')) {
      throw ctx.fail(
        `credentials refused while trying to ${what} (${detail}): check ${CREDENTIALS} and that their CAM ` +
          'policy allows dnspod:DescribeDomainList, DescribeRecordList, CreateRecord and DeleteRecord',
        error.Code,
      );
    }
    if (error.Code.startsWith('RequestLimitExceeded'))
      throw ctx.fail(`rate limited while trying to ${what} (${detail}); retry in a few minutes`, error.Code);
    if (error.Code.startsWith('InternalError'))
      throw ctx.fail(
        `Tencent Cloud API error while trying to ${what} (${detail}); try again in a few minutes`,
        error.Code,
      );
    throw ctx.fail(`Tencent Cloud refused to ${what} (${detail})`, error.Code);
  }
  const response = parseJsonObject(res.body)?.Response;
  if (!response || typeof response !== 'object')
    throw ctx.fail(`the Tencent Cloud API answered ${what} without a Response`);
  return response as Record<string, unknown>;
}

const isError = (v: Record<string, unknown> | ApiError): v is ApiError =>
  typeof (v as ApiError).Code === 'string' && typeof (v as ApiError).Message === 'string';

/** zoneRef is "<DomainId> <Domain>". */
function parseRef(ref: string): { id: number; domain: string } {
  const space = ref.indexOf(' ');
  return { id: Number(ref.slice(0, space)), domain: ref.slice(space + 1) };
}

function subDomain(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

const api: RestApi<TencentConfig> = {
  code: CODE,
  apiName: 'Tencent Cloud DNSPod',
  urlVariable: 'TENCENTCLOUD_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.secretKey, ...(c.sessionToken ? [c.sessionToken] : [])],
  authorize(c, req, clock) {
    const body = req.rawBody ?? JSON.stringify(req.body ?? {});
    const timestamp = Math.floor(clock.now() / 1000);
    const signed = signTc3(
      { secretId: c.secretId, secretKey: c.secretKey },
      { host: new URL(c.apiUrl).host, service: SERVICE, body, timestamp },
    );
    return {
      method: req.method,
      path: req.path,
      rawBody: body,
      headers: {
        ...req.headers,
        'content-type': JSON_CONTENT_TYPE,
        authorization: signed.authorization,
        'x-tc-timestamp': String(timestamp),
        'x-tc-version': VERSION,
        ...(c.region ? { 'x-tc-region': c.region } : {}),
        ...(c.sessionToken ? { 'x-tc-token': c.sessionToken.reveal() } : {}),
      },
    };
  },
  retryable(res) {
    if (res.status === 429 || res.status >= 500) return true;
    const code = res.status === 200 ? errorOf(res)?.Code : undefined;
    return (
      code !== undefined && (code.startsWith('RequestLimitExceeded') || code.startsWith('InternalError'))
    );
  },
  async zoneRef(_c, zone, ctx) {
    const ascii = domainToASCII(zone) || zone;
    for (let offset = 0; offset < 100_000; ) {
      const r = await call(
        ctx,
        'DescribeDomainList',
        { Offset: offset, Limit: PAGE },
        `find the domain ${zone}`,
      );
      if (isError(r)) break;
      const list = Array.isArray(r.DomainList) ? (r.DomainList as Record<string, unknown>[]) : [];
      const found = list.find(
        (d) => String(d.Name).toLowerCase() === zone || String(d.Punycode ?? '').toLowerCase() === ascii,
      );
      if (found && typeof found.DomainId === 'number') return `${found.DomainId} ${String(found.Name)}`;
      offset += list.length;
      const total = Number((r.DomainCountInfo as { AllTotal?: unknown } | undefined)?.AllTotal ?? 0);
      if (list.length === 0 || offset >= total) break;
    }
    throw ctx.fail(
      `domain ${zone} is not in the DNSPod account of TENCENTCLOUD_SECRET_ID: add it in the DNSPod console`,
    );
  },
  async list(_c, record, ref, ctx) {
    const { id, domain } = parseRef(ref);
    const sub = subDomain(record);
    const found: ListedTxt[] = [];
    for (let offset = 0; offset < 100_000; ) {
      const r = await call(
        ctx,
        'DescribeRecordList',
        {
          Domain: domain,
          DomainId: id,
          Subdomain: sub,
          RecordType: 'TXT',
          RecordLine: DEFAULT_LINE,
          Offset: offset,
          Limit: PAGE,
        },
        `list the TXT records of ${record.fqdn}`,
        ['ResourceNotFound.NoDataOfRecord'],
      );
      if (isError(r)) break;
      const list = Array.isArray(r.RecordList) ? (r.RecordList as Record<string, unknown>[]) : [];
      for (const item of list) {
        if (
          item.Type === 'TXT' &&
          String(item.Name).toLowerCase() === sub &&
          typeof item.RecordId === 'number'
        )
          found.push({ id: String(item.RecordId), value: String(item.Value) });
      }
      offset += list.length;
      const total = Number((r.RecordCountInfo as { TotalCount?: unknown } | undefined)?.TotalCount ?? 0);
      if (list.length === 0 || offset >= total) break;
    }
    return found;
  },
  async create(_c, record, ref, ctx) {
    const { id, domain } = parseRef(ref);
    const r = await call(
      ctx,
      'CreateRecord',
      {
        Domain: domain,
        DomainId: id,
        SubDomain: subDomain(record),
        RecordType: 'TXT',
        RecordLine: DEFAULT_LINE,
        Value: record.value,
        TTL: record.ttl,
      },
      `create the TXT record ${record.fqdn}`,
    );
    return !isError(r) && typeof r.RecordId === 'number' ? String(r.RecordId) : undefined;
  },
  async remove(_c, record, ref, recordId, ctx) {
    const { id, domain } = parseRef(ref);
    // A record already gone is what cleanup wants.
    await call(
      ctx,
      'DeleteRecord',
      { Domain: domain, DomainId: id, RecordId: Number(recordId) },
      `delete the TXT record ${record.fqdn}`,
      ['InvalidParameter.RecordIdInvalid', 'ResourceNotFound.NoDataOfRecord'],
    );
  },
  errorDetail(body) {
    const e = (
      parseJsonObject(body)?.Response as { Error?: { Code?: unknown; Message?: unknown } } | undefined
    )?.Error;
    return e ? `${String(e.Code)}: ${String(e.Message)}` : undefined;
  },
};

export const definition = {
  code: CODE,
  title: 'Tencent Cloud DNS (DNSPod)',
  description:
    'Adds the TXT records through the DNSPod API of Tencent Cloud (API 3.0, TC3-HMAC-SHA256 signatures), ' +
    'with a SecretId and SecretKey (and a session token for temporary keys).',
  docsUrl: 'https://cloud.tencent.com/document/api/1427/56153',
  permissions:
    'A CAM policy allowing dnspod:DescribeDomainList, dnspod:DescribeRecordList, dnspod:CreateRecord and ' +
    'dnspod:DeleteRecord on the domain (QcloudDNSPodFullAccess covers them).',
  example: [
    'TENCENTCLOUD_SECRET_ID=AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \\',
    'TENCENTCLOUD_SECRET_KEY=your-secret-key \\',
    "  acmekit --dns tencentcloud --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'TENCENTCLOUD',
  // lego's tencentcloud defaults: DNSPod's free plan allows no TTL below 600 s.
  defaults: { ttl: 600, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'TENCENTCLOUD_SECRET_ID', description: 'SecretId of an API key', required: true },
    {
      name: 'TENCENTCLOUD_SECRET_KEY',
      description: 'SecretKey of that API key',
      required: true,
      secret: true,
    },
    {
      name: 'TENCENTCLOUD_SESSION_TOKEN',
      description: 'session token of temporary credentials (STS)',
      secret: true,
    },
    { name: 'TENCENTCLOUD_REGION', description: 'region sent in X-TC-Region (DNSPod does not need one)' },
    {
      name: 'TENCENTCLOUD_API_URL',
      description: 'DNSPod API URL (https://dnspod.intl.tencentcloudapi.com outside China), or a test server',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    const apiUrl = apiUrlSetting(env, CODE, 'TENCENTCLOUD_API_URL', DEFAULT_API_URL);
    if (new URL(apiUrl).pathname !== '/') {
      throw new InvalidInputError(
        `${CODE}: TENCENTCLOUD_API_URL must be a host without a path (API 3.0 requests go to "/")`,
        apiUrl,
      );
    }
    return {
      secretId: env.required('TENCENTCLOUD_SECRET_ID'),
      secretKey: env.requiredSecret('TENCENTCLOUD_SECRET_KEY'),
      sessionToken: env.secret('TENCENTCLOUD_SESSION_TOKEN'),
      region: env.string('TENCENTCLOUD_REGION'),
      apiUrl,
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<TencentConfig>;
