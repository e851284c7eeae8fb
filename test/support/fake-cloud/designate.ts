// A fake of OpenStack Keystone v3 (POST /identity/v3/auth/tokens) and Designate v2 (zones, record sets).
// Keystone checks the documented request body: password authentication with the user by id or by name
// and domain, scoped to a project by id or by name and domain (the user must have a role there), or an
// application credential by id (or name and user) with its secret; it answers 201 with X-Subject-Token and
// a token whose catalog lists the Designate endpoint per region. Designate takes only unexpired tokens
// (X-Auth-Token) of the zones' project, and answers errors as {code, type, message}.
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeOpenStackUser {
  readonly id: string;
  readonly name: string;
  readonly domain: { readonly id: string; readonly name: string };
  readonly password: string;
  /** Projects (ids) the user has a role in. */
  readonly projects: readonly string[];
}

export interface FakeDesignateOptions {
  readonly ca: TestCa;
  readonly users: readonly FakeOpenStackUser[];
  /** Project id → its name and domain id. */
  readonly projects: Readonly<Record<string, { readonly name: string; readonly domainId: string }>>;
  /** Application credentials: id → name, owner (user id), project, secret. */
  readonly applicationCredentials?: Readonly<
    Record<
      string,
      { readonly name: string; readonly userId: string; readonly projectId: string; readonly secret: string }
    >
  >;
  /** Zone name → project id. */
  readonly zones: Readonly<Record<string, string>>;
  readonly regions: readonly string[];
  /** Token lifetime in seconds (default 3600). */
  readonly tokenLifetime?: number;
}

export interface FakeDesignateRecordSet {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  ttl: number;
  records: string[];
}

