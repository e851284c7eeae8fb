import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeMythicBeastsOptions {
  readonly ca: TestCa;
  /** API key id → its secret and the zones it may change. */
  readonly keys: Readonly<Record<string, { readonly secret: string; readonly zones: readonly string[] }>>;
  /** Lifetime of an issued token, seconds (default 300). */
  readonly tokenLifetime?: number;
}

export interface FakeMythicBeasts {
  /** For MYTHICBEASTS_API_ENDPOINT: https://127.0.0.1:<port>/dns/v2 */
  readonly apiUrl: string;
  /** For MYTHICBEASTS_AUTH_API_ENDPOINT: https://127.0.0.1:<port>/login */
  readonly authUrl: string;
  readonly requests: RecordedRequest[];
  /** Tokens issued so far. */
  readonly tokensIssued: () => number;
  /** Forgets every issued token (as after their expiry). */
  revokeTokens(): void;
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly zone: string;
  readonly host: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

const error = (status: number, message: string): FakeReply => ({ status, json: { error: message } });

/**
 * A fake of Mythic Beasts' auth endpoint and DNS API v2. The login takes only POST,
 * `grant_type=client_credentials` as a form and HTTP Basic (key id, secret), and answers
 * `{access_token, token_type: "bearer", expires_in}` or an OAuth2 error. The DNS API takes only a
 * current bearer token, only for the zones of its key, and keeps records per zone, host ("@" at the
 * apex) and type: GET lists, POST adds `{records: [{host, ttl, type, data}]}` (host and type as in the
 * path, duplicates not added), DELETE ?data= removes the matching values.
 */
export async function startFakeMythicBeasts(o: FakeMythicBeastsOptions): Promise<FakeMythicBeasts> {
  const tokens = new Map<string, { key: string; expiresAt: number }>();
  let issued = 0;
  const records: StoredRecord[] = [];

  function login(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return error(405, 'method not allowed');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return { status: 400, json: { error: 'invalid_request', error_description: 'form body expected' } };
    if (new URLSearchParams(req.body).get('grant_type') !== 'client_credentials')
      return {
        status: 400,
        json: { error: 'unsupported_grant_type', error_description: 'use client_credentials' },
      };
    const m = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    const [id, secret] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(/:(.*)/s) : [];
    if (!id || o.keys[id]?.secret !== secret)
      return {
        status: 401,
        json: { error: 'invalid_client', error_description: 'unknown API key or wrong secret' },
      };
    const token = randomBytes(24).toString('hex');
    const lifetime = o.tokenLifetime ?? 300;
    tokens.set(token, { key: id, expiresAt: Date.now() + lifetime * 1000 });
    issued++;
    return { status: 200, json: { access_token: token, token_type: 'bearer', expires_in: lifetime } };
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/login') return login(req);
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? tokens.get(m[1]!) : undefined;
    if (!token || token.expiresAt < Date.now()) return error(401, 'invalid or expired token');
    const parts = /^\/dns\/v2\/zones\/([^/]+)\/records\/([^/]+)\/([A-Z]+)$/.exec(req.path);
    if (!parts) return error(404, 'not found');
    const zone = nameKey(decodeURIComponent(parts[1]!));
    const host = decodeURIComponent(parts[2]!).toLowerCase();
    const type = parts[3]!;
    if (!o.keys[token.key]!.zones.map(nameKey).includes(zone))
      return error(403, `API key not authorised for zone ${zone}`);
    const here = (r: StoredRecord) => r.zone === zone && r.host === host && r.type === type;

    switch (req.method) {
      case 'GET':
        return {
          status: 200,
          json: {
            records: records
              .filter(here)
              .map(({ host: h, ttl, type: t, data }) => ({ host: h, ttl, type: t, data })),
          },
        };
      case 'POST': {
        const b = jsonBody(req);
        if (!b || !Array.isArray(b.records) || b.records.length === 0)
          return error(400, 'records: a non-empty list is required');
        let added = 0;
        for (const r of b.records as Record<string, unknown>[]) {
          if (r.host !== host || r.type !== type)
            return error(400, 'host and type of a record must match the path');
          if (typeof r.data !== 'string' || r.data === '') return error(400, 'data: required');
          if (typeof r.ttl !== 'number' || !Number.isInteger(r.ttl) || r.ttl < 1)
            return error(400, 'ttl: a positive integer');
        }
        for (const r of b.records as { ttl: number; data: string }[]) {
          if (records.some((x) => here(x) && x.data === r.data)) continue;
          records.push({ zone, host, type, ttl: r.ttl, data: r.data });
          added++;
        }
        return {
          status: 200,
          json: { records_added: added, records_removed: 0, message: `${added} records added` },
        };
      }
      case 'DELETE': {
        const data = req.query.get('data');
        let removed = 0;
        for (let i = records.length - 1; i >= 0; i--) {
          if (here(records[i]!) && (data === null || records[i]!.data === data)) {
            records.splice(i, 1);
            removed++;
          }
        }
        return { status: 200, json: { records_removed: removed, message: `${removed} records removed` } };
      }
      default:
        return error(405, 'method not allowed');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/dns/v2`,
    authUrl: `${server.origin}/login`,
    requests: server.requests,
    tokensIssued: () => issued,
    revokeTokens: () => tokens.clear(),
    values: async (fqdn) => {
      const name = nameKey(fqdn);
      return records
        .filter((r) => r.type === 'TXT' && (r.host === '@' ? r.zone : `${r.host}.${r.zone}`) === name)
        .map((r) => r.data);
    },
    failNext: server.failNext,
    close: server.close,
  };
}
