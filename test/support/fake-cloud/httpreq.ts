import { createHash } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeHttpReqOptions {
  readonly ca: TestCa;
  /** Path the service lives under: "/api" serves /api/present and /api/cleanup. Default "". */
  readonly basePath?: string;
  /** When set, every request needs `Authorization: Basic base64(username:password)`. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Which body the service reads: lego's default {fqdn, value}, or RAW {domain, token, keyAuth}. */
  readonly mode?: 'default' | 'RAW';
}

export interface FakeHttpReq {
  /** For HTTPREQ_ENDPOINT: https://127.0.0.1:<port><basePath> */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

/**
 * A service in lego's httpreq shape: POST <base>/present and <base>/cleanup with a JSON body, any 2xx
 * is success. It keeps TXT values per name (a set, so presenting twice keeps one), checks HTTP Basic
 * authentication when configured, and in RAW mode works the value out of keyAuth as such services do.
 */
export async function startFakeHttpReq(o: FakeHttpReqOptions): Promise<FakeHttpReq> {
  const base = (o.basePath ?? '').replace(/\/+$/, '');
  const store = new Map<string, Set<string>>();
  const expected = o.credentials
    ? `Basic ${Buffer.from(`${o.credentials.username}:${o.credentials.password}`).toString('base64')}`
    : undefined;

  function handle(req: RecordedRequest): FakeReply {
    if (expected !== undefined && req.headers.authorization !== expected) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="dns-agent"' },
        text: 'Unauthorized\n',
      };
    }
    const action =
      req.path === `${base}/present` ? 'present' : req.path === `${base}/cleanup` ? 'cleanup' : undefined;
    if (!action) return { status: 404, text: '404 page not found\n' };
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed\n' };
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return { status: 415, text: 'expected application/json\n' };
    }
    const b = jsonBody(req);
    let fqdn: string;
    let value: string;
    if (o.mode === 'RAW') {
      if (
        !b ||
        typeof b.domain !== 'string' ||
        typeof b.token !== 'string' ||
        typeof b.keyAuth !== 'string'
      ) {
        return { status: 400, text: 'want {"domain","token","keyAuth"}\n' };
      }
      fqdn = `_acme-challenge.${b.domain}`;
      value = createHash('sha256').update(b.keyAuth).digest('base64url');
    } else {
      if (!b || typeof b.fqdn !== 'string' || !b.fqdn.endsWith('.') || typeof b.value !== 'string') {
        return { status: 400, text: 'want {"fqdn": "<absolute name>.", "value"}\n' };
      }
      fqdn = b.fqdn;
      value = b.value;
    }
    const key = nameKey(fqdn);
    const values = store.get(key) ?? new Set<string>();
    if (action === 'present') values.add(value);
    else values.delete(value);
    store.set(key, values);
    return { status: 200, text: 'ok\n' };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    endpoint: `${server.origin}${base}`,
    requests: server.requests,
    values: async (fqdn) => [...(store.get(nameKey(fqdn)) ?? [])],
    failNext: server.failNext,
    close: server.close,
  };
}