export interface FakeDesignate {
  /** For OS_AUTH_URL: https://127.0.0.1:<port>/identity (without /v3, which the provider adds). */
  readonly authUrl: string;
  readonly requests: RecordedRequest[];
  tokensIssued(): number;
  expireTokens(): void;
  recordSets(): FakeDesignateRecordSet[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const keystoneError = (status: number, title: string, message: string): FakeReply => ({
  status,
  json: { error: { code: status, title, message } },
});
const unauthorized = () =>
  keystoneError(401, 'Unauthorized', 'The request you have made requires authentication.');
const designateError = (status: number, type: string, message: string): FakeReply => ({
  status,
  json: { code: status, type, message, request_id: `req-${randomUUID()}` },
});

export async function startFakeDesignate(o: FakeDesignateOptions): Promise<FakeDesignate> {
  const tokens = new Map<string, { projectId: string; expiresAt: number }>();
  let issued = 0;
  const zones = new Map<string, { name: string; projectId: string }>(
    Object.entries(o.zones).map(([name, projectId]) => [
      randomUUID(),
      { name: `${nameKey(name)}.`, projectId },
    ]),
  );
  const sets = new Map<string, FakeDesignateRecordSet>();
  let origin = '';

  const domainMatches = (d: Record<string, unknown> | undefined, user: FakeOpenStackUser) =>
    d !== undefined && (d.id === user.domain.id || d.name === user.domain.name);
  const findUser = (u: Record<string, unknown> | undefined) =>
    o.users.find(
      (x) =>
        u && (u.id === x.id || (u.name === x.name && domainMatches(u.domain as Record<string, unknown>, x))),
    );

  function issue(projectId: string): FakeReply {
    const token = `gAAAA${randomBytes(24).toString('base64url')}`;
    const lifetime = (o.tokenLifetime ?? 3600) * 1000;
    tokens.set(token, { projectId, expiresAt: Date.now() + lifetime });
    issued++;
    return {
      status: 201,
      headers: { 'x-subject-token': token },
      json: {
        token: {
          methods: ['password'],
          expires_at: new Date(Date.now() + lifetime).toISOString(),
          project: { id: projectId, name: o.projects[projectId]?.name },
          catalog: [
            {
              type: 'identity',
              name: 'keystone',
              endpoints: [{ interface: 'public', region: o.regions[0], url: `${origin}/identity` }],
            },
            {
              type: 'dns',
              name: 'designate',
              endpoints: o.regions.flatMap((region) => [
                { interface: 'internal', region, region_id: region, url: 'https://internal.invalid:9001/' },
                { interface: 'public', region, region_id: region, url: `${origin}/dns/${region}/` },
              ]),
            },
          ],
        },
      },
    };
  }

  function authenticate(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return keystoneError(405, 'Method Not Allowed', 'POST expected');
    const auth = jsonBody(req)?.auth as Record<string, unknown> | undefined;
    const identity = auth?.identity as Record<string, unknown> | undefined;
    const methods = identity?.methods;
    if (!Array.isArray(methods) || methods.length !== 1)
      return keystoneError(400, 'Bad Request', 'auth.identity.methods must name one method');
    if (methods[0] === 'password') {
      const u = (identity!.password as { user?: Record<string, unknown> } | undefined)?.user;
      const user = findUser(u);
      if (!user || u!.password !== user.password) return unauthorized();
      const scope = (auth!.scope as { project?: Record<string, unknown> } | undefined)?.project;
      if (!scope) return keystoneError(400, 'Bad Request', 'this fake issues project-scoped tokens only');
      const projectId =
        typeof scope.id === 'string'
          ? scope.id
          : Object.entries(o.projects).find(([, p]) => {
              const d = scope.domain as Record<string, unknown> | undefined;
              return (
                p.name === scope.name &&
                d !== undefined &&
                (d.id === p.domainId ||
                  d.name === o.users.find((x) => x.domain.id === p.domainId)?.domain.name)
              );
            })?.[0];
      if (!projectId || !user.projects.includes(projectId)) return unauthorized();
      return issue(projectId);
    }
    if (methods[0] === 'application_credential') {
      const a = identity!.application_credential as Record<string, unknown> | undefined;
      const found = Object.entries(o.applicationCredentials ?? {}).find(
        ([id, c]) =>
          a &&
          (a.id === id ||
            (a.name === c.name && findUser(a.user as Record<string, unknown>)?.id === c.userId)),
      );
      if (!found || a!.secret !== found[1].secret) return unauthorized();
      return issue(found[1].projectId);
    }
    return keystoneError(401, 'Unauthorized', `method ${String(methods[0])} is not supported`);
  }

  function designate(req: RecordedRequest, region: string, rest: string): FakeReply {
    const token = tokens.get(String(req.headers['x-auth-token'] ?? ''));
    if (!token || token.expiresAt < Date.now())
      return designateError(401, 'unauthorized', 'Authentication required');
    if (!o.regions.includes(region)) return designateError(404, 'not_found', 'unknown region');
    if (req.method === 'GET' && rest === '/v2/zones') {
      const name = req.query.get('name');
      const mine = [...zones]
        .filter(
          ([, z]) => z.projectId === token.projectId && (name === null || z.name === name.toLowerCase()),
        )
        .map(([id, z]) => ({ id, name: z.name, status: 'ACTIVE', project_id: z.projectId }));
      return {
        status: 200,
        json: {
          zones: mine,
          links: { self: `${origin}${req.path}` },
          metadata: { total_count: mine.length },
        },
      };
    }
    const m = /^\/v2\/zones\/([0-9a-f-]+)\/recordsets(?:\/([0-9a-f-]+))?$/.exec(rest);
    const zone = m ? zones.get(m[1]!) : undefined;
    if (!m || !zone || zone.projectId !== token.projectId)
      return designateError(404, 'zone_not_found', 'Could not find Zone');
    const zoneId = m[1]!;
    const show = (s: FakeDesignateRecordSet, status = 'ACTIVE') => ({
      id: s.id,
      zone_id: s.zoneId,
      zone_name: zone.name,
      name: s.name,
      type: 'TXT',
      ttl: s.ttl,
      records: s.records,
      status,
      action: 'NONE',
    });
    const checkRecords = (records: unknown): FakeReply | undefined => {
      if (
        !Array.isArray(records) ||
        records.length === 0 ||
        records.some((r) => typeof r !== 'string' || r === '')
      )
        return designateError(400, 'invalid_object', "'records' must be a non-empty list of strings");
      if (new Set(records).size !== records.length)
        return designateError(400, 'invalid_object', 'duplicate records');
      return undefined;
    };
    if (m[2] === undefined) {
      if (req.method === 'GET') {
        const name = req.query.get('name');
        const type = req.query.get('type');
        const list = [...sets.values()].filter(
          (s) =>
            s.zoneId === zoneId &&
            (name === null || s.name === name.toLowerCase()) &&
            (type === null || type === 'TXT'),
        );
        return {
          status: 200,
          json: {
            recordsets: list.map((s) => show(s)),
            links: { self: 'x' },
            metadata: { total_count: list.length },
          },
        };
      }
      if (req.method === 'POST') {
        const b = jsonBody(req);
        if (!b || typeof b.name !== 'string' || !b.name.endsWith('.') || b.type !== 'TXT')
          return designateError(400, 'invalid_object', 'name (fully qualified) and type are required');
        const name = b.name.toLowerCase();
        if (name !== zone.name && !name.endsWith(`.${zone.name}`))
          return designateError(400, 'invalid_recordset_location', 'RecordSet belongs in a child zone');
        const bad = checkRecords(b.records);
        if (bad) return bad;
        if ([...sets.values()].some((s) => s.zoneId === zoneId && s.name === name))
          return designateError(409, 'duplicate_recordset', 'Duplicate RecordSet');
        const s = {
          id: randomUUID(),
          zoneId,
          name,
          ttl: typeof b.ttl === 'number' ? b.ttl : 3600,
          records: b.records as string[],
        };
        sets.set(s.id, s);
        return { status: 202, json: show(s, 'PENDING') };
      }
    }
    const s = m[2] ? sets.get(m[2]) : undefined;
    if (!s || s.zoneId !== zoneId)
      return designateError(404, 'recordset_not_found', 'Could not find RecordSet');
    if (req.method === 'PUT') {
      const b = jsonBody(req);
      if (b?.name !== undefined || b?.type !== undefined)
        return designateError(400, 'invalid_object', 'name and type cannot be changed');
      const bad = checkRecords(b?.records);
      if (bad) return bad;
      s.records = b!.records as string[];
      if (typeof b!.ttl === 'number') s.ttl = b!.ttl;
      return { status: 202, json: show(s, 'PENDING') };
    }
    if (req.method === 'DELETE') {
      sets.delete(s.id);
      return { status: 202, json: show(s, 'PENDING') };
    }
    return designateError(405, 'method_not_allowed', 'method not allowed');
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/identity/v3/auth/tokens') return authenticate(req);
    const m = /^\/dns\/([^/]+)(\/.*)$/.exec(req.path);
    if (m) return designate(req, m[1]!, m[2]!);
    return designateError(404, 'not_found', 'The resource could not be found.');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  origin = server.origin;
  return {
    authUrl: `${server.origin}/identity`,
    requests: server.requests,
    tokensIssued: () => issued,
    expireTokens: () => {
      for (const t of tokens.values()) t.expiresAt = 0;
    },
    recordSets: () => [...sets.values()],
    values: async (fqdn) =>
      [...sets.values()].filter((s) => s.name === `${nameKey(fqdn)}.`).flatMap((s) => s.records),
    failNext: server.failNext,
    close: server.close,
  };
}
