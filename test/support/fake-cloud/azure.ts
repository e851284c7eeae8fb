import { createHash, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/**
 * Azure as acmekit's azuredns provider meets it, each part enforcing what Microsoft documents:
 *
 * - Microsoft Entra ID's v2.0 token endpoint (/{tenant}/oauth2/v2.0/token), client credentials grant:
 *   a client secret, or a client assertion (client_assertion_type jwt-bearer) that is either a
 *   registered federated token or a JWT signed RS256 by a certificate registered on the app (its x5t
 *   header naming the certificate's SHA-1 thumbprint, the signature checked against the certificate's
 *   public key, aud this endpoint, iss and sub the client id, a jti, nbf/exp current); the scope must be
 *   "https://management.azure.com/.default"; errors as {error, error_description: "AADSTS…"};
 * - Azure Resource Graph (POST /providers/Microsoft.ResourceGraph/resources): the lines of lego's query
 *   (where type/name/subscriptionId/resourceGroup =~ "…", a user filter of the same form, project), only
 *   zones the caller has a role on, $top/$skip paging with totalRecords;
 * - Azure DNS record sets through Resource Manager, public (dnsZones, api-version 2018-05-01, TTL and
 *   TXTRecords) and private (privateDnsZones, 2018-09-01, ttl and txtRecords): Bearer tokens for the
 *   management audience, role checks (Reader to read, Contributor to write: 403 AuthorizationFailed),
 *   etags with If-Match / If-None-Match (412 PreconditionFailed), 201 on create, 204 for a delete of
 *   nothing; errors as {error: {code, message}};
 * - managed identity endpoints on plain HTTP: IMDS (/metadata/identity/oauth2/token, header
 *   Metadata: true required, X-Forwarded-For refused, api-version 2018-02-01) and App Service
 *   (/msi/token, X-IDENTITY-HEADER required, api-version 2019-08-01).
 */

const MANAGEMENT = 'https://management.azure.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface FakeAzureApp {
  readonly tenantId: string;
  readonly clientId: string;
  readonly secrets?: readonly string[];
  /** PEM certificates registered on the app. */
  readonly certificates?: readonly string[];
  /** Federated tokens the app's federated credentials accept (opaque here). */
  readonly federatedTokens?: readonly string[];
}

export interface FakeAzureZone {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly private?: boolean;
  /** Principals (client ids) with DNS Zone Contributor on the zone. */
  readonly contributors?: readonly string[];
  /** Principals with Reader only. */
  readonly readers?: readonly string[];
}

export interface FakeAzureOptions {
  readonly ca: TestCa;
  readonly apps: readonly FakeAzureApp[];
  readonly zones: readonly FakeAzureZone[];
  /** Managed identities the "VM" has: the system-assigned one first (its principal id), then user-assigned client ids. */
  readonly managedIdentities?: readonly string[];
  /** X-IDENTITY-HEADER of the App Service endpoint. */
  readonly identityHeader?: string;
  /** Largest page Resource Graph returns. */
  readonly graphPageSize?: number;
}

