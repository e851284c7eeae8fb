// A fake of the OCI DNS API 20180115 records endpoints (GetDomainRecords, PatchDomainRecords). Every
// request must carry an OCI version-1 signature that the fake checks on its own (it does not import the
// provider's signer): the keyId names a known key, the signed header list holds at least what OCI
// requires for the method, date is within 5 minutes, x-content-sha256 and content-length match the body
// received, and the RSA-SHA256 signature verifies with the key's public half over the signing string
// rebuilt from the request as received. Errors are OCI's {code, message}.
import { createHash, createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeOciOptions {
  readonly ca: TestCa;
  /** keyId ("tenancy/user/fingerprint") → the public key (PEM) and the compartments it may change. */
  readonly keys: Readonly<
    Record<string, { readonly publicKeyPem: string; readonly compartments: readonly string[] }>
  >;
  /** Zones: name → compartment OCID. */
  readonly zones: Readonly<Record<string, string>>;
  /** Largest page served, to exercise paging. */
  readonly pageCap?: number;
}

export interface FakeOciRecord {
  readonly zone: string;
  readonly domain: string;
  readonly rtype: string;
  readonly rdata: string;
  readonly ttl: number;
  readonly recordHash: string;
}

export interface FakeOci {
  /** For OCI_API_URL: https://127.0.0.1:<port>/20180115 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  records(): FakeOciRecord[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const err = (status: number, code: string, message: string): FakeReply => ({
  status,
  headers: { 'opc-request-id': randomBytes(8).toString('hex') },
  json: { code, message },
});

const REQUIRED: Record<string, string[]> = {
  GET: ['date', '(request-target)', 'host'],
  DELETE: ['date', '(request-target)', 'host'],
  PATCH: ['date', '(request-target)', 'host', 'content-length', 'content-type', 'x-content-sha256'],
  PUT: ['date', '(request-target)', 'host', 'content-length', 'content-type', 'x-content-sha256'],
  POST: ['date', '(request-target)', 'host', 'content-length', 'content-type', 'x-content-sha256'],
};

export async function startFakeOci(o: FakeOciOptions): Promise<FakeOci> {
  const publicKeys = new Map<string, KeyObject>(
    Object.entries(o.keys).map(([id, k]) => [id, createPublicKey(k.publicKeyPem)]),
  );
  const records: FakeOciRecord[] = [];
  const cap = o.pageCap ?? 100;
  const notAuthenticated = (why: string) =>
    err(
      401,
      'NotAuthenticated',
      `The required information to complete authentication was not provided or was incorrect. (${why})`,
    );

  function authenticate(req: RecordedRequest, target: string): string | FakeReply {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Signature ')) return notAuthenticated('no Signature authorization');
    const params = new Map<string, string>();
    for (const m of auth.slice(10).matchAll(/(\w+)="([^"]*)"/g)) params.set(m[1]!, m[2]!);
    if (params.get('version') !== '1' || params.get('algorithm') !== 'rsa-sha256')
      return notAuthenticated('version 1 and rsa-sha256 expected');
    const keyId = params.get('keyId') ?? '';
    const key = publicKeys.get(keyId);
    if (!key) return notAuthenticated('unknown keyId');
    const names = (params.get('headers') ?? '').split(' ');
    for (const needed of REQUIRED[req.method] ?? [])
      if (!names.includes(needed)) return notAuthenticated(`${needed} not signed`);
    const date = Date.parse(String(req.headers.date ?? ''));
    if (Number.isNaN(date) || Math.abs(Date.now() - date) > 5 * 60_000)
      return notAuthenticated('date missing or skewed');
    if (names.includes('x-content-sha256')) {
      if (req.headers['x-content-sha256'] !== createHash('sha256').update(req.body).digest('base64'))
        return err(400, 'InvalidParameter', 'x-content-sha256 does not match the body');
      if (Number(req.headers['content-length']) !== Buffer.byteLength(req.body))
        return err(400, 'InvalidParameter', 'content-length does not match the body');
    }
    const text = names
      .map(
        (n) =>
          `${n}: ${n === '(request-target)' ? `${req.method.toLowerCase()} ${target}` : String(req.headers[n] ?? '')}`,
      )
      .join('\n');
    const ok = verify('sha256', Buffer.from(text), key, Buffer.from(params.get('signature') ?? '', 'base64'));
    if (!ok) return notAuthenticated('signature mismatch');
    return keyId;
  }

  function handle(req: RecordedRequest): FakeReply {
    const query = req.query.toString();
    // The target as sent (the recorded query re-serialised: the same bytes for the OCIDs, names and page
    // tokens used here).
    const target = `${req.path}${query ? `?${query}` : ''}`;
    const who = authenticate(req, target);
    if (typeof who !== 'string') return who;
    const m = /^\/20180115\/zones\/([^/]+)\/records\/([^/]+)$/.exec(req.path);
    if (!m)
      return err(404, 'NotAuthorizedOrNotFound', 'Authorization failed or requested resource not found.');
    const zone = nameKey(decodeURIComponent(m[1]!));
    const domain = nameKey(decodeURIComponent(m[2]!));
    const compartment = req.query.get('compartmentId');
    if (!compartment)
      return err(400, 'InvalidParameter', 'compartmentId is required when the zone is named by name');
    if (o.zones[zone] !== compartment || !o.keys[who]!.compartments.includes(compartment))
      return err(404, 'NotAuthorizedOrNotFound', 'Authorization failed or requested resource not found.');
    if (domain !== zone && !domain.endsWith(`.${zone}`))
      return err(400, 'InvalidParameter', 'domain is not in the zone');
    const at = () => records.filter((r) => r.zone === zone && r.domain === domain);
    const show = (r: FakeOciRecord) => ({
      domain: r.domain,
      recordHash: r.recordHash,
      isProtected: false,
      rdata: r.rdata,
      rrsetVersion: '3',
      rtype: r.rtype,
      ttl: r.ttl,
    });

    if (req.method === 'GET') {
      const rtype = req.query.get('rtype');
      const limit = Number(req.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return err(400, 'InvalidParameter', 'limit must be 1-100');
      const all = at().filter((r) => rtype === null || r.rtype === rtype);
      const start = Number(req.query.get('page') ?? 0);
      const size = Math.min(limit, cap);
      const next = start + size < all.length ? String(start + size) : undefined;
      return {
        status: 200,
        headers: { 'opc-total-items': String(all.length), ...(next ? { 'opc-next-page': next } : {}) },
        json: { items: all.slice(start, start + size).map(show) },
      };
    }
    if (req.method === 'PATCH') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return err(400, 'InvalidParameter', 'content-type must be application/json');
      const items = jsonBody(req)?.items;
      if (!Array.isArray(items) || items.length === 0)
        return err(400, 'InvalidParameter', 'items is required');
      const next = [...records];
      for (const op of items as Record<string, unknown>[]) {
        if (op.operation === 'ADD') {
          if (nameKey(String(op.domain)) !== domain)
            return err(400, 'InvalidParameter', 'the item domain differs from the path');
          if (
            op.rtype !== 'TXT' ||
            typeof op.rdata !== 'string' ||
            op.rdata === '' ||
            typeof op.ttl !== 'number'
          )
            return err(400, 'InvalidParameter', 'rtype, rdata and ttl are required');
          // OCI normalises TXT rdata to a quoted string.
          const rdata = op.rdata.startsWith('"') ? op.rdata : JSON.stringify(op.rdata);
          if (
            next.some((r) => r.zone === zone && r.domain === domain && r.rtype === 'TXT' && r.rdata === rdata)
          )
            continue;
          next.push({
            zone,
            domain,
            rtype: 'TXT',
            rdata,
            ttl: op.ttl,
            recordHash: createHash('md5').update(`${domain} TXT ${rdata}`).digest('hex'),
          });
        } else if (op.operation === 'REMOVE') {
          if (typeof op.recordHash !== 'string')
            return err(400, 'InvalidParameter', 'REMOVE needs a recordHash here');
          const i = next.findIndex(
            (r) => r.zone === zone && r.domain === domain && r.recordHash === op.recordHash,
          );
          if (i < 0) return err(400, 'InvalidParameter', `no record with hash ${op.recordHash}`);
          next.splice(i, 1);
        } else {
          return err(400, 'InvalidParameter', 'operation must be ADD or REMOVE here');
        }
      }
      records.splice(0, records.length, ...next);
      return {
        status: 200,
        headers: { etag: randomBytes(4).toString('hex') },
        json: { items: at().map(show) },
      };
    }
    return err(405, 'MethodNotAllowed', 'method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/20180115`,
    requests: server.requests,
    records: () => [...records],
    values: async (fqdn) =>
      records.filter((r) => r.domain === nameKey(fqdn)).map((r) => r.rdata.slice(1, -1)),
    failNext: server.failNext,
    close: server.close,
  };
}
