import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNamecomOptions {
  readonly ca: TestCa;
  /** Domains of the account: "example.test". */
  readonly domains: readonly string[];
  /** User name → API token. */
  readonly users: Readonly<Record<string, string>>;
  /** Largest page the records list serves (Name.com: 1,000); small values exercise paging. */
  readonly maxPageSize?: number;
}

export interface FakeNamecom {
  /** For NAMECOM_SERVER: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domainName: string;
  /** Relative, lower case; "" at the apex. */
  readonly host: string;
  readonly type: string;
  readonly answer: string;
  readonly ttl: number;
}

const apiError = (status: number, message: string, details?: string): FakeReply => ({
  status,
  json: { message, ...(details ? { details } : {}) },
});

/**
 * A fake of the Name.com API v4 DNS endpoints as Name.com documents them: HTTP Basic authentication
 * (user name, API token), records of a domain listed in pages (page, perPage; nextPage and lastPage
 * only while more follow), created with POST {host, type, answer, ttl} (host relative, "" or "@" at the
 * apex, TTL at least 300) and deleted by id, and {message, details} errors.
 */
export async function startFakeNamecom(o: FakeNamecomOptions): Promise<FakeNamecom> {
  const domains = new Set(o.domains.map(nameKey));
  const records = new Map<number, StoredRecord>();
  let nextId = 100;
  const maxPageSize = o.maxPageSize ?? 1000;
  const fqdnOf = (r: StoredRecord) => (r.host === '' ? `${r.domainName}.` : `${r.host}.${r.domainName}.`);
  const json = (r: StoredRecord) => ({
    id: r.id,
    domainName: r.domainName,
    ...(r.host === '' ? {} : { host: r.host }),
    fqdn: fqdnOf(r),
    type: r.type,
    answer: r.answer,
    ttl: r.ttl,
  });

  function handle(req: RecordedRequest): FakeReply {
    const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    const [user, ...rest] = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':') : [];
    if (!user || o.users[user] === undefined || o.users[user] !== rest.join(':'))
      return apiError(401, 'Unauthenticated');
    const m = /^\/v4\/domains\/([^/]+)\/records(?:\/(\d+))?$/.exec(req.path);
    if (!m) return apiError(404, 'Not Found');
    const domainName = decodeURIComponent(m[1]!).toLowerCase();
    if (!domains.has(domainName))
      return apiError(404, 'Not Found', `domain ${domainName} is not in this account`);

    if (req.method === 'GET' && m[2] === undefined) {
      const perPage = Math.min(Number(req.query.get('perPage') ?? 1000), maxPageSize);
      const page = Number(req.query.get('page') ?? 1);
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1)
        return apiError(400, 'Invalid Argument', 'page and perPage must be positive integers');
      const all = [...records.values()].filter((r) => r.domainName === domainName);
      const lastPage = Math.max(1, Math.ceil(all.length / perPage));
      return {
        status: 200,
        json: {
          records: all.slice((page - 1) * perPage, page * perPage).map(json),
          ...(page < lastPage ? { nextPage: page + 1, lastPage } : {}),
        },
      };
    }
    if (req.method === 'POST' && m[2] === undefined) {
      const b = jsonBody(req);
      if (!b) return apiError(400, 'Invalid Argument', 'the body must be a JSON record');
      if (typeof b.host !== 'string' || b.host.endsWith('.'))
        return apiError(400, 'Invalid Argument', 'host must be relative to the domain');
      if (b.type !== 'TXT') return apiError(400, 'Invalid Argument', 'this fake stores TXT records only');
      if (typeof b.answer !== 'string' || b.answer === '')
        return apiError(400, 'Invalid Argument', 'answer is required');
      if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || (b.ttl as number) < 300))
        return apiError(400, 'Invalid Argument', 'TTL must be at least 300');
      const stored: StoredRecord = {
        id: nextId++,
        domainName,
        host: b.host === '@' ? '' : b.host.toLowerCase(),
        type: 'TXT',
        answer: b.answer,
        ttl: typeof b.ttl === 'number' ? b.ttl : 300,
      };
      records.set(stored.id, stored);
      return { status: 200, json: json(stored) };
    }
    if (req.method === 'DELETE' && m[2] !== undefined) {
      const r = records.get(Number(m[2]));
      if (!r || r.domainName !== domainName) return apiError(404, 'Not Found', 'record not found');
      records.delete(r.id);
      return { status: 200, json: {} };
    }
    return apiError(405, 'Method Not Allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === `${nameKey(fqdn)}.`)
        .map((r) => r.answer),
    failNext: server.failNext,
    close: server.close,
  };
}