export interface FakeAzure {
  readonly origin: string;
  /** For AZURE_AUTHORITY_HOST and AZURE_RESOURCE_MANAGER_URL. */
  readonly authorityHost: string;
  readonly armUrl: string;
  /** http://127.0.0.1:port: IMDS host and App Service endpoint base. */
  readonly identityOrigin: string;
  readonly requests: RecordedRequest[];
  readonly identityCalls: { path: string; status: number }[];
  values(fqdn: string, opts?: { private?: boolean }): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredSet {
  etag: string;
  ttl: number;
  values: string[][];
}

const armError = (status: number, code: string, message: string): FakeReply => ({
  status,
  json: { error: { code, message } },
});
const aadError = (status: number, error: string, description: string): FakeReply => ({
  status,
  json: {
    error,
    error_description: description,
    error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  },
});

function decodeJwt(
  text: string,
):
  | { header: Record<string, unknown>; claims: Record<string, unknown>; input: string; sig: Buffer }
  | undefined {
  const p = text.split('.');
  if (p.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(p[0]!, 'base64url').toString()) as Record<string, unknown>,
      claims: JSON.parse(Buffer.from(p[1]!, 'base64url').toString()) as Record<string, unknown>,
      input: `${p[0]}.${p[1]}`,
      sig: Buffer.from(p[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

export async function startFakeAzure(o: FakeAzureOptions): Promise<FakeAzure> {
  const tokens = new Map<string, { principal: string; audience: string; expiresAt: number }>();
  const sets = new Map<string, StoredSet>();
  const certs = new Map<string, { app: FakeAzureApp; cert: X509Certificate }>();
  for (const app of o.apps)
    for (const pem of app.certificates ?? []) {
      const cert = new X509Certificate(pem);
      certs.set(`${app.clientId} ${createHash('sha1').update(cert.raw).digest('base64url')}`, { app, cert });
    }
  const graphPage = o.graphPageSize ?? 1000;
  let origin = '';

  const issue = (principal: string, audience: string) => {
    const token = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, { principal, audience, expiresAt: Date.now() + 3600_000 });
    return token;
  };

  function entra(req: RecordedRequest, tenant: string): FakeReply {
    if (
      req.method !== 'POST' ||
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
    )
      return aadError(
        400,
        'invalid_request',
        "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
      );
    const form = new URLSearchParams(req.body);
    if (!o.apps.some((a) => a.tenantId === tenant))
      return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials')
      return aadError(
        400,
        'unsupported_grant_type',
        'AADSTS70003: The app requested an unsupported grant type.',
      );
    const app = o.apps.find((a) => a.tenantId === tenant && a.clientId === form.get('client_id'));
    if (!app)
      return aadError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory '${tenant}'.`,
      );
    if (form.get('scope') !== `${MANAGEMENT}/.default`)
      return aadError(
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${form.get('scope')} is not valid.`,
      );
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (!app.secrets?.includes(secret))
        return aadError(
          401,
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== ASSERTION_TYPE)
        return aadError(400, 'invalid_request', 'AADSTS50027: Invalid client_assertion_type.');
      if (!app.federatedTokens?.includes(assertion)) {
        const jwt = decodeJwt(assertion);
        if (!jwt) return aadError(400, 'invalid_client', 'AADSTS50027: JWT token is invalid or malformed.');
        const reg = certs.get(`${app.clientId} ${String(jwt.header.x5t)}`);
        if (jwt.header.alg !== 'RS256' || !reg)
          return aadError(
            401,
            'invalid_client',
            `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(jwt.header.x5t)}']`,
          );
        if (!verify('sha256', Buffer.from(jwt.input), reg.cert.publicKey, jwt.sig))
          return aadError(
            401,
            'invalid_client',
            'AADSTS7000274: Client assertion contains an invalid signature.',
          );
        const c = jwt.claims;
        const now = Date.now() / 1000;
        if (c.aud !== `${origin}/${tenant}/oauth2/v2.0/token`)
          return aadError(
            401,
            'invalid_client',
            `AADSTS700212: No matching federated identity record found for presented assertion audience '${String(c.aud)}'.`,
          );
        if (c.iss !== app.clientId || c.sub !== app.clientId || typeof c.jti !== 'string')
          return aadError(
            401,
            'invalid_client',
            'AADSTS700023: Client assertion audience claim does not match Realm issuer.',
          );
        if (typeof c.exp !== 'number' || c.exp < now || (typeof c.nbf === 'number' && c.nbf > now + 300))
          return aadError(
            401,
            'invalid_client',
            'AADSTS700024: Client assertion is not within its valid time range.',
          );
      }
    } else {
      return aadError(
        401,
        'invalid_client',
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    return {
      status: 200,
      json: {
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: issue(app.clientId, MANAGEMENT),
      },
    };
  }

  function caller(req: RecordedRequest): string | FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m)
      return armError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      );
    const t = tokens.get(m[1]!);
    if (!t || t.expiresAt < Date.now())
      return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    if (t.audience !== MANAGEMENT)
      return armError(
        401,
        'InvalidAuthenticationTokenAudience',
        'The access token has been obtained for wrong audience or resource.',
      );
    return t.principal;
  }

