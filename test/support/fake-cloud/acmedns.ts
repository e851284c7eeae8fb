import { randomBytes, randomUUID } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeAcmeDnsOptions {
  readonly ca: TestCa;
  /** The acme-dns server's own zone: accounts get <uuid>.<domain>. Default auth.acme-dns.test. */
  readonly domain?: string;
  /** Every password starts with it (the rest random, 40 characters in all): a canary for logs and errors. */
  readonly passwordPrefix?: string;
}

export interface FakeAcmeDnsAccount {
  readonly fulldomain: string;
  readonly subdomain: string;
  readonly username: string;
  readonly password: string;
}

export interface FakeAcmeDns {
  /** For ACME_DNS_API_BASE: https://127.0.0.1:<port> */
  readonly apiBase: string;
  readonly requests: RecordedRequest[];
  /** The values served for a subdomain or its full name (empty slots left out, as acme-dns does). */
  values(subdomainOrFulldomain: string): string[];
  /** Accounts registered so far, by subdomain. */
  readonly accounts: ReadonlyMap<string, FakeAcmeDnsAccount & { readonly allowfrom: readonly string[] }>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const PASSWORD_LENGTH = 40;
const SAFE = /^[A-Za-z0-9_-]*$/;
const SUBDOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const error = (status: number, message: string): FakeReply => ({ status, json: { error: message } });

/**
 * A fake of joohoi's acme-dns HTTP API as its README documents it: POST /register (an optional JSON body
 * with allowfrom networks in CIDR notation; 201 with username, password, fulldomain, subdomain, allowfrom),
 * POST /update with X-Api-User (a UUID) and X-Api-Key (40 URL-safe characters) and {subdomain, txt} (the
 * subdomain must be the account's, the txt 43 URL-safe characters), {"error": "..."} answers (forbidden
 * with 401, bad_txt, bad_subdomain, malformed_json_payload, invalid_allowfrom_cidr with 400), GET /health.
 * Each subdomain holds two values: an update replaces the older one. Clients always come from 127.0.0.1.
 */
export async function startFakeAcmeDns(o: FakeAcmeDnsOptions): Promise<FakeAcmeDns> {
  const zone = nameKey(o.domain ?? 'auth.acme-dns.test');
  const prefix = o.passwordPrefix ?? '';
  const accounts = new Map<string, FakeAcmeDnsAccount & { allowfrom: string[] }>();
  /** subdomain → two slots, each [value, sequence of its last update]. */
  const slots = new Map<string, [string, number][]>();
  let sequence = 0;

  function register(req: RecordedRequest): FakeReply {
    let allowfrom: string[] = [];
    if (req.body !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.body);
      } catch {
        return error(400, 'malformed_json_payload');
      }
      const list = (parsed as { allowfrom?: unknown } | null)?.allowfrom;
      if (list !== undefined && list !== null) {
        if (!Array.isArray(list) || !list.every((c) => typeof c === 'string' && validCidr(c)))
          return error(400, 'invalid_allowfrom_cidr');
        allowfrom = list as string[];
      }
    }
    const subdomain = randomUUID();
    const account = {
      username: randomUUID(),
      password: (prefix + randomBytes(PASSWORD_LENGTH).toString('base64url')).slice(0, PASSWORD_LENGTH),
      fulldomain: `${subdomain}.${zone}`,
      subdomain,
      allowfrom,
    };
    accounts.set(subdomain, account);
    slots.set(subdomain, [
      ['', 0],
      ['', 0],
    ]);
    return { status: 201, json: account };
  }

  function update(req: RecordedRequest): FakeReply {
    const username = String(req.headers['x-api-user'] ?? '');
    const key = String(req.headers['x-api-key'] ?? '');
    if (!UUID.test(username) || key.length !== PASSWORD_LENGTH || !SAFE.test(key))
      return error(401, 'forbidden');
    const account = [...accounts.values()].find((a) => a.username === username);
    if (!account || account.password !== key) return error(401, 'forbidden');
    if (account.allowfrom.length > 0 && !account.allowfrom.some((net) => contains(net, '127.0.0.1')))
      return error(401, 'forbidden');
    let body: { subdomain?: unknown; txt?: unknown } = {};
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      // An undecodable body leaves the subdomain empty: refused as a mismatch, as acme-dns does.
    }
    if (body.subdomain !== account.subdomain) return error(401, 'forbidden');
    if (typeof body.subdomain !== 'string' || !SUBDOMAIN.test(body.subdomain))
      return error(400, 'bad_subdomain');
    if (typeof body.txt !== 'string' || body.txt.length !== 43 || !SAFE.test(body.txt))
      return error(400, 'bad_txt');
    const held = slots.get(account.subdomain)!;
    const older = held[0]![1] <= held[1]![1] ? 0 : 1;
    held[older] = [body.txt, ++sequence];
    return { status: 200, json: { txt: body.txt } };
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/register' && req.method === 'POST') return register(req);
    if (req.path === '/update' && req.method === 'POST') return update(req);
    if (req.path === '/health' && req.method === 'GET') return { status: 200, text: '' };
    return {
      status: req.path === '/register' || req.path === '/update' ? 405 : 404,
      text: '404 page not found',
    };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiBase: server.origin,
    requests: server.requests,
    accounts,
    values(name) {
      const key = nameKey(name);
      const subdomain = key.endsWith(`.${zone}`) ? key.slice(0, -(zone.length + 1)) : key;
      return (slots.get(subdomain) ?? []).map(([v]) => v).filter((v) => v !== '');
    },
    failNext: server.failNext,
    close: server.close,
  };
}

