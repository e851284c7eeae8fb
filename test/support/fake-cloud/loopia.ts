import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeLoopiaOptions {
  readonly ca: TestCa;
  /** API users: name → password, domains, and the methods the user may call (default all). */
  readonly users: Readonly<
    Record<
      string,
      { readonly password: string; readonly domains: readonly string[]; readonly methods?: readonly string[] }
    >
  >;
}

export interface FakeLoopia {
  /** For LOOPIA_API_URL: https://127.0.0.1:<port>/RPCSERV */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The subdomains that exist in a domain ("@" included once it has records). */
  subdomains(domain: string): string[];
  /** The methods called so far, in order. */
  methods(): string[];
  /** Adds a record of another type, as another client would. */
  addOther(domain: string, subdomain: string, type: string, rdata: string): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

type Value = string | number | boolean | Value[] | { [k: string]: Value };

interface StoredRecord {
  readonly id: number;
  readonly domain: string;
  readonly sub: string;
  readonly type: string;
  readonly ttl: number;
  readonly priority: number;
  readonly rdata: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const fromXml = (s: string) => s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]!);
const toXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A methodCall read with a tokenizer of its own: strict about the XML-RPC elements it meets. */
function parseCall(xml: string): { method: string; params: Value[] } {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '');
  const tokens = body.match(/<[^>]+>|[^<]+/g) ?? [];
  let i = 0;
  const skipSpace = () => {
    while (i < tokens.length && !tokens[i]!.startsWith('<') && tokens[i]!.trim() === '') i++;
  };
  const expect = (tag: string) => {
    skipSpace();
    if (tokens[i] !== tag) throw new Error(`expected ${tag}, got ${tokens[i] ?? 'the end'}`);
    i++;
  };
  const text = (close: string): string => {
    let out = '';
    while (tokens[i] !== close) {
      if (i >= tokens.length || tokens[i]!.startsWith('<')) throw new Error(`expected text then ${close}`);
      out += tokens[i++];
    }
    i++;
    return fromXml(out);
  };
  const value = (): Value => {
    expect('<value>');
    skipSpace();
    const open = tokens[i]!;
    if (!open.startsWith('<')) throw new Error('untyped values are not sent by this client');
    i++;
    let v: Value;
    switch (open) {
      case '<string>':
        v = text('</string>');
        break;
      case '<string/>':
        v = '';
        break;
      case '<int>':
      case '<i4>': {
        const raw = text(open.replace('<', '</'));
        if (!/^-?\d+$/.test(raw.trim())) throw new Error(`bad integer ${raw}`);
        v = Number(raw);
        break;
      }
      case '<struct>': {
        const members: Record<string, Value> = {};
        for (skipSpace(); tokens[i] === '<member>'; skipSpace()) {
          i++;
          expect('<name>');
          const name = text('</name>');
          members[name] = value();
          expect('</member>');
        }
        expect('</struct>');
        v = members;
        break;
      }
      default:
        throw new Error(`unexpected ${open}`);
    }
    expect('</value>');
    return v;
  };
  expect('<methodCall>');
  expect('<methodName>');
  const method = text('</methodName>');
  const params: Value[] = [];
  expect('<params>');
  for (skipSpace(); tokens[i] === '<param>'; skipSpace()) {
    i++;
    params.push(value());
    expect('</param>');
  }
  expect('</params>');
  expect('</methodCall>');
  skipSpace();
  if (i !== tokens.length) throw new Error('content after </methodCall>');
  return { method, params };
}

function encode(v: Value): string {
  if (typeof v === 'string') return `<value><string>${toXml(v)}</string></value>`;
  if (typeof v === 'number') return `<value><int>${v}</int></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encode).join('')}</data></array></value>`;
  return `<value><struct>${Object.entries(v)
    .map(([k, m]) => `<member><name>${k}</name>${encode(m)}</member>`)
    .join('')}</struct></value>`;
}

