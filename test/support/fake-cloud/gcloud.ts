import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/**
 * Google Cloud as acmekit's gcloud provider meets it, on one HTTPS origin plus a plain-HTTP metadata
 * server, each enforcing what Google documents:
 *
 * - the OAuth 2.0 token endpoint (/token): the JWT bearer grant of a service account ("Using OAuth 2.0
 *   for Server to Server Applications": RS256 signature checked against the account's public key, iss a
 *   known account, aud this endpoint, a scope, iat/exp at most an hour apart and current) and the
 *   refresh_token grant of a gcloud user; errors as {error, error_description};
 * - Cloud DNS v1 (/dns/v1): Bearer tokens with a Cloud DNS scope, managedZones list (dnsName filter,
 *   pageToken paging) and get, resourceRecordSets list (name/type filters), changes create (deletions must
 *   match the current set exactly, else 412 conditionNotMet; an addition over an existing set is 409
 *   alreadyExists; all or nothing) and get (pending first, then done); errors as {error: {code,
 *   message, errors: [{reason}], status}};
 * - the IAM Service Account Credentials API (/iam/v1): generateAccessToken for an account the caller may
 *   impersonate (Service Account Token Creator), with a cloud-platform token;
 * - the metadata server: the Metadata-Flavor: Google request header required (403 otherwise), requests
 *   with X-Forwarded-For refused, answers carry Metadata-Flavor: Google.
 */

const DNS_SCOPE = 'https://www.googleapis.com/auth/ndev.clouddns.readwrite';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface FakeServiceAccount {
  readonly email: string;
  readonly keyId: string;
  /** The public half of the account's key (PEM or KeyObject). */
  readonly publicKey: string | KeyObject;
  /** May change the project's DNS (roles/dns.admin); default true. */
  readonly dnsAdmin?: boolean;
  /** Accounts this one may impersonate (roles/iam.serviceAccountTokenCreator on them). */
  readonly canImpersonate?: readonly string[];
}

export interface FakeGcloudOptions {
  readonly ca: TestCa;
  readonly project: string;
  readonly zones: readonly { name: string; dnsName: string; visibility?: 'public' | 'private' }[];
  readonly serviceAccounts: readonly FakeServiceAccount[];
  /** gcloud users (authorized_user credentials). */
  readonly users?: readonly { clientId: string; clientSecret: string; refreshToken: string }[];
  /** The service account attached to the "VM" whose metadata server answers. */
  readonly metadataAccount?: string;
  /** Largest page of managedZones.list; small values exercise paging. */
  readonly zonePageSize?: number;
}

