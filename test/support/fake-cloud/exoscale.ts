import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeExoscaleOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  /** API key → secret. */
  readonly keys: Readonly<Record<string, string>>;
  /** Changes answer with a pending operation that succeeds after this many looks (default 0). */
  readonly pendingLooks?: number;
}

export interface FakeExoscale {
  /** For EXOSCALE_ENDPOINT: https://127.0.0.1:<port>/v2 */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  /** The next changes end in a failed operation with this reason. */
  failOperations(times: number, reason: string): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: string;
  readonly domainId: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
  readonly ttl: number;
  readonly system: boolean;
}

interface Operation {
  readonly id: string;
  looksLeft: number;
  readonly result: 'success' | 'failure';
  readonly reason?: string;
  readonly referenceId: string;
  readonly apply: () => void;
}

const message = (status: number, text: string): FakeReply => ({ status, json: { message: text } });
const TYPES = [
  'NS',
  'CAA',
  'NAPTR',
  'POOL',
  'A',
  'HINFO',
  'CNAME',
  'SSHFP',
  'SRV',
  'AAAA',
  'MX',
  'TXT',
  'ALIAS',
  'URL',
];

/**
 * A fake of the Exoscale API v2 DNS endpoints. Every request must carry an EXO2-HMAC-SHA256
 * Authorization whose signature this fake recomputes as Exoscale documents it ("METHOD path", body,
 * values of the signed query parameters, header values (none), expiry, joined by newlines, HMAC-SHA256
 * with the API secret, base64), with every query parameter signed and an expiry not passed. Record
 * changes answer with operations (optionally pending for a while, then looked up at /v2/operation/<id>).
 */
export async function startFakeExoscale(o: FakeExoscaleOptions): Promise<FakeExoscale> {
  const domains = new Map<string, string>(o.domains.map((d) => [randomUUID(), nameKey(d)]));
  const records = new Map<string, StoredRecord>();
  const operations = new Map<string, Operation>();
  let failing: { times: number; reason: string } = { times: 0, reason: '' };
  for (const [domainId, name] of domains) {
    const id = randomUUID();
    records.set(id, {
      id,
      domainId,
      name: '',
      type: 'SOA',
      content: `ns1.exoscale.ch. admin.${name}.`,
      ttl: 3600,
      system: true,
    });
  }

  function checkSignature(req: RecordedRequest): FakeReply | undefined {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('EXO2-HMAC-SHA256 '))
      return message(403, 'missing or malformed Authorization header');
    const fields = new Map(
      auth
        .slice('EXO2-HMAC-SHA256 '.length)
        .split(',')
        .map((kv) => {
          const i = kv.indexOf('=');
          return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] as const;
        }),
    );
    const key = fields.get('credential') ?? '';
    const secret = o.keys[key];
    if (secret === undefined) return message(403, 'invalid API key');
    const expires = Number(fields.get('expires'));
    if (!Number.isInteger(expires) || expires * 1000 < Date.now())
      return message(403, 'request signature expired');
    const signed = (fields.get('signed-query-args') ?? '').split(';').filter(Boolean);
    const present = [...new Set(req.query.keys())];
    if (present.some((p) => !signed.includes(p))) return message(403, 'every query parameter must be signed');
    const expected = createHmac('sha256', secret)
      .update(
        `${req.method} ${req.path}\n${req.body}\n${signed.map((n) => req.query.get(n) ?? '').join('')}\n\n${expires}`,
        'utf8',
      )
      .digest();
    const given = Buffer.from(fields.get('signature') ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return message(403, 'invalid request signature');
    return undefined;
  }

  function operation(referenceId: string, apply: () => void): FakeReply {
    const fail = failing.times > 0;
    if (fail) failing.times--;
    const op: Operation = {
      id: randomUUID(),
      looksLeft: o.pendingLooks ?? 0,
      result: fail ? 'failure' : 'success',
      ...(fail ? { reason: failing.reason } : {}),
      referenceId,
      apply,
    };
    operations.set(op.id, op);
    return { status: 200, json: view(op) };
  }

  function view(op: Operation) {
    if (op.looksLeft > 0) return { id: op.id, state: 'pending', reference: { id: op.referenceId } };
    if (op.result === 'success') op.apply();
    return {
      id: op.id,
      state: op.result,
      ...(op.reason ? { reason: 'incorrect', message: op.reason } : {}),
      reference: {
        id: op.referenceId,
        link: `/v2/dns-domain-record/${op.referenceId}`,
        command: 'get-dns-domain-record',
      },
    };
  }

  function handle(req: RecordedRequest): FakeReply {
    const refused = checkSignature(req);
    if (refused) return refused;

    if (req.path === '/v2/dns-domain' && req.method === 'GET') {
      return {
        status: 200,
        json: {
          'dns-domains': [...domains].map(([id, name]) => ({
            id,
            'unicode-name': name,
            'created-at': '2024-01-01T00:00:00Z',
          })),
        },
      };
    }
    const opMatch = /^\/v2\/operation\/([0-9a-f-]+)$/.exec(req.path);
    if (opMatch && req.method === 'GET') {
      const op = operations.get(opMatch[1]!);
      if (!op) return message(404, 'operation not found');
      if (op.looksLeft > 0) op.looksLeft--;
      return { status: 200, json: view(op) };
    }
    const parts = /^\/v2\/dns-domain\/([0-9a-f-]+)\/record(?:\/([0-9a-f-]+))?$/.exec(req.path);
    if (!parts) return message(404, 'not found');
    const domainId = parts[1]!;
    if (!domains.has(domainId)) return message(404, 'DNS domain not found');

    if (req.method === 'GET' && parts[2] === undefined) {
      return {
        status: 200,
        json: {
          'dns-domain-records': [...records.values()]
            .filter((r) => r.domainId === domainId)
            .map((r) => ({
              id: r.id,
              name: r.name,
              type: r.type,
              content: r.content,
              ttl: r.ttl,
              'system-record': r.system,
            })),
        },
      };
    }
    if (req.method === 'POST' && parts[2] === undefined) {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return message(415, 'expected application/json');
      const b = jsonBody(req);
      if (!b) return message(400, 'invalid JSON body');
      if (typeof b.name !== 'string' || b.name.endsWith('.'))
        return message(400, 'name: a name relative to the domain');
      if (typeof b.type !== 'string' || !TYPES.includes(b.type))
        return message(400, 'type: not an allowed value');
      if (typeof b.content !== 'string' || b.content === '') return message(400, 'content: required');
      if (b.ttl !== undefined && (typeof b.ttl !== 'number' || !Number.isInteger(b.ttl)))
        return message(400, 'ttl: integer');
      const stored: StoredRecord = {
        id: randomUUID(),
        domainId,
        name: b.name.toLowerCase(),
        type: b.type,
        content: b.content,
        ttl: typeof b.ttl === 'number' ? b.ttl : 3600,
        system: false,
      };
      return operation(stored.id, () => records.set(stored.id, stored));
    }
    if (req.method === 'DELETE' && parts[2] !== undefined) {
      const r = records.get(parts[2]);
      if (!r || r.domainId !== domainId) return message(404, 'DNS domain record not found');
      return operation(r.id, () => records.delete(r.id));
    }
    return message(405, 'method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: StoredRecord) => {
    const domain = domains.get(r.domainId)!;
    return r.name === '' ? domain : `${r.name}.${domain}`;
  };
  return {
    endpoint: `${server.origin}/v2`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.content),
    failNext: server.failNext,
    failOperations: (times, reason) => {
      failing = { times, reason };
    },
    close: server.close,
  };
}
