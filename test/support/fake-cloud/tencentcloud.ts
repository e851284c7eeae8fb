import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/**
 * The DNSPod API 2021-03-23 of Tencent Cloud as Tencent documents it, for lego's four actions:
 *
 * - API 3.0 common rules: POST to "/", JSON body, X-TC-Action / X-TC-Version (2021-03-23) /
 *   X-TC-Timestamp (within 5 minutes) headers, X-TC-Token for temporary keys;
 * - "Signature v3": the Authorization header parsed, the credential scope checked (UTC date of the
 *   timestamp, service dnspod, tc3_request), content-type and host signed, the canonical request rebuilt
 *   from the request as received and the TC3-HMAC-SHA256 signature recomputed and compared;
 * - CAM: each SecretId may be limited to some actions (AuthFailure.UnauthorizedOperation);
 * - DescribeDomainList (Offset/Limit paging, DomainCountInfo.AllTotal), DescribeRecordList (Domain or
 *   DomainId, Subdomain, RecordType, RecordLine, Offset/Limit; ResourceNotFound.NoDataOfRecord when
 *   empty), CreateRecord (RecordType, RecordLine, Value required; TTL 1-604800), DeleteRecord
 *   (InvalidParameter.RecordIdInvalid for an unknown id);
 * - every answer HTTP 200 with {Response: {..., RequestId}} or {Response: {Error: {Code, Message}}}.
 */

export interface FakeTencentKey {
  readonly secretKey: string;
  readonly token?: string;
  /** CAM: actions allowed; default all. */
  readonly actions?: readonly string[];
}

export interface FakeTencentOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  readonly keys: Readonly<Record<string, FakeTencentKey>>;
  /** Page size cap of the list actions; small values exercise paging. */
  readonly maxLimit?: number;
}

export interface FakeTencent {
  /** For TENCENTCLOUD_API_URL. */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly RecordId: number;
  readonly domainId: number;
  readonly Name: string;
  readonly Type: string;
  readonly Line: string;
  readonly Value: string;
  readonly TTL: number;
}

