import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeRackspaceOptions {
  readonly ca: TestCa;
  /** Users: name → API key, tenant (account number) and the domains of that account. */
  readonly users: Readonly<
    Record<string, { readonly apiKey: string; readonly tenant: string; readonly domains: readonly string[] }>
  >;
  /** Token lifetime in ms (default a day). */
  readonly tokenLifetimeMs?: number;
  /** How many status polls answer RUNNING before a job completes (default 1). */
  readonly runningPolls?: number;
  /** Largest page of a record search (Rackspace: 100). */
  readonly maxPageSize?: number;
  /** The server's clock, Unix milliseconds (default Date.now). */
  readonly now?: () => number;
}

export interface FakeRackspace {
  /** For RACKSPACE_IDENTITY_URL: https://127.0.0.1:<port>/v2.0 */
  readonly identityUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  tokensIssued(): number;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domainId: number;
  /** Full name, lower case. */
  readonly name: string;
  readonly type: string;
  readonly data: string;
  readonly ttl: number;
}

interface Job {
  readonly jobId: string;
  readonly verb: string;
  readonly requestUrl: string;
  polls: number;
  /** Runs when the job completes: the details of its response, or an error. */
  readonly apply: () => { response?: unknown; error?: { code: number; message: string; details?: string } };
  result?: { response?: unknown; error?: { code: number; message: string; details?: string } };
}

const fault = (status: number, message: string, details?: string): FakeReply => ({
  status,
  json: { code: status, message, ...(details ? { details } : {}) },
});

/**
 * A fake of the Rackspace Identity service (v2.0 tokens with RAX-KSKEY:apiKeyCredentials, a service
 * catalog naming the cloudDNS endpoint) and of Cloud DNS v1.0 as Rackspace documents them: X-Auth-Token on
 * every call and only for the token's tenant, GET /domains?name= (exact name), record search with type,
 * name, limit and offset (404 when nothing matches), POST and DELETE ?id= answered 202 with a job that the
 * client follows at /status/<jobId>?showDetails=true (RUNNING, then COMPLETED with the created records, or
 * ERROR), TTLs of 300 s and more, and Rackspace's faults ({code, message, details}; validation errors).
 */
