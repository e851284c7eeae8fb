import { createHash } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNfsnOptions {
  readonly ca: TestCa;
  /** Members: login → API key and the domains whose DNS they manage. */
  readonly members: Readonly<
    Record<string, { readonly apiKey: string; readonly domains: readonly string[] }>
  >;
  /** The server's clock, Unix milliseconds (default Date.now). */
  readonly now?: () => number;
}

export interface FakeNfsn {
  /** For NEARLYFREESPEECH_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly domain: string;
  /** Relative to the domain, "" at the apex. */
  readonly name: string;
  readonly type: string;
  readonly data: string;
  readonly ttl: number;
}

const fail = (status: number, error: string, debug: string): FakeReply => ({
  status,
  json: { error, debug },
});
const unauthenticated = (debug: string) => fail(401, 'The API request could not be authenticated.', debug);
const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');

/**
 * A fake of the NearlyFreeSpeech.NET API's DNS methods as NearlyFreeSpeech.NET documents them. Every
 * request must carry X-NFSN-Authentication "login;timestamp;salt;hash": the fake recomputes the hash
 * (sha1 of login, timestamp, salt, API key, request URI and the sha1 of the body, joined by ";"), refuses a
 * timestamp more than 5 minutes off, a salt that is not 16 letters and digits, and a salt used before.
 * POST /dns/<domain>/listRRs | addRR | removeRR with form bodies; listRRs answers a JSON array; errors are
 * {error, debug} with a 4xx status.
 */
export async function startFakeNfsn(o: FakeNfsnOptions): Promise<FakeNfsn> {
  const records: StoredRecord[] = [];
  const usedSalts = new Set<string>();
  const now = o.now ?? Date.now;

  function authenticate(req: RecordedRequest): { domains: readonly string[] } | FakeReply {
    const header = req.headers['x-nfsn-authentication'];
    if (typeof header !== 'string')
      return unauthenticated('The X-NFSN-Authentication header is not present.');
    const parts = header.split(';');
    if (parts.length !== 4) return unauthenticated('The X-NFSN-Authentication header is malformed.');
    const [login, stamp, salt, hash] = parts as [string, string, string, string];
    const member = o.members[login];
    if (!member) return unauthenticated('The login is not known.');
    if (!/^\d+$/.test(stamp) || Math.abs(Number(stamp) - now() / 1000) > 300)
      return unauthenticated('The timestamp is not within 5 minutes of the server time.');
    if (!/^[A-Za-z0-9]{16}$/.test(salt)) return unauthenticated('The salt must be 16 letters and digits.');
    const uri = `${req.path}${req.query.size > 0 ? `?${req.query}` : ''}`;
    const expected = sha1([login, stamp, salt, member.apiKey, uri, sha1(req.body)].join(';'));
    if (hash !== expected) return unauthenticated('The hash does not match.');
    if (usedSalts.has(`${login};${salt}`)) return unauthenticated('The salt has been used before.');
    usedSalts.add(`${login};${salt}`);
    return member;
  }

  function handle(req: RecordedRequest): FakeReply {
    const auth = authenticate(req);
    if ('status' in auth) return auth;
    const m = /^\/dns\/([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (!m) return fail(404, 'The requested object does not exist.', `No such path ${req.path}.`);
    const domain = nameKey(decodeURIComponent(m[1]!));
    if (!auth.domains.map(nameKey).includes(domain))
      return fail(404, 'The requested object does not exist.', `No DNS object ${domain} for this member.`);
    if (req.method !== 'POST') return fail(405, 'Method not allowed.', 'Use POST.');
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return fail(400, 'Bad request.', 'The body must be application/x-www-form-urlencoded.');
    const form = new URLSearchParams(req.body);
    const name = (form.get('name') ?? '').toLowerCase();
    const type = form.get('type') ?? '';
    const data = form.get('data') ?? '';
    switch (m[2]) {
      case 'listRRs':
        return {
          status: 200,
          json: records
            .filter(
              (r) =>
                r.domain === domain &&
                (!form.get('name') || r.name === name) &&
                (!type || r.type === type) &&
                (!data || r.data === data),
            )
            .map(({ name: n, type: t, data: d, ttl }) => ({
              name: n,
              type: t,
              data: d,
              ttl,
              scope: 'member',
            })),
        };
      case 'addRR': {
        if (!form.has('name') || name.endsWith('.'))
          return fail(400, 'Invalid parameter.', 'name must be relative to the domain.');
        if (type !== 'TXT') return fail(400, 'Invalid parameter.', 'type is required.');
        if (!data) return fail(400, 'Invalid parameter.', 'data is required.');
        const ttl = Number(form.get('ttl') ?? 3600);
        if (!Number.isInteger(ttl) || ttl < 1)
          return fail(400, 'Invalid parameter.', 'ttl must be a number.');
        if (records.some((r) => r.domain === domain && r.name === name && r.type === type && r.data === data))
          return fail(400, 'Duplicate resource record.', 'That record already exists.');
        records.push({ domain, name, type, data, ttl });
        return { status: 200, text: '' };
      }
      case 'removeRR': {
        const i = records.findIndex(
          (r) => r.domain === domain && r.name === name && r.type === type && r.data === data,
        );
        if (i < 0) return fail(404, 'No such resource record.', 'Nothing matches name, type and data.');
        records.splice(i, 1);
        return { status: 200, text: '' };
      }
      default:
        return fail(404, 'The requested object does not exist.', `No method ${m[2]}.`);
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      records
        .filter(
          (r) => r.type === 'TXT' && (r.name === '' ? r.domain : `${r.name}.${r.domain}`) === nameKey(fqdn),
        )
        .map((r) => r.data),
    failNext: server.failNext,
    close: server.close,
  };
}
