import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeRegruOptions {
  readonly ca: TestCa;
  /** Domains with reg.ru DNS in the account. */
  readonly domains: readonly string[];
  /** User name → API password. */
  readonly users: Readonly<Record<string, string>>;
}

export interface FakeRegru {
  /** For REGRU_API_URL: https://127.0.0.1:<port>/api/regru2 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly domain: string;
  readonly subname: string;
  readonly rectype: string;
  readonly content: string;
}

const error = (code: string, text: string): FakeReply => ({
  status: 200,
  json: { result: 'error', error_code: code, error_text: text, charset: 'utf-8', messagestore: null },
});

/**
 * A fake of the reg.ru API 2 zone methods: form POSTs with username, password, input_format=json and
 * input_data; answers `{result, answer: {domains: [{dname, result, …}]}}` or `{result: "error",
 * error_code, error_text}` with HTTP 200. get_resource_records lists `rrs` (subname, rectype, content),
 * add_txt adds (subdomain "@" at the apex, text), remove_record deletes by subdomain, record_type and
 * content; a domain not in the account fails for that domain.
 */
export async function startFakeRegru(o: FakeRegruOptions): Promise<FakeRegru> {
  const domains = new Set(o.domains.map(nameKey));
  const records: StoredRecord[] = [];

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST' && req.method !== 'GET') return { status: 405, text: 'Method Not Allowed' };
    if (
      req.method === 'POST' &&
      !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    )
      return error('INVALID_REQUEST', 'POST parameters must be a form');
    const form = req.method === 'POST' ? new URLSearchParams(req.body) : req.query;
    const user = form.get('username') ?? '';
    if (o.users[user] === undefined || o.users[user] !== form.get('password'))
      return error('PASSWORD_AUTH_FAILED', 'Username/password Incorrect');
    if (form.get('input_format') !== 'json')
      return error('INVALID_INPUT_FORMAT', 'input_format must be json here');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(form.get('input_data') ?? '') as Record<string, unknown>;
    } catch {
      return error('PARAMETER_INCORRECT', 'input_data is not valid JSON');
    }
    const method = /^\/api\/regru2\/(zone\/\w+)$/.exec(req.path)?.[1];
    if (!method) return error('NO_SUCH_COMMAND', 'No such command');
    const asked = Array.isArray(input.domains) ? (input.domains as { dname?: unknown }[]) : [];
    if (asked.length === 0) return error('NO_DOMAIN', 'domains: at least one domain is required');
    const sub = typeof input.subdomain === 'string' ? input.subdomain.toLowerCase() : undefined;

    const answers = asked.map((d) => {
      const dname = nameKey(String(d.dname ?? ''));
      if (!domains.has(dname))
        return {
          dname,
          result: 'error',
          error_code: 'DOMAIN_NOT_FOUND',
          error_text: 'Domain not found in this account',
        };
      switch (method) {
        case 'zone/get_resource_records':
          return {
            dname,
            result: 'success',
            rrs: records
              .filter((r) => r.domain === dname)
              .map(({ content, rectype, subname }) => ({ content, prio: 0, rectype, state: 'A', subname })),
            soa: { minimum_ttl: '5m', ttl: '1d' },
          };
        case 'zone/add_txt': {
          if (!sub || sub.endsWith('.'))
            return { dname, result: 'error', error_code: 'PARAMETER_MISSING', error_text: 'subdomain' };
          if (typeof input.text !== 'string' || input.text === '')
            return { dname, result: 'error', error_code: 'PARAMETER_MISSING', error_text: 'text' };
          records.push({ domain: dname, subname: sub, rectype: 'TXT', content: input.text });
          return { dname, result: 'success', service_id: 12345, service_type: 'domain' };
        }
        case 'zone/remove_record': {
          if (!sub || input.record_type !== 'TXT')
            return {
              dname,
              result: 'error',
              error_code: 'PARAMETER_MISSING',
              error_text: 'subdomain, record_type',
            };
          const i = records.findIndex(
            (r) =>
              r.domain === dname &&
              r.subname === sub &&
              r.rectype === 'TXT' &&
              (input.content === undefined || r.content === input.content),
          );
          if (i < 0)
            return {
              dname,
              result: 'error',
              error_code: 'NO_SUCH_RR',
              error_text: 'No such resource record',
            };
          records.splice(i, 1);
          return { dname, result: 'success', service_id: 12345, service_type: 'domain' };
        }
        default:
          return { dname, result: 'error', error_code: 'NO_SUCH_COMMAND', error_text: 'No such command' };
      }
    });
    return {
      status: 200,
      json: { result: 'success', answer: { domains: answers }, charset: 'utf-8', messagestore: null },
    };
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/api/regru2`,
    requests: server.requests,
    values: async (fqdn) =>
      records
        .filter(
          (r) =>
            r.rectype === 'TXT' &&
            (r.subname === '@' ? r.domain : `${r.subname}.${r.domain}`) === nameKey(fqdn),
        )
        .map((r) => r.content),
    failNext: server.failNext,
    close: server.close,
  };
}
