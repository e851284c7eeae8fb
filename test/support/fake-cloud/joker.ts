import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeJokerOptions {
  readonly ca: TestCa;
  /** Joker.com accounts: user name → password and domains. */
  readonly accounts: Readonly<
    Record<string, { readonly password: string; readonly domains: readonly string[] }>
  >;
  /** DMAPI API keys: key → the account it belongs to, and whether it may only read. */
  readonly apiKeys?: Readonly<Record<string, { readonly account: string; readonly readOnly?: boolean }>>;
  /** Dynamic DNS credentials per domain (SVC). */
  readonly dynDns?: Readonly<Record<string, { readonly username: string; readonly password: string }>>;
  /** Lines every zone starts with (other records that must survive). */
  readonly zoneLines?: readonly string[];
}

export interface FakeJoker {
  /** For JOKER_DMAPI_URL: https://127.0.0.1:<port>/request */
  readonly dmapiUrl: string;
  /** For JOKER_SVC_URL: https://127.0.0.1:<port>/nic/replace */
  readonly svcUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The zone as dns-zone-get would answer it. */
  zone(domain: string): string[];
  /** Sessions opened by login so far. */
  logins(): number;
  /** Every session ends, as after an hour without requests. */
  endSessions(): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

/** A DMAPI answer: header lines, an empty line, the body. */
function dmapiReply(status: number, headers: Record<string, string | number>, body = ''): FakeReply {
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return { status, text: `${head}\n\n${body}` };
}
const ok = (extra: Record<string, string | number> = {}, body = '') =>
  dmapiReply(
    200,
    {
      'Tracking-Id': randomBytes(6).toString('hex'),
      ...extra,
      'Status-Code': 0,
      'Status-Text': 'Command completed successfully',
      Result: 'ACK',
    },
    body,
  );
const nack = (status: number, code: number, text: string, error: string) =>
  dmapiReply(status, { 'Status-Code': code, 'Status-Text': text, Result: 'NACK', Error: error });

/** A zone line's words, quoted words unquoted: written here apart from the provider's. */
function fields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
    } else if (line[i] === '"') {
      let word = '';
      for (i++; i < line.length && line[i] !== '"'; i++) word += line[i] === '\\' ? line[++i] : line[i];
      if (line[i] !== '"') throw new Error('unterminated quote');
      out.push(word);
      i++;
    } else {
      let word = '';
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') word += line[i++];
      out.push(word);
    }
  }
  return out;
}

const TYPES = new Set([
  'A',
  'AAAA',
  'MX',
  'CNAME',
  'URL',
  'MAILFW',
  'TXT',
  'NAPTR',
  'DYNA',
  'DYNAAAA',
  'SRV',
  'CAA',
  'NS',
  'FRAME',
]);

/**
 * A fake of Joker.com as Joker documents it. DMAPI: form requests to /request/<command> answered as header
 * lines, an empty line and a body; login with username and password or api-key gives Auth-Sid; every other
 * command needs auth-sid (HTTP 401 otherwise); dns-zone-get answers the zone a record a line, dns-zone-put
 * replaces it after checking every line ("<label> <type> <pri> <target> <ttl>", pri 0 but for MX/SRV/NAPTR,
 * TTL 60 s or more, targets with spaces quoted); read-only API keys may not write. SVC: POST /nic/replace
 * with the Dynamic DNS credentials of the zone replaces every TXT value of a label (an empty value removes
 * them) and answers "OK: …" ("badauth" with 401 otherwise).
 */
