// A fake of Huawei Cloud IAM (GET /v3/projects) and the DNS API v2 (public zones, record sets). Every
// request must carry a valid AK/SK signature, which the fake recomputes on its own from the signing
// guide (it does not import the provider's signer): X-Sdk-Date within 15 minutes, host and x-sdk-date
// signed, the canonical URI with its trailing slash, the sorted RFC 3986 query, the signed headers as
// received and the SHA-256 of the body as received. DNS calls need the X-Project-Id of the key's project
// (signed). Errors come in the gateway's {error_code, error_msg} or DNS's {code, message} shape.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeHuaweiOptions {
  readonly ca: TestCa;
  readonly region: string;
  /** AK → SK, project id and public zones ("example.com"). */
  readonly keys: Readonly<
    Record<string, { readonly sk: string; readonly projectId: string; readonly zones: readonly string[] }>
  >;
  /** Largest page served (the API's own is 500), to exercise paging. */
  readonly pageCap?: number;
}

export interface FakeHuaweiRecordSet {
  readonly id: string;
  readonly zoneId: string;
  name: string;
  ttl: number;
  records: string[];
  status: string;
}

export interface FakeHuawei {
  /** For HUAWEICLOUD_API_URL and HUAWEICLOUD_IAM_URL: https://127.0.0.1:<port> */
  readonly url: string;
  readonly requests: RecordedRequest[];
  recordSets(): FakeHuaweiRecordSet[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const gateway = (status: number, code: string, msg: string): FakeReply => ({
  status,
  json: { error_code: code, error_msg: msg, request_id: randomBytes(8).toString('hex') },
});
const dnsError = (status: number, code: string, message: string): FakeReply => ({
  status,
  json: { code, message },
});

const enc = (s: string): string => {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
};
const hex = (d: string) => createHash('sha256').update(d).digest('hex');

/** The key that signed the request, or the gateway's refusal. */
function verify(req: RecordedRequest, keys: FakeHuaweiOptions['keys']): string | FakeReply {
  const m = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]{64})$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!m)
    return gateway(
      401,
      'APIGW.0301',
      'Incorrect IAM authentication information: Authorization format incorrect',
    );
  const [, ak, signedList, signature] = m as unknown as [string, string, string, string];
  const key = keys[ak];
  if (!key) return gateway(401, 'APIGW.0301', 'Incorrect IAM authentication information: ak not found');
  const date = String(req.headers['x-sdk-date'] ?? '');
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!dm)
    return gateway(
      401,
      'APIGW.0301',
      'Incorrect IAM authentication information: x-sdk-date format incorrect',
    );
  const at = Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!);
  if (Math.abs(Date.now() - at) > 15 * 60_000)
    return gateway(401, 'APIGW.0301', 'Incorrect IAM authentication information: request expired');
  const names = signedList.split(';');
  if (!names.includes('host') || !names.includes('x-sdk-date') || [...names].sort().join(';') !== signedList)
    return gateway(401, 'APIGW.0301', 'Incorrect IAM authentication information: SignedHeaders incorrect');
  const path = req.path
    .split('/')
    .map((s) => enc(decodeURIComponent(s)))
    .join('/');
  // The query as received, decoded (the server's parser), then encoded again as the guide says.
  const query = [...req.query]
    .map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0]! === b[0]! ? (a[1]! < b[1]! ? -1 : 1) : a[0]! < b[0]! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [
    req.method,
    path.endsWith('/') ? path : `${path}/`,
    query,
    names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join(''),
    signedList,
    hex(req.body),
  ].join('\n');
  const expected = createHmac('sha256', key.sk)
    .update(`SDK-HMAC-SHA256\n${date}\n${hex(canonical)}`)
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
    return gateway(401, 'APIGW.0301', 'Incorrect IAM authentication information: verify aksk signature fail');
  return ak;
}

