import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/**
 * The OVHcloud API v1 as OVHcloud documents it, for the DNS zone calls acmekit makes:
 *
 * - GET /1.0/auth/time: the server's clock (which may run apart from ours: `clockSkewSeconds`);
 * - signed requests ("First Steps with the OVHcloud APIs"): X-Ovh-Application a known application key,
 *   X-Ovh-Consumer a consumer key of that application, X-Ovh-Timestamp close to the server's clock, and
 *   X-Ovh-Signature recomputed here as "$1$" + SHA1_HEX(AS+"+"+CK+"+"+METHOD+"+"+URL+"+"+BODY+"+"+TS)
 *   over the URL and body as received; a consumer key's access rules (method + path with *) limit it;
 * - OAuth2 service accounts: POST /auth/oauth2/token (client_credentials, scope "all"), then Bearer
 *   tokens whose IAM actions (dnsZone:apiovh:record/get, record/create, record/delete, refresh) limit them;
 *   ready access tokens (OVH_ACCESS_TOKEN);
 * - /domain/zone/{zone}/record (list of ids with fieldType/subDomain filters, get, create, delete) and
 *   /domain/zone/{zone}/refresh, which publishes the zone: `values` shows the zone as last refreshed.
 *
 * Errors use OVHcloud's bodies: {errorCode, httpCode, message} for authentication, {class, message}
 * otherwise, with details.unauthorizedActionsByIAM for IAM refusals. OVHcloud does not document the code
 * of a request whose timestamp is too far off; this fake answers 400 QUERY_TIME_OUT.
 */

export interface FakeOvhOptions {
  readonly ca: TestCa;
  readonly zones: readonly string[];
  readonly applications: Readonly<Record<string, string>>;
  /** Consumer key → its application key and access rules (default: everything). */
  readonly consumerKeys: Readonly<
    Record<string, { application: string; rules?: readonly { method: string; path: string }[] }>
  >;
  /** OAuth2 clients → secret and IAM actions allowed (default: all four). */
  readonly oauthClients?: Readonly<Record<string, { secret: string; actions?: readonly string[] }>>;
  /** Ready access tokens (all actions). */
  readonly accessTokens?: readonly string[];
  /** The server's clock runs this far ahead of the test machine's. */
  readonly clockSkewSeconds?: number;
}