const AUTH =
  /^TC3-HMAC-SHA256 Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([a-z0-9]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export function tencentError(code: string, message: string): FakeReply {
  return {
    status: 200,
    json: { Response: { Error: { Code: code, Message: message }, RequestId: randomUUID() } },
  };
}
const ok = (body: Record<string, unknown>): FakeReply => ({
  status: 200,
  json: { Response: { ...body, RequestId: randomUUID() } },
});

export async function startFakeTencent(o: FakeTencentOptions): Promise<FakeTencent> {
  const domains = new Map(o.domains.map((d, i) => [1000 + i, d.toLowerCase()]));
  const records = new Map<number, StoredRecord>();
  const maxLimit = o.maxLimit ?? 3000;
  let nextId = 7_000_000;

  function verify(req: RecordedRequest): FakeReply | { action: string } {
    if (req.method !== 'POST' || req.path !== '/')
      return tencentError('UnsupportedOperation', 'only POST / is supported here');
    const action = String(req.headers['x-tc-action'] ?? '');
    if (!action)
      return tencentError('MissingParameter', 'The request is missing a required parameter `Action`.');
    if (req.headers['x-tc-version'] !== '2021-03-23')
      return tencentError('InvalidParameterValue', 'The value of `Version` is not supported.');
    const m = AUTH.exec(String(req.headers.authorization ?? ''));
    if (!m)
      return tencentError('AuthFailure.InvalidAuthorization', 'Check `Authorization` in the request header.');
    const [, secretId, date, service, signedList, signature] = m as unknown as string[];
    const key = o.keys[secretId!];
    if (!key)
      return tencentError(
        'AuthFailure.SecretIdNotFound',
        'The SecretId is not found, please ensure that your SecretId is correct.',
      );
    const ts = Number(req.headers['x-tc-timestamp']);
    if (!Number.isInteger(ts) || Math.abs(ts - Date.now() / 1000) > 300)
      return tencentError(
        'AuthFailure.SignatureExpire',
        'Signature expired. Timestamp and server time are more than 5 minutes apart.',
      );
    if (date !== new Date(ts * 1000).toISOString().slice(0, 10) || service !== 'dnspod')
      return tencentError('AuthFailure.SignatureFailure', 'The credential scope does not match the request.');
    const signed = signedList!.split(';');
    if (!signed.includes('content-type') || !signed.includes('host'))
      return tencentError('AuthFailure.SignatureFailure', 'content-type and host must be signed.');
    const canonicalHeaders = signed
      .map(
        (h) =>
          `${h}:${String(req.headers[h] ?? '')
            .trim()
            .toLowerCase()}\n`,
      )
      .join('');
    const canonical = [
      'POST',
      '/',
      req.query.toString(),
      canonicalHeaders,
      signedList,
      sha256(req.body),
    ].join('\n');
    const toSign = ['TC3-HMAC-SHA256', String(ts), `${date}/${service}/tc3_request`, sha256(canonical)].join(
      '\n',
    );
    let k = createHmac('sha256', `TC3${key.secretKey}`).update(date!).digest();
    k = createHmac('sha256', k).update(service!).digest();
    k = createHmac('sha256', k).update('tc3_request').digest();
    const expected = createHmac('sha256', k).update(toSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex')))
      return tencentError(
        'AuthFailure.SignatureFailure',
        'The provided credentials could not be validated. Please check your signature is correct.',
      );
    if ((key.token ?? '') !== String(req.headers['x-tc-token'] ?? ''))
      return tencentError('AuthFailure.TokenFailure', 'Token verification failed.');
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return tencentError('InvalidParameter', 'Content-Type must be application/json.');
    if (key.actions && !key.actions.includes(action))
      return tencentError(
        'AuthFailure.UnauthorizedOperation',
        `You are not authorized to perform dnspod:${action}.`,
      );
    return { action };
  }

  function domainOf(b: Record<string, unknown>): number | FakeReply {
    if (typeof b.DomainId === 'number') {
      return domains.has(b.DomainId)
        ? b.DomainId
        : tencentError('InvalidParameterValue.DomainNotExists', '当前域名有误，请返回重新操作。');
    }
    if (typeof b.Domain !== 'string' || b.Domain === '')
      return tencentError('MissingParameter', 'The request is missing a required parameter `Domain`.');
    const found = [...domains].find(([, d]) => d === (b.Domain as string).toLowerCase());
    return found
      ? found[0]
      : tencentError('InvalidParameterValue.DomainNotExists', '当前域名有误，请返回重新操作。');
  }

  function paging(b: Record<string, unknown>): { offset: number; limit: number } | FakeReply {
    const offset = b.Offset === undefined ? 0 : b.Offset;
    const limit = b.Limit === undefined ? 20 : b.Limit;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)
      return tencentError('InvalidParameterValue', 'Offset is invalid.');
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 3000)
      return tencentError('InvalidParameterValue', 'Limit is invalid.');
    return { offset, limit: Math.min(limit, maxLimit) };
  }

  function handle(req: RecordedRequest): FakeReply {
    const v = verify(req);
    if ('status' in v) return v;
    const b = jsonBody(req);
    if (!b) return tencentError('InvalidParameter', 'The request body is not valid JSON.');
    switch (v.action) {
      case 'DescribeDomainList': {
        const p = paging(b);
        if ('status' in p) return p;
        const all = [...domains].map(([id, name]) => ({
          DomainId: id,
          Name: name,
          Punycode: name,
          Status: 'ENABLE',
          TTL: 600,
        }));
        return ok({
          DomainCountInfo: { AllTotal: all.length, DomainTotal: all.length },
          DomainList: all.slice(p.offset, p.offset + p.limit),
        });
      }
      case 'DescribeRecordList': {
        const d = domainOf(b);
        if (typeof d !== 'number') return d;
        const p = paging(b);
        if ('status' in p) return p;
        const all = [...records.values()].filter(
          (r) =>
            r.domainId === d &&
            (b.Subdomain === undefined || r.Name === String(b.Subdomain).toLowerCase()) &&
            (b.RecordType === undefined || r.Type === b.RecordType) &&
            (b.RecordLine === undefined || r.Line === b.RecordLine),
        );
        if (all.length === 0) return tencentError('ResourceNotFound.NoDataOfRecord', '记录列表为空。');
        return ok({
          RecordCountInfo: {
            SubdomainCount: all.length,
            ListCount: Math.min(p.limit, all.length - p.offset),
            TotalCount: all.length,
          },
          RecordList: all
            .slice(p.offset, p.offset + p.limit)
            .map(({ domainId: _, ...r }) => ({ ...r, Status: 'ENABLE', LineId: '0' })),
        });
      }
      case 'CreateRecord': {
        const d = domainOf(b);
        if (typeof d !== 'number') return d;
        if (typeof b.RecordType !== 'string')
          return tencentError(
            'MissingParameter',
            'The request is missing a required parameter `RecordType`.',
          );
        if (b.RecordLine !== '默认')
          return tencentError('InvalidParameter.RecordLineInvalid', '记录线路错误。');
        if (typeof b.Value !== 'string' || b.Value === '')
          return tencentError('MissingParameter', 'The request is missing a required parameter `Value`.');
        if (b.SubDomain !== undefined && (typeof b.SubDomain !== 'string' || b.SubDomain.endsWith('.')))
          return tencentError('InvalidParameter.SubdomainInvalid', '子域名不正确。');
        if (
          b.TTL !== undefined &&
          (typeof b.TTL !== 'number' || !Number.isInteger(b.TTL) || b.TTL < 1 || b.TTL > 604800)
        )
          return tencentError('InvalidParameter.TTLInvalid', 'TTL值不正确。');
        const stored: StoredRecord = {
          RecordId: nextId++,
          domainId: d,
          Name: String(b.SubDomain ?? '@').toLowerCase(),
          Type: b.RecordType,
          Line: '默认',
          Value: b.Value,
          TTL: typeof b.TTL === 'number' ? b.TTL : 600,
        };
        records.set(stored.RecordId, stored);
        return ok({ RecordId: stored.RecordId });
      }
      case 'DeleteRecord': {
        const d = domainOf(b);
        if (typeof d !== 'number') return d;
        const r = typeof b.RecordId === 'number' ? records.get(b.RecordId) : undefined;
        if (!r || r.domainId !== d) return tencentError('InvalidParameter.RecordIdInvalid', '记录编号错误。');
        records.delete(r.RecordId);
        return ok({});
      }
      default:
        return tencentError('InvalidAction', `The action ${v.action} does not exist.`);
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) => {
      const name = fqdn.toLowerCase().replace(/\.$/, '');
      return [...records.values()]
        .filter((r) => {
          const domain = domains.get(r.domainId)!;
          return r.Type === 'TXT' && (r.Name === '@' ? domain : `${r.Name}.${domain}`) === name;
        })
        .map((r) => r.Value);
    },
    failNext: server.failNext,
    close: server.close,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