  const role = (z: FakeAzureZone, principal: string): 'contributor' | 'reader' | undefined =>
    z.contributors?.includes(principal)
      ? 'contributor'
      : z.readers?.includes(principal)
        ? 'reader'
        : undefined;

  function graph(req: RecordedRequest, principal: string): FakeReply {
    if (req.query.get('api-version') !== '2021-03-01')
      return armError(400, 'InvalidApiVersionParameter', 'The api-version is invalid.');
    const b = jsonBody(req);
    if (typeof b?.query !== 'string') return armError(400, 'BadRequest', 'A query is required.');
    const lines = b.query
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (lines[0] !== 'resources' || lines.at(-1) !== '| project subscriptionId, resourceGroup, name')
      return armError(
        400,
        'BadRequest',
        'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.',
      );
    const filters: ((z: FakeAzureZone) => boolean)[] = [];
    for (const line of lines.slice(1, -1)) {
      const m = /^\| where (\w+(?:\.\w+)?) (=~|!~) "([^"]*)"$/.exec(line);
      if (!m) return armError(400, 'BadRequest', `Query is invalid: unsupported clause ${line}`);
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const get = (z: FakeAzureZone): string =>
        field === 'type'
          ? z.private
            ? 'microsoft.network/privatednszones'
            : 'microsoft.network/dnszones'
          : field === 'name'
            ? z.name
            : field === 'subscriptionId'
              ? z.subscriptionId
              : field === 'resourceGroup'
                ? z.resourceGroup
                : '\u0000';
      filters.push((z) => (get(z).toLowerCase() === value.toLowerCase()) === (op === '=~'));
    }
    const opts = (b.options ?? {}) as { $top?: unknown; $skip?: unknown; resultFormat?: unknown };
    if (opts.resultFormat !== undefined && opts.resultFormat !== 'objectArray')
      return armError(400, 'BadRequest', 'resultFormat must be objectArray or table');
    const all = o.zones
      .filter((z) => role(z, principal) !== undefined && filters.every((f) => f(z)))
      .map((z) => ({ subscriptionId: z.subscriptionId, resourceGroup: z.resourceGroup, name: z.name }));
    const skip = Number(opts.$skip ?? 0);
    const top = Math.min(Number(opts.$top ?? 100), graphPage);
    const data = all.slice(skip, skip + top);
    return {
      status: 200,
      json: { totalRecords: all.length, count: data.length, data, facets: [], resultTruncated: 'false' },
    };
  }

  function dns(req: RecordedRequest, principal: string): FakeReply {
    const m =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/(dnsZones|privateDnsZones)\/([^/]+)(?:\/TXT\/([^/]+))?$/.exec(
        req.path,
      );
    if (!m) return armError(404, 'NotFound', 'No HTTP resource was found that matches the request URI.');
    const [, s, rg, type, rawZone, rawName] = m.map((v) => (v === undefined ? v : decodeURIComponent(v))) as (
      | string
      | undefined
    )[];
    const isPrivate = type === 'privateDnsZones';
    if (req.query.get('api-version') !== (isPrivate ? '2018-09-01' : '2018-05-01'))
      return armError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${req.query.get('api-version')}' is invalid.`,
      );
    const zone = o.zones.find(
      (z) =>
        z.subscriptionId === s &&
        z.resourceGroup.toLowerCase() === rg!.toLowerCase() &&
        z.name === rawZone!.toLowerCase() &&
        !!z.private === isPrivate,
    );
    const scope = `/subscriptions/${s}/resourceGroups/${rg}/providers/Microsoft.Network/${type}/${rawZone}`;
    const r = zone ? role(zone, principal) : undefined;
    const write = req.method !== 'GET';
    const action = `Microsoft.Network/${type}/${rawName === undefined ? 'read' : `TXT/${write ? (req.method === 'DELETE' ? 'delete' : 'write') : 'read'}`}`;
    if (zone && (r === undefined || (write && r !== 'contributor'))) {
      return armError(
        403,
        'AuthorizationFailed',
        `The client '${principal}' with object id '${principal}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
    if (!zone) {
      return rawName === undefined
        ? armError(
            404,
            'ResourceNotFound',
            `The Resource 'Microsoft.Network/${type}/${rawZone}' under resource group '${rg}' was not found.`,
          )
        : armError(
            404,
            'ParentResourceNotFound',
            `Can not perform requested operation on nested resource. Parent resource '${rawZone}' not found.`,
          );
    }
    if (rawName === undefined) {
      if (req.method !== 'GET') return armError(405, 'MethodNotAllowed', 'Method not allowed');
      return {
        status: 200,
        json: {
          id: scope,
          name: zone.name,
          type: `Microsoft.Network/${type}`,
          location: 'global',
          etag: randomUUID(),
          properties: {},
        },
      };
    }
    const name = rawName.toLowerCase();
    const key = `${scope.toLowerCase()}/txt/${name}`;
    const current = sets.get(key);
    const ttlKey = isPrivate ? 'ttl' : 'TTL';
    const listKey = isPrivate ? 'txtRecords' : 'TXTRecords';
    const shape = (set: StoredSet) => ({
      id: `${scope}/TXT/${rawName}`,
      name: rawName,
      type: `Microsoft.Network/${type}/TXT`,
      etag: set.etag,
      properties: {
        [ttlKey]: set.ttl,
        fqdn: `${name === '@' ? zone.name : `${name}.${zone.name}`}.`,
        [listKey]: set.values.map((v) => ({ value: v })),
        provisioningState: 'Succeeded',
      },
    });
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (req.method === 'GET') {
      if (!current)
        return armError(
          404,
          'NotFound',
          `The resource record '${rawName}' does not exist in resource group '${rg}' of subscription '${s}'.`,
        );
      return { status: 200, json: shape(current) };
    }
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current?.etag)
      return armError(
        412,
        'PreconditionFailed',
        `The Record set ${rawName} has been modified (etag mismatch).`,
      );
    if (req.method === 'DELETE') {
      if (!current) return { status: 204 };
      sets.delete(key);
      return { status: 200 };
    }
    if (req.method !== 'PUT') return armError(405, 'MethodNotAllowed', 'Method not allowed');
    if (ifNoneMatch === '*' && current)
      return armError(
        412,
        'PreconditionFailed',
        `The Record set ${rawName} exists already and hence cannot be created again.`,
      );
    const b = jsonBody(req);
    const props = b?.properties as Record<string, unknown> | undefined;
    const ttl = props?.[ttlKey];
    const list = props?.[listKey];
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647)
      return armError(400, 'BadRequest', `The value for record type TXT is invalid: ${ttlKey} is required.`);
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some(
        (t) =>
          !Array.isArray((t as { value?: unknown }).value) ||
          (t as { value: unknown[] }).value.some((v) => typeof v !== 'string' || v.length > 1024),
      )
    )
      return armError(
        400,
        'BadRequest',
        `The value for record type TXT is invalid: ${listKey} must be a list of {value: [strings]}.`,
      );
    const set: StoredSet = {
      etag: randomUUID(),
      ttl,
      values: list.map((t) => (t as { value: string[] }).value),
    };
    sets.set(key, set);
    return { status: current ? 200 : 201, json: shape(set) };
  }

  const server = await startFakeHttpsServer(o.ca, (req) => {
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (token) return entra(req, decodeURIComponent(token[1]!));
    const who = caller(req);
    if (typeof who !== 'string') return who;
    if (req.path === '/providers/Microsoft.ResourceGraph/resources' && req.method === 'POST')
      return graph(req, who);
    return dns(req, who);
  });
  origin = server.origin;

  const identityCalls: { path: string; status: number }[] = [];
  const identity: Server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, body: unknown) => {
      identityCalls.push({ path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const ids = o.managedIdentities ?? [];
    const resource = url.searchParams.get('resource');
    const pick = (): string | undefined => {
      const wanted = url.searchParams.get('client_id');
      return wanted === null ? ids[0] : ids.slice(1).includes(wanted) ? wanted : undefined;
    };
    if (url.pathname === '/metadata/identity/oauth2/token') {
      if (req.headers['x-forwarded-for'] !== undefined)
        return reply(400, {
          error: 'invalid_request',
          error_description: 'Request has X-Forwarded-For header',
        });
      if (req.headers.metadata !== 'true')
        return reply(400, {
          error: 'invalid_request',
          error_description: 'Required metadata header not specified',
        });
      if (url.searchParams.get('api-version') !== '2018-02-01')
        return reply(400, { error: 'invalid_request', error_description: 'Invalid api-version' });
      const principal = pick();
      if (!principal)
        return reply(400, { error: 'invalid_request', error_description: 'Identity not found' });
      if (resource !== `${MANAGEMENT}/`)
        return reply(400, {
          error: 'invalid_resource',
          error_description: 'AADSTS500011: The resource principal was not found.',
        });
      const now = Math.floor(Date.now() / 1000);
      return reply(200, {
        access_token: issue(principal, MANAGEMENT),
        client_id: principal,
        expires_in: '86399',
        expires_on: String(now + 86399),
        ext_expires_in: '86399',
        not_before: String(now),
        resource,
        token_type: 'Bearer',
      });
    }
    if (url.pathname === '/msi/token') {
      if (o.identityHeader === undefined || req.headers['x-identity-header'] !== o.identityHeader)
        return reply(401, { statusCode: 401, message: 'Unauthorized' });
      if (url.searchParams.get('api-version') !== '2019-08-01')
        return reply(400, { statusCode: 400, message: 'Invalid api-version' });
      const principal = pick();
      if (!principal || resource !== `${MANAGEMENT}/`)
        return reply(400, { statusCode: 400, message: 'Bad request' });
      return reply(200, {
        access_token: issue(principal, MANAGEMENT),
        expires_on: String(Math.floor(Date.now() / 1000) + 86399),
        resource,
        token_type: 'Bearer',
        client_id: principal,
      });
    }
    return reply(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));

  return {
    origin,
    authorityHost: origin,
    armUrl: origin,
    identityOrigin: `http://127.0.0.1:${(identity.address() as AddressInfo).port}`,
    requests: server.requests,
    identityCalls,
    values: async (fqdn, opts = {}) => {
      const name = fqdn.toLowerCase().replace(/\.$/, '');
      const zone = o.zones
        .filter((z) => !!z.private === !!opts.private && (name === z.name || name.endsWith(`.${z.name}`)))
        .sort((a, b) => b.name.length - a.name.length)[0];
      if (!zone) return [];
      const rel = name === zone.name ? '@' : name.slice(0, -(zone.name.length + 1));
      const type = zone.private ? 'privatednszones' : 'dnszones';
      const key =
        `/subscriptions/${zone.subscriptionId}/resourcegroups/${zone.resourceGroup}/providers/microsoft.network/${type}/${zone.name}/txt/${rel}`.toLowerCase();
      return (sets.get(key)?.values ?? []).map((v) => v.join(''));
    },
    failNext: server.failNext,
    close: async () => {
      identity.closeAllConnections();
      await new Promise<void>((resolve) => identity.close(() => resolve()));
      await server.close();
    },
  };
}