const xmlReply = (xml: string): FakeReply => ({
  status: 200,
  headers: { 'content-type': 'text/xml; charset=UTF-8' },
  text: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`,
});
const result = (v: Value) =>
  xmlReply(`<methodResponse><params><param>${encode(v)}</param></params></methodResponse>`);
const fault = (code: number, message: string) =>
  xmlReply(
    `<methodResponse><fault>${encode({ faultCode: code, faultString: message })}</fault></methodResponse>`,
  );

const ARITY: Record<string, string[]> = {
  getZoneRecords: ['string', 'string', 'string', 'string'],
  addZoneRecord: ['string', 'string', 'string', 'string', 'struct'],
  removeZoneRecord: ['string', 'string', 'string', 'string', 'int'],
  removeSubdomain: ['string', 'string', 'string', 'string'],
};

/**
 * A fake of the Loopia XML-RPC API as Loopia documents it: POST /RPCSERV with a text/xml methodCall (read
 * by a parser of its own), the API user and password as the first two parameters of every method,
 * AUTH_ERROR for a wrong password, a method the user may not call or a domain outside the account,
 * getZoneRecords answering the records of a subdomain (every type), addZoneRecord taking {type, ttl,
 * priority, rdata, record_id} (TTL 300 s or more, BAD_INDATA otherwise) and creating the subdomain,
 * removeZoneRecord by record_id (UNKNOWN_ERROR when there is none), removeSubdomain, and faults for calls
 * of the wrong shape.
 */
export async function startFakeLoopia(o: FakeLoopiaOptions): Promise<FakeLoopia> {
  const records = new Map<number, StoredRecord>();
  const subdomains = new Set<string>();
  const called: string[] = [];
  let nextId = 1;

  function handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/RPCSERV') return { status: 404, text: 'Not Found' };
    if (req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    if (!String(req.headers['content-type']).startsWith('text/xml'))
      return fault(400, 'Content-Type must be text/xml');
    let parsed: { method: string; params: Value[] };
    try {
      parsed = parseCall(req.body);
    } catch (err) {
      return fault(400, `Malformed XML-RPC: ${(err as Error).message}`);
    }
    const { method, params } = parsed;
    called.push(method);
    const shape = ARITY[method];
    if (!shape) return fault(404, `Method ${method} does not exist`);
    if (params.length !== shape.length) return fault(623, `Wrong number of parameters to ${method}`);
    for (const [n, kind] of shape.entries()) {
      const p = params[n];
      const ok =
        kind === 'string'
          ? typeof p === 'string'
          : kind === 'int'
            ? typeof p === 'number'
            : p !== null && typeof p === 'object';
      if (!ok) return fault(624, `Parameter ${n + 1} of ${method} must be ${kind}`);
    }
    const [user, password, rawDomain, rawSub] = params as string[];
    const account = o.users[user!];
    if (!account || account.password !== password) return result('AUTH_ERROR');
    if (account.methods && !account.methods.includes(method)) return result('AUTH_ERROR');
    const domain = nameKey(rawDomain!);
    if (!account.domains.map(nameKey).includes(domain)) return result('AUTH_ERROR');
    const sub = rawSub!.toLowerCase();
    const key = `${sub} ${domain}`;
    switch (method) {
      case 'getZoneRecords':
        return result(
          [...records.values()]
            .filter((r) => r.domain === domain && r.sub === sub)
            .map((r) => ({
              type: r.type,
              ttl: r.ttl,
              priority: r.priority,
              rdata: r.rdata,
              record_id: r.id,
            })),
        );
      case 'addZoneRecord': {
        const r = params[4] as Record<string, Value>;
        if (typeof r.type !== 'string' || typeof r.rdata !== 'string' || r.rdata === '')
          return result('BAD_INDATA');
        if (typeof r.ttl !== 'number' || r.ttl < 300) return result('BAD_INDATA');
        if (typeof r.priority !== 'number') return result('BAD_INDATA');
        const id = nextId++;
        records.set(id, { id, domain, sub, type: r.type, ttl: r.ttl, priority: r.priority, rdata: r.rdata });
        subdomains.add(key);
        return result('OK');
      }
      case 'removeZoneRecord': {
        const r = records.get(params[4] as number);
        if (!r || r.domain !== domain || r.sub !== sub) return result('UNKNOWN_ERROR');
        records.delete(r.id);
        return result('OK');
      }
      case 'removeSubdomain':
        if (!subdomains.has(key)) return result('UNKNOWN_ERROR');
        for (const r of [...records.values()]) if (r.domain === domain && r.sub === sub) records.delete(r.id);
        subdomains.delete(key);
        return result('OK');
      default:
        return fault(404, `Method ${method} does not exist`);
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/RPCSERV`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter(
          (r) => r.type === 'TXT' && (r.sub === '@' ? r.domain : `${r.sub}.${r.domain}`) === nameKey(fqdn),
        )
        .map((r) => r.rdata),
    subdomains: (domain) =>
      [...subdomains].filter((k) => k.endsWith(` ${nameKey(domain)}`)).map((k) => k.split(' ')[0]!),
    methods: () => [...called],
    addOther(domain, sub, type, rdata) {
      const id = nextId++;
      records.set(id, { id, domain: nameKey(domain), sub, type, ttl: 3600, priority: 0, rdata });
      subdomains.add(`${sub} ${nameKey(domain)}`);
    },
    failNext: server.failNext,
    close: server.close,
  };
}
