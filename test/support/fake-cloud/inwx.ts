import { createHmac, randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeInwxOptions {
  readonly ca: TestCa;
  /** Accounts: user → password, domains, and the base32 TOTP secret when two-factor is on. */
  readonly accounts: Readonly<
    Record<
      string,
      { readonly password: string; readonly domains: readonly string[]; readonly totpSecret?: string }
    >
  >;
  /** The server's clock, Unix milliseconds (default Date.now). */
  readonly now?: () => number;
}

export interface FakeInwx {
  /** For INWX_API_URL: https://127.0.0.1:<port>/jsonrpc */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The methods called so far, in order. */
  methods(): string[];
  /** Every session opened so far ends, as after a timeout. */
  endSessions(): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domain: string;
  /** Full name, lower case. */
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
}

const answer = (
  code: number,
  msg: string,
  extra: object = {},
  headers?: Record<string, string>,
): FakeReply => ({
  status: 200,
  json: { code, msg, ...extra },
  ...(headers ? { headers } : {}),
});
const AUTH_ERROR = answer(2200, 'Authentication error');

/** RFC 4648 base32 and an RFC 6238 code (HMAC-SHA-1, 30 s, 6 digits), written here apart from the provider's. */
function totp(secret: string, step: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/[=\s]/g, '').toUpperCase())
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => Number.parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(step / 2 ** 32), 0);
  msg.writeUInt32BE(step % 2 ** 32, 4);
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[19]! & 15;
  const n = ((h[o]! & 0x7f) << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!;
  return String(n % 1_000_000).padStart(6, '0');
}

/**
 * A fake of the INWX DomRobot JSON-RPC API as INWX documents it: POST /jsonrpc/ with {method, params},
 * answers {code, msg, resData} (1000 success, 2200 authentication error, 2302 object exists, 2303 object
 * does not exist, 2005 a value out of range); account.login sets the "domrobot" session cookie and, for an
 * account with two-factor authentication, leaves the session locked until account.unlock gets a TOTP code
 * of the current 30-second step or a neighbour, each code accepted once; nameserver.info, createRecord
 * (full names inside the domain, TTL 300 s or more) and deleteRecord by id need an open session.
 */
export async function startFakeInwx(o: FakeInwxOptions): Promise<FakeInwx> {
  const now = o.now ?? Date.now;
  const sessions = new Map<string, { user: string; unlocked: boolean }>();
  const usedTans = new Set<string>();
  const records = new Map<number, StoredRecord>();
  const called: string[] = [];
  let nextId = 100_000;

  function handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/jsonrpc/') return { status: 404, text: 'Not Found' };
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    const body = jsonBody(req);
    const params = (body?.params ?? {}) as Record<string, unknown>;
    if (typeof body?.method !== 'string' || typeof params !== 'object')
      return answer(2001, 'Command syntax error');
    called.push(body.method);
    const sid = /(?:^|;\s*)domrobot=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const session = sid ? sessions.get(sid) : undefined;

    if (body.method === 'account.login') {
      const account = typeof params.user === 'string' ? o.accounts[params.user] : undefined;
      if (!account || account.password !== params.pass) return AUTH_ERROR;
      const id = randomBytes(16).toString('hex');
      sessions.set(id, { user: params.user as string, unlocked: account.totpSecret === undefined });
      return answer(
        1000,
        'Command completed successfully',
        {
          resData: {
            customerId: 1,
            accountId: 1,
            tfa: account.totpSecret ? 'GOOGLE-AUTH' : '0',
            version: '3.0',
          },
        },
        { 'set-cookie': `domrobot=${id}; path=/; secure; HttpOnly` },
      );
    }
    if (!session) return AUTH_ERROR;
    const account = o.accounts[session.user]!;
    if (body.method === 'account.unlock') {
      const tan = String(params.tan ?? '');
      const step = Math.floor(now() / 30_000);
      const secret = account.totpSecret;
      if (!secret)
        return answer(2002, 'Command use error', { reason: 'two-factor authentication is not active' });
      if (![step - 1, step, step + 1].some((s) => totp(secret, s) === tan))
        return answer(2200, 'Authentication error', { reason: 'Invalid TAN' });
      if (usedTans.has(`${session.user}:${tan}`))
        return answer(2200, 'Authentication error', { reason: 'TAN already used' });
      usedTans.add(`${session.user}:${tan}`);
      session.unlocked = true;
      return answer(1000, 'Command completed successfully');
    }
    if (!session.unlocked) return answer(2200, 'Authentication error', { reason: 'Account is locked' });
    const domains = account.domains.map(nameKey);
    switch (body.method) {
      case 'account.logout':
        sessions.delete(sid!);
        return answer(1500, 'Command completed successfully; ending session');
      case 'nameserver.info': {
        const domain = typeof params.domain === 'string' ? nameKey(params.domain) : '';
        if (!domains.includes(domain)) return answer(2303, 'Object does not exist');
        const list = [...records.values()]
          .filter(
            (r) =>
              r.domain === domain &&
              (params.name === undefined || r.name === nameKey(String(params.name))) &&
              (params.type === undefined || r.type === params.type),
          )
          .map((r) => ({ id: r.id, name: r.name, type: r.type, content: r.content, ttl: r.ttl, prio: 0 }));
        return answer(1000, 'Command completed successfully', {
          resData: {
            roId: 1,
            domain,
            type: 'MASTER',
            count: list.length,
            ...(list.length ? { record: list } : {}),
          },
        });
      }
      case 'nameserver.createRecord': {
        const domain = typeof params.domain === 'string' ? nameKey(params.domain) : '';
        if (!domains.includes(domain)) return answer(2303, 'Object does not exist');
        const { name, type, content, ttl } = params;
        if (type !== 'TXT' || typeof content !== 'string' || content === '')
          return answer(2003, 'Required parameter missing');
        if (typeof name !== 'string' || !(nameKey(name) === domain || nameKey(name).endsWith(`.${domain}`)))
          return answer(2005, 'Parameter value range error', { reason: 'name is not inside the domain' });
        if (ttl !== undefined && (typeof ttl !== 'number' || ttl < 300))
          return answer(2005, 'Parameter value range error', { reason: 'ttl must be 300 or more' });
        const exists = [...records.values()].some(
          (r) => r.domain === domain && r.name === nameKey(name) && r.type === type && r.content === content,
        );
        if (exists) return answer(2302, 'Object exists');
        const id = nextId++;
        records.set(id, {
          id,
          domain,
          name: nameKey(name),
          type,
          content,
          ttl: typeof ttl === 'number' ? ttl : 3600,
        });
        return answer(1000, 'Command completed successfully', { resData: { id } });
      }
      case 'nameserver.deleteRecord': {
        const r = records.get(Number(params.id));
        if (!r || !domains.includes(r.domain)) return answer(2303, 'Object does not exist');
        records.delete(r.id);
        return answer(1000, 'Command completed successfully');
      }
      default:
        return answer(2000, 'Unknown command');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/jsonrpc`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()].filter((r) => r.type === 'TXT' && r.name === nameKey(fqdn)).map((r) => r.content),
    methods: () => [...called],
    endSessions: () => sessions.clear(),
    failNext: server.failNext,
    close: server.close,
  };
}