export async function startFakeRackspace(o: FakeRackspaceOptions): Promise<FakeRackspace> {
  const tokens = new Map<string, { tenant: string; expiresAt: number; domains: string[] }>();
  const domainIds = new Map<number, string>();
  let nextDomainId = 2725233;
  const records = new Map<string, StoredRecord>();
  const jobs = new Map<string, Job>();
  let nextRecord = 1000;
  let issued = 0;
  const maxPage = o.maxPageSize ?? 100;
  const now = o.now ?? Date.now;
  const idOf = (domain: string): number => {
    for (const [id, d] of domainIds) if (d === domain) return id;
    const id = nextDomainId++;
    domainIds.set(id, domain);
    return id;
  };
  for (const u of Object.values(o.users)) for (const d of u.domains) idOf(nameKey(d));
  let origin = '';

  function login(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return fault(405, 'Method not allowed');
    const creds = (jsonBody(req)?.auth as Record<string, unknown> | undefined)?.[
      'RAX-KSKEY:apiKeyCredentials'
    ] as { username?: unknown; apiKey?: unknown } | undefined;
    if (typeof creds?.username !== 'string' || typeof creds.apiKey !== 'string')
      return { status: 400, json: { badRequest: { code: 400, message: 'Invalid json request body' } } };
    const user = o.users[creds.username];
    if (!user || user.apiKey !== creds.apiKey)
      return {
        status: 401,
        json: { unauthorized: { code: 401, message: 'Username or api key is invalid.' } },
      };
    const id = randomBytes(16).toString('hex');
    const expiresAt = now() + (o.tokenLifetimeMs ?? 86_400_000);
    tokens.set(id, { tenant: user.tenant, expiresAt, domains: user.domains.map(nameKey) });
    issued++;
    return {
      status: 200,
      json: {
        access: {
          token: {
            id,
            expires: new Date(expiresAt).toISOString(),
            tenant: { id: user.tenant, name: user.tenant },
            'RAX-AUTH:authenticatedBy': ['APIKEY'],
          },
          serviceCatalog: [
            {
              name: 'cloudServersOpenStack',
              type: 'compute',
              endpoints: [
                { publicURL: `${origin}/compute/v2/${user.tenant}`, region: 'DFW', tenantId: user.tenant },
              ],
            },
            {
              name: 'cloudDNS',
              type: 'rax:dns',
              endpoints: [{ publicURL: `${origin}/v1.0/${user.tenant}`, tenantId: user.tenant }],
            },
          ],
          user: { id: '123', name: creds.username, roles: [] },
        },
      },
    };
  }

  function jobView(job: Job, details: boolean) {
    const base = {
      jobId: job.jobId,
      callbackUrl: `${origin}${job.requestUrl.split('/domains')[0]}/status/${job.jobId}`,
      requestUrl: `${origin}${job.requestUrl}`,
      verb: job.verb,
    };
    if (!job.result) return { ...base, status: job.polls === 0 ? 'INITIALIZED' : 'RUNNING' };
    if (job.result.error)
      return { ...base, status: 'ERROR', ...(details ? { error: job.result.error } : {}) };
    return {
      ...base,
      status: 'COMPLETED',
      ...(details && job.result.response ? { response: job.result.response } : {}),
    };
  }

  function startJob(req: RecordedRequest, apply: Job['apply']): FakeReply {
    const job: Job = {
      jobId: randomBytes(8).toString('hex'),
      verb: req.method,
      requestUrl: req.path,
      polls: 0,
      apply,
    };
    jobs.set(job.jobId, job);
    return { status: 202, json: jobView(job, false) };
  }

  function dns(req: RecordedRequest, tenant: string, rest: string): FakeReply {
    const token = tokens.get(String(req.headers['x-auth-token'] ?? ''));
    if (!token || token.expiresAt < now()) return fault(401, 'Unauthorized', 'Authentication required.');
    if (token.tenant !== tenant)
      return fault(401, 'Unauthorized', 'The token is not valid for this account.');

    const status = /^\/status\/([0-9a-f]+)$/.exec(rest);
    if (status) {
      const job = jobs.get(status[1]!);
      if (!job || req.method !== 'GET') return fault(404, 'Not Found', 'Object not Found.');
      job.polls++;
      if (!job.result && job.polls > (o.runningPolls ?? 1)) job.result = job.apply();
      return { status: 200, json: jobView(job, req.query.get('showDetails') === 'true') };
    }
    if (rest === '/domains' && req.method === 'GET') {
      const name = req.query.get('name');
      const list = [...domainIds]
        .filter(([, d]) => token.domains.includes(d) && (name === null || d === nameKey(name)))
        .map(([id, d]) => ({ id, name: d, accountId: Number(tenant), emailAddress: `hostmaster@${d}` }));
      return { status: 200, json: { domains: list, totalEntries: list.length } };
    }
    const m = /^\/domains\/(\d+)\/records$/.exec(rest);
    if (!m) return fault(404, 'Not Found', 'Object not Found.');
    const domainId = Number(m[1]);
    const domain = domainIds.get(domainId);
    if (!domain || !token.domains.includes(domain)) return fault(404, 'Not Found', 'Object not Found.');

    if (req.method === 'GET') {
      const limit = Number(req.query.get('limit') ?? 100);
      const offset = Number(req.query.get('offset') ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0)
        return fault(400, 'Bad Request', 'limit must be 1-100 and offset 0 or more.');
      const type = req.query.get('type');
      const name = req.query.get('name');
      const all = [...records.values()].filter(
        (r) => r.domainId === domainId && (!type || r.type === type) && (!name || r.name === nameKey(name)),
      );
      if (all.length === 0 && (type || name)) return fault(404, 'Not Found', 'Object not Found.');
      const per = Math.min(limit, maxPage);
      const page = all.slice(offset, offset + per).map(({ domainId: _d, ...r }) => r);
      return { status: 200, json: { records: page, totalEntries: all.length } };
    }
    if (req.method === 'POST') {
      const list = jsonBody(req)?.records;
      if (!Array.isArray(list) || list.length === 0)
        return fault(400, 'Bad Request', 'records are required.');
      const messages: string[] = [];
      for (const r of list as { name?: unknown; type?: unknown; data?: unknown; ttl?: unknown }[]) {
        if (r.type !== 'TXT') messages.push('type is required');
        if (
          typeof r.name !== 'string' ||
          !(nameKey(r.name) === domain || nameKey(r.name).endsWith(`.${domain}`))
        )
          messages.push('name must be inside the domain');
        if (typeof r.data !== 'string' || r.data === '') messages.push('data is required');
        if (r.ttl !== undefined && (typeof r.ttl !== 'number' || r.ttl < 300))
          messages.push('Ttl must be greater than or equal to 300.');
      }
      if (messages.length > 0)
        return {
          status: 400,
          json: { validationErrors: { messages }, code: 400, message: 'Validation failed.' },
        };
      return startJob(req, () => {
        const created = (list as { name: string; data: string; ttl?: number }[]).map((r) => {
          const stored: StoredRecord = {
            id: `TXT-${nextRecord++}`,
            domainId,
            name: nameKey(r.name),
            type: 'TXT',
            data: r.data,
            ttl: r.ttl ?? 3600,
          };
          records.set(stored.id, stored);
          const { domainId: _d, ...shown } = stored;
          return shown;
        });
        return { response: { records: created } };
      });
    }
    if (req.method === 'DELETE') {
      const ids = req.query.getAll('id');
      if (ids.length === 0) return fault(400, 'Bad Request', 'id is required.');
      return startJob(req, () => {
        const missing = ids.filter((id) => records.get(id)?.domainId !== domainId);
        if (missing.length > 0)
          return {
            error: { code: 404, message: 'Not Found', details: `Record ID not found: ${missing.join(', ')}` },
          };
        for (const id of ids) records.delete(id);
        return {};
      });
    }
    return fault(405, 'Method Not Allowed');
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/v2.0/tokens') return login(req);
    const m = /^\/v1\.0\/(\d+)(\/.*)$/.exec(req.path);
    if (!m) return fault(404, 'Not Found', 'Object not Found.');
    return dns(req, m[1]!, m[2]!);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  origin = server.origin;
  return {
    identityUrl: `${server.origin}/v2.0`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn)).map((r) => r.data),
    tokensIssued: () => issued,
    failNext: server.failNext,
    close: server.close,
  };
}