export async function startFakeJoker(o: FakeJokerOptions): Promise<FakeJoker> {
  const zones = new Map<string, string[]>();
  for (const a of Object.values(o.accounts))
    for (const d of a.domains) zones.set(nameKey(d), [...(o.zoneLines ?? [])]);
  const sessions = new Map<string, { account: string; readOnly: boolean }>();
  let logins = 0;

  function params(req: RecordedRequest): URLSearchParams | undefined {
    if (req.method === 'GET') return req.query;
    if (req.method !== 'POST') return undefined;
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return undefined;
    return new URLSearchParams(req.body);
  }

  function checkZone(text: string): string | undefined {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    for (const [n, line] of lines.entries()) {
      if (line.startsWith('$')) continue;
      let w: string[];
      try {
        w = fields(line);
      } catch {
        return `line ${n + 1}: unterminated quote`;
      }
      if (w.length < 5) return `line ${n + 1}: too few fields`;
      const [label, type, pri, , ttl] = w as [string, string, string, string, string];
      if (!/^(@|[A-Za-z0-9_*.-]+)$/.test(label)) return `line ${n + 1}: bad label`;
      if (!TYPES.has(type)) return `line ${n + 1}: unknown type ${type}`;
      if (!/^\d+$/.test(pri) || (!['MX', 'SRV', 'NAPTR'].includes(type) && pri !== '0'))
        return `line ${n + 1}: priority must be 0 for ${type}`;
      if (!/^\d+$/.test(ttl) || Number(ttl) < 60) return `line ${n + 1}: ttl must be at least 60`;
      if (/\s/.test(w[3]!) && !line.includes('"'))
        return `line ${n + 1}: a target with spaces must be quoted`;
    }
    return undefined;
  }

  function dmapi(req: RecordedRequest, command: string): FakeReply {
    const p = params(req);
    if (!p) return nack(400, 2001, 'Command syntax error', 'send a form POST or a GET');
    if (command === 'login') {
      let account: string | undefined;
      let readOnly = false;
      const key = p.get('api-key');
      if (key !== null) {
        const k = o.apiKeys?.[key];
        account = k?.account;
        readOnly = k?.readOnly === true;
      } else {
        const user = p.get('username') ?? '';
        if (o.accounts[user] && o.accounts[user].password === p.get('password')) account = user;
      }
      if (!account) return nack(401, 2200, 'Authentication error', 'Invalid username/password or api-key');
      const sid = randomBytes(16).toString('hex');
      sessions.set(sid, { account, readOnly });
      logins++;
      return ok({ 'Auth-Sid': sid, UID: account, 'Account-Balance': '0.00' }, 'com\nnet\norg\n');
    }
    const session = sessions.get(p.get('auth-sid') ?? '');
    if (!session) return nack(401, 2200, 'Authentication error', 'Session expired or not logged in');
    const domain = nameKey(p.get('domain') ?? '');
    const owns = o.accounts[session.account]!.domains.map(nameKey).includes(domain);
    switch (command) {
      case 'logout':
        sessions.delete(p.get('auth-sid')!);
        return ok();
      case 'dns-zone-get':
        if (!owns) return nack(200, 2303, 'Object does not exist', `Domain ${domain} not found`);
        return ok({}, `${zones.get(domain)!.join('\n')}\n`);
      case 'dns-zone-put': {
        if (!owns) return nack(200, 2303, 'Object does not exist', `Domain ${domain} not found`);
        if (session.readOnly) return nack(200, 2400, 'Access denied', 'This API key is read-only');
        const zone = p.get('zone');
        if (zone === null) return nack(200, 2003, 'Required parameter missing', 'zone');
        const bad = checkZone(zone);
        if (bad) return nack(200, 2005, 'Parameter value syntax error', bad);
        zones.set(
          domain,
          zone.split('\n').filter((l) => l.trim() !== ''),
        );
        return ok({ 'Proc-ID': randomBytes(4).toString('hex') });
      }
      default:
        return nack(400, 2000, 'Unknown command', command);
    }
  }

  function svc(req: RecordedRequest): FakeReply {
    const p = params(req);
    if (!p || req.method !== 'POST') return { status: 400, text: 'badrequest' };
    const zone = nameKey(p.get('zone') ?? '');
    const creds = o.dynDns?.[zone];
    if (!creds || creds.username !== p.get('username') || creds.password !== p.get('password'))
      return { status: 401, text: 'badauth' };
    if (!zones.has(zone)) return { status: 400, text: 'nohost' };
    const label = (p.get('label') ?? '').toLowerCase();
    const type = p.get('type');
    if (!label || type !== 'TXT') return { status: 400, text: 'badrequest: label and type=TXT are required' };
    const value = p.get('value') ?? '';
    const lines = zones.get(zone)!;
    const kept = lines.filter((l) => {
      const w = l.startsWith('$') ? [] : fields(l);
      return !(w[0]?.toLowerCase() === label && w[1] === 'TXT');
    });
    const deleted = lines.length - kept.length;
    if (value) kept.push(`${label} TXT 0 "${value}" 120`);
    zones.set(zone, kept);
    return { status: 200, text: `OK: ${value ? 1 : 0} inserted, ${deleted} deleted` };
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^\/request\/([a-z-]+)$/.exec(req.path);
    if (m) return dmapi(req, m[1]!);
    if (req.path === '/nic/replace') return svc(req);
    return { status: 404, text: 'Not Found' };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    dmapiUrl: `${server.origin}/request`,
    svcUrl: `${server.origin}/nic/replace`,
    requests: server.requests,
    values: async (fqdn) => {
      const name = nameKey(fqdn);
      const out: string[] = [];
      for (const [domain, lines] of zones) {
        if (name !== domain && !name.endsWith(`.${domain}`)) continue;
        const label = name === domain ? '@' : name.slice(0, -(domain.length + 1));
        for (const l of lines) {
          if (l.startsWith('$')) continue;
          const w = fields(l);
          if (w[0]?.toLowerCase() === label && w[1] === 'TXT') out.push(w[3]!);
        }
      }
      return out;
    },
    zone: (domain) => [...(zones.get(nameKey(domain)) ?? [])],
    logins: () => logins,
    endSessions: () => sessions.clear(),
    failNext: server.failNext,
    close: server.close,
  };
}