export async function startFakeHuawei(o: FakeHuaweiOptions): Promise<FakeHuawei> {
  const zones = new Map<string, { name: string; ak: string }>();
  let n = 0;
  for (const [ak, k] of Object.entries(o.keys))
    for (const z of k.zones)
      zones.set(`ff80${(n++).toString(16).padStart(28, '0')}`, { name: `${nameKey(z)}.`, ak });
  const sets = new Map<string, FakeHuaweiRecordSet>();
  const cap = Math.min(500, o.pageCap ?? 500);

  const page = <T>(req: RecordedRequest, all: T[]) => {
    const limit = Number(req.query.get('limit') ?? 500);
    const offset = Number(req.query.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 0 || limit > 500 || !Number.isInteger(offset) || offset < 0)
      return undefined;
    return all.slice(offset, offset + Math.min(limit, cap));
  };
  const show = (s: FakeHuaweiRecordSet) => ({
    id: s.id,
    name: s.name,
    type: 'TXT',
    ttl: s.ttl,
    records: s.records,
    status: s.status,
    zone_id: s.zoneId,
    zone_name: zones.get(s.zoneId)?.name,
    description: 'ACME dns-01 challenge (acmekit)',
  });
  /** A change is pending until the record set is read once, then ACTIVE. */
  const read = (s: FakeHuaweiRecordSet) => {
    const out = show(s);
    if (s.status.startsWith('PENDING')) s.status = 'ACTIVE';
    return out;
  };

  function handle(req: RecordedRequest): FakeReply {
    const who = verify(req, o.keys);
    if (typeof who !== 'string') return who;
    const key = o.keys[who]!;

    if (req.method === 'GET' && req.path === '/v3/projects') {
      const name = req.query.get('name');
      const all = [{ id: key.projectId, name: o.region, domain_id: 'd1', enabled: true }].filter(
        (p) => name === null || p.name === name,
      );
      return { status: 200, json: { projects: all, links: { self: 'x' } } };
    }
    if (!req.path.startsWith('/v2/'))
      return gateway(
        404,
        'APIGW.0101',
        'The API does not exist or has not been published in the environment',
      );
    if (req.headers['x-project-id'] !== key.projectId)
      return gateway(
        403,
        'APIGW.0302',
        'The IAM user is not authorized to access the API: project id mismatch',
      );
    if (!String(req.headers.authorization).includes('x-project-id'))
      return gateway(401, 'APIGW.0301', 'Incorrect IAM authentication information: x-project-id not signed');

    if (req.method === 'GET' && req.path === '/v2/zones') {
      if (req.query.get('type') !== 'public') return dnsError(400, 'DNS.0002', 'type must be public');
      const wanted = req.query.get('name');
      const mine = [...zones]
        .filter(([, z]) => z.ak === who && (wanted === null || z.name.includes(nameKey(wanted))))
        .map(([id, z]) => ({ id, name: z.name, zone_type: 'public', status: 'ACTIVE', ttl: 300 }));
      const slice = page(req, mine);
      if (!slice) return dnsError(400, 'DNS.0002', 'invalid limit or offset');
      return {
        status: 200,
        json: { zones: slice, metadata: { total_count: mine.length }, links: { self: 'x' } },
      };
    }
    const m = /^\/v2\/zones\/([0-9a-f]+)\/recordsets(?:\/([0-9a-f]+))?$/.exec(req.path);
    const zone = m ? zones.get(m[1]!) : undefined;
    if (!m || !zone || zone.ak !== who) return dnsError(404, 'DNS.0101', 'The zone does not exist.');
    const zoneId = m[1]!;
    const setId = m[2];

    if (req.method === 'GET' && setId === undefined) {
      const type = req.query.get('type');
      const name = req.query.get('name');
      const all = [...sets.values()].filter(
        (s) =>
          s.zoneId === zoneId &&
          (type === null || type === 'TXT') &&
          (name === null || s.name.includes(nameKey(name))),
      );
      const slice = page(req, all);
      if (!slice) return dnsError(400, 'DNS.0002', 'invalid limit or offset');
      return {
        status: 200,
        json: { recordsets: slice.map(read), metadata: { total_count: all.length }, links: { self: 'x' } },
      };
    }
    if (req.method === 'POST' && setId === undefined) {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return dnsError(400, 'DNS.0002', 'content-type must be application/json');
      const b = jsonBody(req);
      const check = checkBody(b, true);
      if (check) return check;
      const name = String(b!.name).toLowerCase();
      if (name !== zone.name && !name.endsWith(`.${zone.name}`))
        return dnsError(400, 'DNS.0303', 'The record set name is not in the zone.');
      if ([...sets.values()].some((s) => s.zoneId === zoneId && s.name === name))
        return dnsError(400, 'DNS.0312', `Attribute 'name' conflicts with Record Set '${name}' type 'TXT'.`);
      const s: FakeHuaweiRecordSet = {
        id: `2c9eb155${randomBytes(12).toString('hex')}`,
        zoneId,
        name,
        ttl: typeof b!.ttl === 'number' ? b!.ttl : 300,
        records: b!.records as string[],
        status: 'PENDING_CREATE',
      };
      sets.set(s.id, s);
      return { status: 202, json: show(s) };
    }
    const s = setId ? sets.get(setId) : undefined;
    if (!s || s.zoneId !== zoneId) return dnsError(404, 'DNS.0004', 'The record set does not exist.');
    if (req.method === 'GET') return { status: 200, json: read(s) };
    if (req.method === 'PUT') {
      const b = jsonBody(req);
      const check = checkBody(b, false);
      if (check) return check;
      if (b!.name !== undefined && String(b!.name).toLowerCase() !== s.name)
        return dnsError(400, 'DNS.0303', 'The name cannot be changed.');
      s.records = b!.records as string[];
      if (typeof b!.ttl === 'number') s.ttl = b!.ttl;
      s.status = 'PENDING_UPDATE';
      return { status: 202, json: show(s) };
    }
    if (req.method === 'DELETE') {
      sets.delete(s.id);
      return { status: 202, json: { ...show(s), status: 'PENDING_DELETE' } };
    }
    return dnsError(405, 'DNS.0002', 'method not allowed');
  }

  function checkBody(b: Record<string, unknown> | undefined, creating: boolean): FakeReply | undefined {
    if (!b) return dnsError(400, 'DNS.0002', 'the body must be a JSON object');
    if (creating && (typeof b.name !== 'string' || !b.name.endsWith('.')))
      return dnsError(400, 'DNS.0303', 'name must be a fully qualified domain name ending with a dot');
    if (creating && b.type !== 'TXT') return dnsError(400, 'DNS.0303', 'type is required');
    if (b.ttl !== undefined && (typeof b.ttl !== 'number' || b.ttl < 1 || b.ttl > 2147483647))
      return dnsError(400, 'DNS.0307', 'The TTL is invalid.');
    const records = b.records;
    if (!Array.isArray(records) || records.length === 0)
      return dnsError(400, 'DNS.0308', 'records must be a non-empty list');
    for (const r of records)
      if (typeof r !== 'string' || !/^"[^"]{1,255}"$/.test(r))
        return dnsError(
          400,
          'DNS.0308',
          'A TXT record value must be a quoted string of at most 255 characters.',
        );
    if (new Set(records).size !== records.length)
      return dnsError(400, 'DNS.0308', 'Duplicate record values.');
    return undefined;
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    url: server.origin,
    requests: server.requests,
    recordSets: () => [...sets.values()],
    values: async (fqdn) =>
      [...sets.values()]
        .filter((s) => s.name === `${nameKey(fqdn)}.`)
        .flatMap((s) => s.records.map((r) => r.slice(1, -1))),
    failNext: server.failNext,
    close: server.close,
  };
}