export interface FakeOvh {
  /** For OVH_ENDPOINT: https://127.0.0.1:<port>/1.0 */
  readonly endpoint: string;
  /** For OVH_OAUTH2_URL. */
  readonly tokenUrl: string;
  readonly requests: RecordedRequest[];
  /** TXT values at the name in the published zone (as of the last refresh). */
  values(fqdn: string): Promise<string[]>;
  /** TXT values at the name, published or not. */
  staged(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly zone: string;
  readonly subDomain: string;
  readonly fieldType: string;
  readonly target: string;
  readonly ttl: number;
}

const ALL_ACTIONS = [
  'dnsZone:apiovh:record/get',
  'dnsZone:apiovh:record/create',
  'dnsZone:apiovh:record/delete',
  'dnsZone:apiovh:refresh',
];
const FIELD_TYPES = new Set([
  'A',
  'AAAA',
  'CAA',
  'CNAME',
  'DKIM',
  'DMARC',
  'DNAME',
  'LOC',
  'MX',
  'NAPTR',
  'NS',
  'PTR',
  'SPF',
  'SRV',
  'SSHFP',
  'TLSA',
  'TXT',
]);

const authError = (status: number, errorCode: string, message: string): FakeReply => ({
  status,
  json: {
    errorCode,
    httpCode: `${status} ${status === 400 ? 'Bad Request' : status === 401 ? 'Unauthorized' : 'Forbidden'}`,
    message,
  },
});
const classError = (
  status: number,
  cls: string,
  message: string,
  details?: Record<string, string>,
): FakeReply => ({
  status,
  json: { class: cls, message, ...(details ? { details } : {}) },
});

function ruleMatches(rule: { method: string; path: string }, method: string, path: string): boolean {
  if (rule.method !== method) return false;
  const re = new RegExp(
    `^${rule.path
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(path);
}

export async function startFakeOvh(o: FakeOvhOptions): Promise<FakeOvh> {
  const skew = o.clockSkewSeconds ?? 0;
  const serverNow = () => Math.floor(Date.now() / 1000) + skew;
  const zones = new Set(o.zones.map((z) => z.toLowerCase()));
  const records = new Map<number, StoredRecord>();
  let published = new Map<number, StoredRecord>();
  const bearer = new Map<string, readonly string[]>((o.accessTokens ?? []).map((t) => [t, ALL_ACTIONS]));
  let nextId = 1_000_000;
  let origin = '';

  function tokenEndpoint(req: RecordedRequest): FakeReply {
    if (
      req.method !== 'POST' ||
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
    )
      return {
        status: 400,
        json: { error: 'invalid_request', error_description: 'form-encoded POST expected' },
      };
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'client_credentials')
      return {
        status: 400,
        json: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
      };
    const client = o.oauthClients?.[form.get('client_id') ?? ''];
    if (!client || client.secret !== form.get('client_secret'))
      return {
        status: 401,
        json: { error: 'invalid_client', error_description: 'client authentication failed' },
      };
    if (form.get('scope') !== 'all')
      return { status: 400, json: { error: 'invalid_scope', error_description: 'invalid scope' } };
    const token = `eyJ${randomBytes(24).toString('base64url')}`;
    bearer.set(token, client.actions ?? ALL_ACTIONS);
    return {
      status: 200,
      json: { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'all' },
    };
  }

  /** undefined when the request may go on; otherwise the refusal. */
  function authenticate(req: RecordedRequest, apiPath: string, action: string): FakeReply | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer (\S+)$/.exec(auth);
      const actions = m ? bearer.get(m[1]!) : undefined;
      if (!actions) return authError(401, 'INVALID_CREDENTIAL', 'This credential is not valid');
      if (!actions.includes(action))
        return classError(403, 'Client::Forbidden', 'User is not authorized to perform this operation', {
          unauthorizedActionsByIAM: action,
        });
      return undefined;
    }
    const appKey = String(req.headers['x-ovh-application'] ?? '');
    const secret = o.applications[appKey];
    if (secret === undefined) return authError(403, 'INVALID_KEY', 'This application key is invalid');
    const consumerKey = String(req.headers['x-ovh-consumer'] ?? '');
    const consumer = o.consumerKeys[consumerKey];
    if (!consumer || consumer.application !== appKey)
      return authError(403, 'INVALID_CREDENTIAL', 'This credential is not valid');
    const ts = Number(req.headers['x-ovh-timestamp']);
    if (!Number.isInteger(ts) || Math.abs(ts - serverNow()) > 60)
      return authError(400, 'QUERY_TIME_OUT', 'Query out of time');
    const clear = [secret, consumerKey, req.method, `${origin}${req.url}`, req.body, String(ts)].join('+');
    const expected = Buffer.from(`$1$${createHash('sha1').update(clear, 'utf8').digest('hex')}`);
    const given = Buffer.from(String(req.headers['x-ovh-signature'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return authError(400, 'INVALID_SIGNATURE', 'Invalid signature');
    if (consumer.rules && !consumer.rules.some((r) => ruleMatches(r, req.method, apiPath)))
      return authError(403, 'NOT_GRANTED_CALL', 'This call has not been granted');
    return undefined;
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/auth/oauth2/token') return tokenEndpoint(req);
    if (!req.path.startsWith('/1.0/')) return classError(404, 'Client::NotFound', 'Not found');
    const apiPath = req.path.slice('/1.0'.length);
    if (apiPath === '/auth/time' && req.method === 'GET') return { status: 200, json: serverNow() };
    const m = /^\/domain\/zone\/([^/]+)\/(record|refresh)(?:\/([^/]+))?$/.exec(apiPath);
    if (!m) return classError(404, 'Client::NotFound', `Got an invalid (or empty) URL`);
    const [, rawZone, what, id] = m;
    const zone = decodeURIComponent(rawZone!).toLowerCase();
    const action =
      what === 'refresh'
        ? 'dnsZone:apiovh:refresh'
        : req.method === 'POST'
          ? 'dnsZone:apiovh:record/create'
          : req.method === 'DELETE'
            ? 'dnsZone:apiovh:record/delete'
            : 'dnsZone:apiovh:record/get';
    const refused = authenticate(req, apiPath, action);
    if (refused) return refused;
    if (!zones.has(zone)) return classError(404, 'Client::NotFound', 'This service does not exist');

    if (what === 'refresh') {
      if (req.method !== 'POST' || id !== undefined)
        return classError(405, 'Client::MethodNotAllowed', 'Method not allowed');
      if (req.body !== '') return classError(400, 'Client::BadRequest', 'This call takes no body');
      published = new Map(records);
      return { status: 200, json: null };
    }
    if (id === undefined && req.method === 'GET') {
      const type = req.query.get('fieldType');
      const sub = req.query.get('subDomain');
      if (type !== null && !FIELD_TYPES.has(type))
        return classError(400, 'Client::BadRequest', `Invalid value for fieldType`);
      const ids = [...records.values()]
        .filter(
          (r) =>
            r.zone === zone &&
            (type === null || r.fieldType === type) &&
            (sub === null || r.subDomain === sub.toLowerCase()),
        )
        .map((r) => r.id);
      return { status: 200, json: ids };
    }
    if (id === undefined && req.method === 'POST') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return classError(400, 'Client::BadRequest', 'Invalid content type');
      const b = jsonBody(req);
      if (!b) return classError(400, 'Client::BadRequest', 'Invalid JSON body');
      if (typeof b.fieldType !== 'string' || !FIELD_TYPES.has(b.fieldType))
        return classError(400, 'Client::BadRequest', 'Missing or invalid parameter fieldType');
      if (typeof b.target !== 'string' || b.target === '')
        return classError(400, 'Client::BadRequest', 'Missing parameter target');
      if (b.subDomain !== undefined && (typeof b.subDomain !== 'string' || b.subDomain.endsWith('.')))
        return classError(400, 'Client::BadRequest', 'Invalid subDomain');
      if (b.ttl !== undefined && (typeof b.ttl !== 'number' || !Number.isInteger(b.ttl) || b.ttl < 0))
        return classError(400, 'Client::BadRequest', 'Invalid ttl');
      const stored: StoredRecord = {
        id: nextId++,
        zone,
        subDomain: String(b.subDomain ?? '').toLowerCase(),
        fieldType: b.fieldType,
        target: b.target,
        ttl: typeof b.ttl === 'number' ? b.ttl : 0,
      };
      records.set(stored.id, stored);
      return { status: 200, json: stored };
    }
    const record = records.get(Number(id));
    if (!record || record.zone !== zone)
      return classError(404, 'Client::NotFound', `The requested object (id = ${id}) does not exist`);
    if (req.method === 'GET') return { status: 200, json: record };
    if (req.method === 'DELETE') {
      records.delete(record.id);
      return { status: 200, json: null };
    }
    return classError(405, 'Client::MethodNotAllowed', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  origin = server.origin;
  const fqdnOf = (r: StoredRecord) => (r.subDomain === '' ? r.zone : `${r.subDomain}.${r.zone}`);
  const txt = (set: Map<number, StoredRecord>, fqdn: string) =>
    [...set.values()]
      .filter((r) => r.fieldType === 'TXT' && fqdnOf(r) === fqdn.toLowerCase().replace(/\.$/, ''))
      .map((r) => r.target);
  return {
    endpoint: `${origin}/1.0`,
    tokenUrl: `${origin}/auth/oauth2/token`,
    requests: server.requests,
    values: async (fqdn) => txt(published, fqdn),
    staged: async (fqdn) => txt(records, fqdn),
    failNext: server.failNext,
    close: server.close,
  };
}
