import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNs1Options {
  readonly ca: TestCa;
  readonly zones: readonly string[];
  /** API keys; `write: false` has no permission to change zones. */
  readonly keys: Readonly<Record<string, { readonly write?: boolean }>>;
}

export interface FakeNs1 {
  /** For NS1_API_URL: https://127.0.0.1:<port>/v1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly zone: string;
  readonly domain: string;
  readonly type: string;
  ttl: number;
  answers: { id: string; answer: string[] }[];
}

const message = (status: number, text: string): FakeReply => ({ status, json: { message: text } });

/**
 * A fake of the NS1 REST API v1 zone and record endpoints: the X-NSONE-Key header, zones that must
 * exist, a record per domain and type at /v1/zones/<zone>/<domain>/<type> (PUT creates and refuses an
 * existing one, POST changes an existing one, DELETE removes), bodies whose zone, domain and type agree
 * with the path, answers `[{answer: [..]}]`, and `{"message": "..."}` errors.
 */
export async function startFakeNs1(o: FakeNs1Options): Promise<FakeNs1> {
  const zones = new Set(o.zones.map(nameKey));
  const records = new Map<string, StoredRecord>();
  let answerIds = 0;

  function parseAnswers(b: Record<string, unknown>): StoredRecord['answers'] | FakeReply {
    if (!Array.isArray(b.answers) || b.answers.length === 0)
      return message(400, 'answers: at least one answer required');
    const out: StoredRecord['answers'] = [];
    for (const a of b.answers as unknown[]) {
      const answer = (a as { answer?: unknown }).answer;
      if (!Array.isArray(answer) || answer.length !== 1 || typeof answer[0] !== 'string')
        return message(400, 'answers: each TXT answer is a list of one string');
      out.push({ id: String(++answerIds), answer: [answer[0]] });
    }
    return out;
  }

  function handle(req: RecordedRequest): FakeReply {
    const key = o.keys[String(req.headers['x-nsone-key'] ?? '')];
    if (!key) return message(401, 'Unauthorized');
    if (req.method !== 'GET' && key.write === false) return message(403, 'insufficient permissions');

    const zonePath = /^\/v1\/zones\/([^/]+)$/.exec(req.path);
    if (zonePath && req.method === 'GET') {
      const zone = nameKey(decodeURIComponent(zonePath[1]!));
      if (!zones.has(zone)) return message(404, 'zone not found');
      const rs = [...records.values()].filter((r) => r.zone === zone);
      return {
        status: 200,
        json: { zone, ttl: 3600, records: rs.map((r) => ({ domain: r.domain, type: r.type })) },
      };
    }
    const parts = /^\/v1\/zones\/([^/]+)\/([^/]+)\/([A-Z]+)$/.exec(req.path);
    if (!parts) return message(404, 'Not Found');
    const zone = nameKey(decodeURIComponent(parts[1]!));
    const domain = nameKey(decodeURIComponent(parts[2]!));
    const type = parts[3]!;
    if (!zones.has(zone)) return message(404, 'zone not found');
    if (domain !== zone && !domain.endsWith(`.${zone}`)) return message(400, 'domain is not in the zone');
    const id = `${domain} ${type}`;
    const existing = records.get(id);
    const view = (r: StoredRecord) => ({
      zone: r.zone,
      domain: r.domain,
      type: r.type,
      ttl: r.ttl,
      answers: r.answers,
    });

    switch (req.method) {
      case 'GET':
        return existing ? { status: 200, json: view(existing) } : message(404, 'record not found');
      case 'PUT': {
        if (existing) return message(400, 'record already exists');
        const b = jsonBody(req);
        if (!b) return message(400, 'invalid JSON');
        if (b.zone !== zone || b.domain !== domain || b.type !== type)
          return message(400, 'zone, domain and type of the body must match the path');
        const answers = parseAnswers(b);
        if (!Array.isArray(answers)) return answers;
        const r: StoredRecord = {
          zone,
          domain,
          type,
          ttl: typeof b.ttl === 'number' ? b.ttl : 3600,
          answers,
        };
        records.set(id, r);
        return { status: 200, json: view(r) };
      }
      case 'POST': {
        if (!existing) return message(404, 'record not found');
        const b = jsonBody(req);
        if (!b) return message(400, 'invalid JSON');
        const answers = parseAnswers(b);
        if (!Array.isArray(answers)) return answers;
        existing.answers = answers;
        if (typeof b.ttl === 'number') existing.ttl = b.ttl;
        return { status: 200, json: view(existing) };
      }
      case 'DELETE':
        if (!existing) return message(404, 'record not found');
        records.delete(id);
        return { status: 200, json: {} };
      default:
        return message(405, 'Method Not Allowed');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/v1`,
    requests: server.requests,
    values: async (fqdn) => records.get(`${nameKey(fqdn)} TXT`)?.answers.map((a) => a.answer[0]!) ?? [],
    failNext: server.failNext,
    close: server.close,
  };
}