export interface FakeGcloud {
  /** The HTTPS origin: token endpoint at /token, Cloud DNS at /dns/v1, IAM credentials at /iam/v1. */
  readonly origin: string;
  readonly tokenUri: string;
  readonly dnsUrl: string;
  readonly iamUrl: string;
  /** host:port of the metadata server (GCE_METADATA_HOST). */
  readonly metadataHost: string;
  readonly requests: RecordedRequest[];
  readonly metadataCalls: { path: string; status: number }[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface Issued {
  readonly principal: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

interface StoredSet {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly rrdatas: string[];
}

const googleError = (code: number, status: string, reason: string, message: string): FakeReply => ({
  status: code,
  json: { error: { code, message, errors: [{ domain: 'global', reason, message }], status } },
});
const oauthError = (status: number, error: string, description: string): FakeReply => ({
  status,
  json: { error, error_description: description },
});

function parseJwt(
  text: string,
):
  | { header: Record<string, unknown>; claims: Record<string, unknown>; input: string; signature: Buffer }
  | undefined {
  const parts = text.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    return {
      header,
      claims,
      input: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** TXT rrdata in presentation form, quoted: Cloud DNS answers with quoted strings. */
function canonicalTxt(rrdata: string): string {
  return rrdata.startsWith('"') ? rrdata : `"${rrdata}"`;
}

export async function startFakeGcloud(o: FakeGcloudOptions): Promise<FakeGcloud> {
  const accounts = new Map(o.serviceAccounts.map((a) => [a.email, a]));
  const users = new Map((o.users ?? []).map((u) => [u.clientId, u]));
  const tokens = new Map<string, Issued>();
  const sets = new Map<string, StoredSet>();
  const changes = new Map<string, { zone: string; polled: number; body: Record<string, unknown> }>();
  const zonePageSize = o.zonePageSize ?? 100;
  let nextChange = 1;
  let origin = '';

  const issue = (principal: string, scopes: readonly string[]): { token: string; lifetime: number } => {
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, { principal, scopes, expiresAt: Date.now() + 3600_000 });
    return { token, lifetime: 3599 };
  };

  function tokenEndpoint(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return oauthError(400, 'invalid_request', 'Invalid Content-Type');
    const form = new URLSearchParams(req.body);
    const grant = form.get('grant_type');
    if (grant === JWT_BEARER) {
      const jwt = parseJwt(form.get('assertion') ?? '');
      if (!jwt) return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a signed JWT.');
      if (jwt.header.alg !== 'RS256')
        return oauthError(400, 'invalid_grant', 'Invalid JWT: algorithm must be RS256');
      if (jwt.header.typ !== undefined && jwt.header.typ !== 'JWT')
        return oauthError(400, 'invalid_grant', 'Invalid JWT header');
      const account = accounts.get(String(jwt.claims.iss));
      if (!account) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
      if (jwt.header.kid !== undefined && jwt.header.kid !== account.keyId)
        return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
      const publicKey =
        typeof account.publicKey === 'string' ? createPublicKey(account.publicKey) : account.publicKey;
      if (!verify('sha256', Buffer.from(jwt.input), publicKey, jwt.signature))
        return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
      if (jwt.claims.aud !== `${origin}/token`)
        return oauthError(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
      const iat = Number(jwt.claims.iat);
      const exp = Number(jwt.claims.exp);
      const now = Date.now() / 1000;
      if (
        !Number.isInteger(iat) ||
        !Number.isInteger(exp) ||
        exp - iat > 3600 ||
        iat > now + 60 ||
        exp < now
      ) {
        return oauthError(
          400,
          'invalid_grant',
          'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
        );
      }
      const scopes = typeof jwt.claims.scope === 'string' ? jwt.claims.scope.split(' ').filter(Boolean) : [];
      if (scopes.length === 0)
        return oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
      const { token, lifetime } = issue(`serviceAccount:${account.email}`, scopes);
      return { status: 200, json: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
    }
    if (grant === 'refresh_token') {
      const user = users.get(form.get('client_id') ?? '');
      if (!user || user.clientSecret !== form.get('client_secret'))
        return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
      if (user.refreshToken !== form.get('refresh_token'))
        return oauthError(400, 'invalid_grant', 'Bad Request');
      const { token, lifetime } = issue(`user:${user.clientId}`, [CLOUD_PLATFORM]);
      return { status: 200, json: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
    }
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${String(grant)}`);
  }

  function bearer(req: RecordedRequest): Issued | FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const issued = m ? tokens.get(m[1]!) : undefined;
    if (!issued || issued.expiresAt < Date.now()) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'authError',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    return issued;
  }

  function mayWriteDns(principal: string): boolean {
    if (principal.startsWith('user:')) return true;
    return accounts.get(principal.slice('serviceAccount:'.length))?.dnsAdmin !== false;
  }

  function iam(req: RecordedRequest): FakeReply {
    const auth = bearer(req);
    if ('status' in auth) return auth;
    const m = /^\/iam\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(req.path);
    if (!m || req.method !== 'POST') return googleError(404, 'NOT_FOUND', 'notFound', 'Not found');
    if (!auth.scopes.includes(CLOUD_PLATFORM))
      return googleError(
        403,
        'PERMISSION_DENIED',
        'forbidden',
        'Request had insufficient authentication scopes.',
      );
    const target = decodeURIComponent(m[1]!);
    const source = accounts.get(auth.principal.replace(/^serviceAccount:/, ''));
    if (!accounts.has(target) || !source?.canImpersonate?.includes(target)) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        'forbidden',
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
    }
    const body = jsonBody(req);
    const scope = body?.scope;
    if (!Array.isArray(scope) || scope.length === 0 || scope.some((s) => typeof s !== 'string'))
      return googleError(400, 'INVALID_ARGUMENT', 'badRequest', 'Scope required.');
    if (body?.lifetime !== undefined && !/^\d+s$/.test(String(body.lifetime)))
      return googleError(400, 'INVALID_ARGUMENT', 'badRequest', 'Invalid lifetime.');
    const { token } = issue(`serviceAccount:${target}`, scope as string[]);
    return {
      status: 200,
      json: { accessToken: token, expireTime: new Date(Date.now() + 3600_000).toISOString() },
    };
  }

  function validSet(v: unknown, zoneDns: string): StoredSet | string {
    const s = v as Partial<Record<keyof StoredSet, unknown>>;
    if (!s || typeof s !== 'object') return 'record set must be an object';
    if (typeof s.name !== 'string' || !s.name.endsWith('.'))
      return "Invalid value for 'entity.change.additions[0].name'";
    const name = s.name.toLowerCase();
    if (name !== zoneDns && !name.endsWith(`.${zoneDns}`))
      return `The resource '${s.name}' is not within the zone`;
    if (s.type !== 'TXT') return "Invalid value for 'entity.change.additions[0].type'";
    if (typeof s.ttl !== 'number' || !Number.isInteger(s.ttl) || s.ttl < 0) return "Invalid value for 'ttl'";
    if (
      !Array.isArray(s.rrdatas) ||
      s.rrdatas.length === 0 ||
      s.rrdatas.some((d) => typeof d !== 'string' || d === '')
    )
      return "Invalid value for 'entity.change.additions[0].rrdata'";
    const canonical = s.rrdatas.map((d) => canonicalTxt(d as string));
    if (new Set(canonical).size !== canonical.length)
      return 'The resource record set contains duplicate records.';
    return { name, type: 'TXT', ttl: s.ttl, rrdatas: canonical };
  }

  function dns(req: RecordedRequest): FakeReply {
    const auth = bearer(req);
    if ('status' in auth) return auth;
    if (!auth.scopes.includes(DNS_SCOPE) && !auth.scopes.includes(CLOUD_PLATFORM))
      return googleError(
        403,
        'PERMISSION_DENIED',
        'insufficientPermissions',
        'Request had insufficient authentication scopes.',
      );
    const m =
      /^\/dns\/v1\/projects\/([^/]+)\/managedZones(?:\/([^/]+)(?:\/(rrsets|changes)(?:\/([^/]+))?)?)?$/.exec(
        req.path,
      );
    if (!m) return googleError(404, 'NOT_FOUND', 'notFound', 'Not Found');
    const [, project, zoneName, collection, changeId] = m;
    if (decodeURIComponent(project!) !== o.project || !mayWriteDns(auth.principal))
      return googleError(403, 'PERMISSION_DENIED', 'forbidden', `Forbidden`);
    if (zoneName === undefined) {
      if (req.method !== 'GET')
        return googleError(405, 'METHOD_NOT_ALLOWED', 'badRequest', 'Method not allowed');
      const want = req.query.get('dnsName');
      const all = o.zones
        .filter((z) => want === null || z.dnsName === want.toLowerCase())
        .map((z) => ({
          kind: 'dns#managedZone',
          name: z.name,
          dnsName: z.dnsName,
          visibility: z.visibility ?? 'public',
        }));
      const start = Number(req.query.get('pageToken') ?? 0);
      const page = all.slice(start, start + zonePageSize);
      const more = start + zonePageSize < all.length;
      return {
        status: 200,
        json: { managedZones: page, ...(more ? { nextPageToken: String(start + zonePageSize) } : {}) },
      };
    }
    const zone = o.zones.find((z) => z.name === decodeURIComponent(zoneName));
    if (!zone)
      return googleError(
        404,
        'NOT_FOUND',
        'notFound',
        `The 'parameters.managedZone' resource named '${zoneName}' does not exist.`,
      );
    if (collection === undefined) {
      return {
        status: 200,
        json: {
          kind: 'dns#managedZone',
          name: zone.name,
          dnsName: zone.dnsName,
          visibility: zone.visibility ?? 'public',
        },
      };
    }
    const key = (name: string, type: string) => `${zone.name} ${name} ${type}`;
    if (collection === 'rrsets' && req.method === 'GET' && changeId === undefined) {
      const name = req.query.get('name')?.toLowerCase();
      const type = req.query.get('type');
      if (type !== null && name === undefined)
        return googleError(400, 'INVALID_ARGUMENT', 'invalid', 'type may only be given with name');
      const found = [...sets.entries()]
        .filter(([k]) => k.startsWith(`${zone.name} `))
        .map(([, s]) => s)
        .filter((s) => (name === undefined || s.name === name) && (type === null || s.type === type));
      return {
        status: 200,
        json: {
          kind: 'dns#resourceRecordSetsListResponse',
          rrsets: found.map((s) => ({ kind: 'dns#resourceRecordSet', ...s })),
        },
      };
    }
    if (collection === 'changes' && req.method === 'GET' && changeId !== undefined) {
      const change = changes.get(changeId);
      if (!change || change.zone !== zone.name)
        return googleError(
          404,
          'NOT_FOUND',
          'notFound',
          `The 'parameters.changeId' resource named '${changeId}' does not exist.`,
        );
      change.polled++;
      return { status: 200, json: { ...change.body, status: 'done' } };
    }
    if (collection === 'changes' && req.method === 'POST' && changeId === undefined) {
      const body = jsonBody(req);
      if (!body) return googleError(400, 'INVALID_ARGUMENT', 'parseError', 'Parse Error');
      const additions = (body.additions ?? []) as unknown[];
      const deletions = (body.deletions ?? []) as unknown[];
      if (!Array.isArray(additions) || !Array.isArray(deletions) || additions.length + deletions.length === 0)
        return googleError(
          400,
          'INVALID_ARGUMENT',
          'required',
          'The change must contain additions or deletions.',
        );
      const dels: StoredSet[] = [];
      const adds: StoredSet[] = [];
      for (const [i, d] of deletions.entries()) {
        const s = validSet(d, zone.dnsName);
        if (typeof s === 'string') return googleError(400, 'INVALID_ARGUMENT', 'invalid', s);
        const current = sets.get(key(s.name, s.type));
        if (!current)
          return googleError(
            404,
            'NOT_FOUND',
            'notFound',
            `The 'entity.change.deletions[${i}]' resource named '${s.name} (${s.type})' does not exist.`,
          );
        const same =
          current.ttl === s.ttl &&
          current.rrdatas.length === s.rrdatas.length &&
          [...current.rrdatas].sort().join('\n') === [...s.rrdatas].sort().join('\n');
        if (!same)
          return googleError(
            412,
            'FAILED_PRECONDITION',
            'conditionNotMet',
            `Precondition not met for 'entity.change.deletions[${i}]'`,
          );
        dels.push(s);
      }
      for (const [i, a] of additions.entries()) {
        const s = validSet(a, zone.dnsName);
        if (typeof s === 'string') return googleError(400, 'INVALID_ARGUMENT', 'invalid', s);
        const k = key(s.name, s.type);
        if (sets.has(k) && !dels.some((d) => key(d.name, d.type) === k))
          return googleError(
            409,
            'ALREADY_EXISTS',
            'alreadyExists',
            `The resource 'entity.change.additions[${i}]' named '${s.name} (${s.type})' already exists`,
          );
        adds.push(s);
      }
      for (const d of dels) sets.delete(key(d.name, d.type));
      for (const a of adds) sets.set(key(a.name, a.type), a);
      const id = String(nextChange++);
      const stored = {
        kind: 'dns#change',
        id,
        startTime: new Date().toISOString(),
        additions: adds,
        deletions: dels,
      };
      changes.set(id, { zone: zone.name, polled: 0, body: stored });
      return { status: 200, json: { ...stored, status: 'pending' } };
    }
    return googleError(405, 'METHOD_NOT_ALLOWED', 'badRequest', 'Method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, (req) => {
    if (req.path === '/token') return tokenEndpoint(req);
    if (req.path.startsWith('/iam/v1/')) return iam(req);
    if (req.path.startsWith('/dns/v1/')) return dns(req);
    return { status: 404, text: 'Not Found' };
  });
  origin = server.origin;

  const metadataCalls: { path: string; status: number }[] = [];
  const metadata: Server = createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0]!;
    const reply = (status: number, body: string, type: string) => {
      metadataCalls.push({ path, status });
      res.writeHead(status, { 'content-type': type, 'metadata-flavor': 'Google' });
      res.end(body);
    };
    if (req.headers['x-forwarded-for'] !== undefined) return reply(403, 'Forbidden', 'text/html');
    if (req.headers['metadata-flavor'] !== 'Google')
      return reply(403, 'Missing required header "Metadata-Flavor": "Google"', 'text/html');
    if (req.method !== 'GET') return reply(405, 'Method Not Allowed', 'text/html');
    if (path === '/computeMetadata/v1/project/project-id') return reply(200, o.project, 'application/text');
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      if (!o.metadataAccount) return reply(404, 'Not Found', 'text/html');
      const { token, lifetime } = issue(`serviceAccount:${o.metadataAccount}`, [CLOUD_PLATFORM]);
      return reply(
        200,
        JSON.stringify({ access_token: token, expires_in: lifetime, token_type: 'Bearer' }),
        'application/json',
      );
    }
    return reply(404, 'Not Found', 'text/html');
  });
  await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
  const metadataHost = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;

  return {
    origin,
    tokenUri: `${origin}/token`,
    dnsUrl: `${origin}/dns/v1`,
    iamUrl: `${origin}/iam/v1`,
    metadataHost,
    requests: server.requests,
    metadataCalls,
    values: async (fqdn) => {
      const name = fqdn.toLowerCase().endsWith('.') ? fqdn.toLowerCase() : `${fqdn.toLowerCase()}.`;
      return [...sets.values()]
        .filter((s) => s.name === name && s.type === 'TXT')
        .flatMap((s) => s.rrdatas.map((d) => d.slice(1, -1)));
    },
    failNext: server.failNext,
    close: async () => {
      metadata.closeAllConnections();
      await new Promise<void>((resolve) => metadata.close(() => resolve()));
      await server.close();
    },
  };
}
