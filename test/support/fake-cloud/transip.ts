import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeTransipOptions {
  readonly ca: TestCa;
  /** Accounts: login → the public key of its key pair and its domains. */
  readonly accounts: Readonly<
    Record<string, { readonly publicKey: KeyObject | string; readonly domains: readonly string[] }>
  >;
}

export interface FakeTransip {
  /** For TRANSIP_API_URL: https://127.0.0.1:<port>/v6 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  tokensIssued(): number;
  /** Ends every token issued so far, as their expiry would. */
  expireTokens(): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface Entry {
  readonly domain: string;
  readonly name: string;
  readonly expire: number;
  readonly type: string;
  readonly content: string;
}

const error = (status: number, message: string): FakeReply => ({ status, json: { error: message } });
const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, week: 604_800 };

/**
 * A fake of the TransIP REST API v6 as TransIP documents it: POST /v6/auth with {login, nonce, read_only,
 * expiration_time, label, global_key} and a Signature header the fake verifies (RSA SHA-512 over the
 * exact body, with the account's public key), nonces never reused, a JWT in {token}; Bearer tokens on
 * every other call, read-only tokens refused for changes; GET/POST/DELETE /v6/domains/<domain>/dns with
 * {dnsEntry: {name, expire, type, content}}, a delete matching the entry exactly; errors as {error}.
 */
export async function startFakeTransip(o: FakeTransipOptions): Promise<FakeTransip> {
  const keys = new Map(
    Object.entries(o.accounts).map(([login, a]) => [
      login,
      {
        key: typeof a.publicKey === 'string' ? createPublicKey(a.publicKey) : a.publicKey,
        domains: a.domains.map(nameKey),
      },
    ]),
  );
  const nonces = new Set<string>();
  const tokens = new Map<string, { login: string; readOnly: boolean; expiresAt: number }>();
  const entries: Entry[] = [];
  let issued = 0;

  function auth(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return error(405, 'Method not allowed');
    const b = jsonBody(req);
    if (!b || typeof b.login !== 'string' || typeof b.nonce !== 'string')
      return error(400, 'Login and nonce are required');
    if (b.nonce.length < 6 || b.nonce.length > 32)
      return error(400, 'Nonce must be between 6 and 32 characters');
    if (b.read_only !== undefined && typeof b.read_only !== 'boolean')
      return error(400, 'read_only must be a boolean');
    if (b.global_key !== undefined && typeof b.global_key !== 'boolean')
      return error(400, 'global_key must be a boolean');
    let lifetime = 1800;
    if (b.expiration_time !== undefined) {
      const m =
        typeof b.expiration_time === 'string'
          ? /^(\d+) (second|minute|hour|day|week)s?$/.exec(b.expiration_time)
          : null;
      if (!m) return error(400, 'Invalid expiration_time');
      lifetime = Number(m[1]) * UNITS[m[2]!]!;
      if (lifetime > 30 * 86_400) return error(400, 'The maximum expiration_time is 1 month');
    }
    const account = keys.get(b.login);
    const signature = req.headers.signature;
    if (!account || typeof signature !== 'string') return error(401, 'Invalid login or signature');
    if (!verify('sha512', Buffer.from(req.body, 'utf8'), account.key, Buffer.from(signature, 'base64')))
      return error(401, 'Signature is invalid');
    if (nonces.has(b.nonce)) return error(401, 'Nonce has already been used');
    nonces.add(b.nonce);
    const now = Math.floor(Date.now() / 1000);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${part({ typ: 'JWT', alg: 'RS256', jti: randomBytes(8).toString('hex') })}.${part({
      iss: 'api.transip.nl',
      aud: 'api.transip.nl',
      iat: now,
      nbf: now,
      exp: now + lifetime,
      cid: b.login,
      ro: b.read_only === true,
      gk: b.global_key === true,
    })}.${randomBytes(32).toString('base64url')}`;
    tokens.set(token, { login: b.login, readOnly: b.read_only === true, expiresAt: (now + lifetime) * 1000 });
    issued++;
    return { status: 201, json: { token } };
  }

  function dns(req: RecordedRequest, domain: string): FakeReply {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token) return error(401, 'Your access token has been revoked.');
    if (token.expiresAt <= Date.now()) return error(401, 'Your access token has expired.');
    const account = keys.get(token.login)!;
    if (!account.domains.includes(domain)) return error(404, `Domain with name '${domain}' not found`);
    if (req.method === 'GET')
      return {
        status: 200,
        json: {
          dnsEntries: entries
            .filter((e) => e.domain === domain)
            .map(({ name, expire, type, content }) => ({ name, expire, type, content })),
        },
      };
    if (token.readOnly) return error(403, 'This is a read-only key, only GET requests are allowed.');
    const e = jsonBody(req)?.dnsEntry as Partial<Entry> | undefined;
    if (!e || typeof e.name !== 'string' || typeof e.type !== 'string' || typeof e.content !== 'string')
      return error(406, 'dnsEntry needs name, expire, type and content');
    if (typeof e.expire !== 'number' || !Number.isInteger(e.expire) || e.expire < 1)
      return error(406, 'expire must be a number of seconds');
    if (e.name.endsWith('.') || e.name.endsWith(domain))
      return error(406, 'name must be relative to the domain');
    const same = (x: Entry) =>
      x.domain === domain &&
      x.name === e.name &&
      x.expire === e.expire &&
      x.type === e.type &&
      x.content === e.content;
    if (req.method === 'POST') {
      if (e.type !== 'TXT') return error(406, 'Unsupported type');
      if (entries.some(same)) return error(409, 'This DNS entry already exists');
      entries.push({
        domain,
        name: e.name.toLowerCase(),
        expire: e.expire,
        type: e.type,
        content: e.content,
      });
      return { status: 201, text: '' };
    }
    if (req.method === 'DELETE') {
      const i = entries.findIndex(same);
      if (i < 0) return error(404, 'DNS entry not found');
      entries.splice(i, 1);
      return { status: 204 };
    }
    return error(405, 'Method not allowed');
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/v6/auth') return auth(req);
    const m = /^\/v6\/domains\/([^/]+)\/dns$/.exec(req.path);
    if (!m) return error(404, 'Not found');
    return dns(req, nameKey(decodeURIComponent(m[1]!)));
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/v6`,
    requests: server.requests,
    values: async (fqdn) =>
      entries
        .filter(
          (e) => e.type === 'TXT' && (e.name === '@' ? e.domain : `${e.name}.${e.domain}`) === nameKey(fqdn),
        )
        .map((e) => e.content),
    tokensIssued: () => issued,
    expireTokens: () => {
      for (const t of tokens.values()) t.expiresAt = 0;
    },
    failNext: server.failNext,
    close: server.close,
  };
}