export interface FakeAccountStorage {
  /** For ACME_DNS_STORAGE_BASE_URL: https://127.0.0.1:<port>/accounts */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  readonly accounts: Map<string, unknown>;
  close(): Promise<void>;
}

/**
 * A fake of lego's acme-dns HTTP account storage: GET <base>/<domain> (200 with the account, 404 when
 * none), POST <base>/<domain> with the account (201: "the CNAME is created by the server", or 200: the
 * user must create it), GET <base> (every account by domain). `answer` can stand in for the stored
 * accounts (a storage that hands out accounts the acme-dns server refuses).
 */
export async function startFakeAccountStorage(o: {
  readonly ca: TestCa;
  /** Status of a POST: 201 (the storage server creates the CNAME) or 200. Default 201. */
  readonly putStatus?: 200 | 201;
  readonly answer?: (domain: string) => unknown;
}): Promise<FakeAccountStorage> {
  const accounts = new Map<string, unknown>();
  const server = await startFakeHttpsServer(o.ca, (req) => {
    if (req.path === '/accounts' && req.method === 'GET')
      return { status: 200, json: Object.fromEntries(accounts) };
    const m = /^\/accounts\/([^/]+)$/.exec(req.path);
    if (!m) return { status: 404, text: 'not found' };
    const domain = decodeURIComponent(m[1]!);
    if (req.method === 'GET') {
      const found = o.answer?.(domain) ?? accounts.get(domain);
      return found === undefined ? { status: 404, text: 'not found' } : { status: 200, json: found };
    }
    if (req.method === 'POST') {
      try {
        accounts.set(domain, JSON.parse(req.body));
      } catch {
        return { status: 400, text: 'bad account' };
      }
      return { status: o.putStatus ?? 201, text: '' };
    }
    return { status: 405, text: 'method not allowed' };
  });
  return {
    baseUrl: `${server.origin}/accounts`,
    requests: server.requests,
    accounts,
    close: server.close,
  };
}

function validCidr(cidr: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return false;
  const bits = Number(m[2]);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!))
    return bits <= 32 && m[1]!.split('.').every((o) => Number(o) <= 255);
  return m[1]!.includes(':') && /^[0-9a-fA-F:]+$/.test(m[1]!) && bits <= 128;
}

/** Whether an IPv4 network holds the address (IPv6 networks hold no IPv4 address). */
function contains(cidr: string, ip: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (!net || net.includes(':')) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bitsText));
  return Math.floor(toInt(net) / size) === Math.floor(toInt(ip) / size);
}
