// A fake of the Akamai Edge DNS Zone Management API v2 record-set endpoints. Every request must carry an
// EdgeGrid (EG1-HMAC-SHA256) signature that the fake recomputes on its own from Akamai's description (it
// does not import the provider's signer): known client and access tokens, a timestamp within a few
// minutes, a nonce never seen before, and the HMAC chain over method, scheme, host, path and query as
// received, and the body hash for POST. Errors are Akamai's problem+json {type, title, status, detail}.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeEdgeDnsOptions {
  readonly ca: TestCa;
  /** client_token → its access token, client secret and the zones of its account. */
  readonly clients: Readonly<
    Record<
      string,
      { readonly accessToken: string; readonly clientSecret: string; readonly zones: readonly string[] }
    >
  >;
  /** accountSwitchKey → the zones of that account, for clients allowed to switch. */
  readonly switchAccounts?: Readonly<Record<string, readonly string[]>>;
}

export interface FakeEdgeDnsRecordSet {
  readonly zone: string;
  readonly name: string;
  ttl: number;
  rdata: string[];
}

export interface FakeEdgeDns {
  /** For AKAMAI_HOST: 127.0.0.1:<port> */
  readonly host: string;
  readonly requests: RecordedRequest[];
  recordSets(): FakeEdgeDnsRecordSet[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const problem = (status: number, kind: string, title: string, detail: string): FakeReply => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  json: { type: `https://problems.luna.akamaiapis.net/${kind}`, title, status, detail },
});
const deny = (detail: string) => problem(401, '-/pep-authn/deny', 'Not authorized', detail);

const MAX_SKEW_MS = 5 * 60_000;

export async function startFakeEdgeDns(o: FakeEdgeDnsOptions): Promise<FakeEdgeDns> {
  const sets = new Map<string, FakeEdgeDnsRecordSet>();
  const nonces = new Set<string>();

  function authenticate(req: RecordedRequest, target: string): string | FakeReply {
    const auth = String(req.headers.authorization ?? '');
    const m =
      /^EG1-HMAC-SHA256 client_token=([^;]+);access_token=([^;]+);timestamp=([^;]+);nonce=([^;]+);signature=(.+)$/.exec(
        auth,
      );
    if (!m) return deny('Invalid authorization header format');
    const [, clientToken, accessToken, timestamp, nonce, signature] = m as unknown as string[];
    const client = o.clients[clientToken!];
    if (!client) return deny('Invalid client token');
    if (client.accessToken !== accessToken) return deny('Invalid access token');
    const t = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})\+0000$/.exec(timestamp!);
    if (!t) return deny('Invalid timestamp format');
    const at = Date.UTC(+t[1]!, +t[2]! - 1, +t[3]!, +t[4]!, +t[5]!, +t[6]!);
    if (Math.abs(Date.now() - at) > MAX_SKEW_MS) return deny('Invalid timestamp');
    if (nonces.has(nonce!)) return deny('Nonce already used');
    nonces.add(nonce!);
    const bodyHash =
      req.method === 'POST' && req.body !== ''
        ? createHash('sha256').update(Buffer.from(req.body).subarray(0, 131072)).digest('base64')
        : '';
    const unsigned = auth.slice(0, auth.indexOf('signature='));
    const data = [
      req.method,
      'https',
      String(req.headers.host ?? '').toLowerCase(),
      target,
      '',
      bodyHash,
      unsigned,
    ].join('\t');
    const key = createHmac('sha256', client.clientSecret).update(timestamp!).digest('base64');
    const expected = createHmac('sha256', key).update(data).digest();
    const got = Buffer.from(signature!, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      return deny('The signature does not match');
    return clientToken!;
  }

  function handle(req: RecordedRequest): FakeReply {
    const query = req.query.toString();
    const who = authenticate(req, `${req.path}${query ? `?${query}` : ''}`);
    if (typeof who !== 'string') return who;
    const m = /^\/config-dns\/v2\/zones\/([^/]+)\/names\/([^/]+)\/types\/([^/]+)$/.exec(req.path);
    if (!m)
      return problem(404, 'authoritative-dns/notFound', 'Not Found', 'The requested resource was not found');
    const zone = nameKey(decodeURIComponent(m[1]!));
    const name = decodeURIComponent(m[2]!);
    const type = decodeURIComponent(m[3]!);
    const switchKey = req.query.get('accountSwitchKey');
    const zones = switchKey === null ? o.clients[who]!.zones : o.switchAccounts?.[switchKey];
    if (!zones)
      return problem(
        403,
        'authoritative-dns/forbidden',
        'Forbidden',
        'The account switch key is not allowed',
      );
    if (!zones.map(nameKey).includes(zone))
      return problem(404, 'authoritative-dns/notFound', 'Not Found', `Zone ${zone} does not exist`);
    if (name.endsWith('.') || name !== name.toLowerCase() || (name !== zone && !name.endsWith(`.${zone}`)))
      return problem(
        400,
        'authoritative-dns/badRequest',
        'Bad Request',
        `${name} is not a name in zone ${zone}`,
      );
    const key = `${zone} ${name} ${type}`;
    const existing = sets.get(key);

    if (req.method === 'GET') {
      if (!existing)
        return problem(404, 'authoritative-dns/notFound', 'Not Found', `Recordset ${name}/${type} not found`);
      return { status: 200, json: { name: existing.name, type, ttl: existing.ttl, rdata: existing.rdata } };
    }
    if (req.method === 'DELETE') {
      if (!existing)
        return problem(404, 'authoritative-dns/notFound', 'Not Found', `Recordset ${name}/${type} not found`);
      sets.delete(key);
      return { status: 204 };
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return problem(
          415,
          'authoritative-dns/unsupportedMediaType',
          'Unsupported Media Type',
          'application/json expected',
        );
      const b = jsonBody(req);
      if (
        !b ||
        b.name !== name ||
        b.type !== type ||
        typeof b.ttl !== 'number' ||
        !Array.isArray(b.rdata) ||
        b.rdata.length === 0
      )
        return problem(
          400,
          'authoritative-dns/badRequest',
          'Bad Request',
          'name, type, ttl and rdata must match the path and be set',
        );
      for (const r of b.rdata)
        if (typeof r !== 'string' || !/^"[^"]{1,255}"$/.test(r))
          return problem(
            400,
            'authoritative-dns/badRequest',
            'Bad Request',
            'TXT rdata must be quoted strings',
          );
      if (req.method === 'POST' && existing)
        return problem(
          409,
          'authoritative-dns/conflict',
          'Conflict',
          `Recordset ${name}/${type} already exists`,
        );
      if (req.method === 'PUT' && !existing)
        return problem(404, 'authoritative-dns/notFound', 'Not Found', `Recordset ${name}/${type} not found`);
      const set = { zone, name, ttl: b.ttl, rdata: b.rdata as string[] };
      sets.set(key, set);
      return {
        status: req.method === 'POST' ? 201 : 200,
        json: { name, type, ttl: set.ttl, rdata: set.rdata },
      };
    }
    return problem(405, 'authoritative-dns/methodNotAllowed', 'Method Not Allowed', req.method);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    host: server.origin.replace(/^https:\/\//, ''),
    requests: server.requests,
    recordSets: () => [...sets.values()],
    values: async (fqdn) =>
      [...sets.values()]
        .filter((s) => s.name === nameKey(fqdn))
        .flatMap((s) => s.rdata.map((r) => r.slice(1, -1))),
    failNext: server.failNext,
    close: server.close,
  };
}
