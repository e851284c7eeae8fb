import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeInfobloxOptions {
  readonly ca: TestCa;
  /** Admins: user name → password. */
  readonly admins: Readonly<Record<string, string>>;
  /** DNS views and the authoritative zones in each: { External: ['example.test'] }. */
  readonly views: Readonly<Record<string, readonly string[]>>;
  /** The WAPI version served (default 2.11). */
  readonly version?: string;
}

export interface FakeInfoblox {
  /** For INFOBLOX_HOST and INFOBLOX_PORT. */
  readonly host: string;
  readonly port: string;
  readonly requests: RecordedRequest[];
  /** TXT values at a name in a view (default External). */
  values(fqdn: string, view?: string): Promise<string[]>;
  /** Adds TXT records directly, as another client would (a crowd at one name, for paging). */
  seed(fqdn: string, texts: readonly string[], view?: string): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredTxt {
  readonly ref: string;
  readonly name: string;
  readonly text: string;
  readonly view: string;
  readonly ttl: number | undefined;
  readonly comment: string | undefined;
}

const wapiError = (status: number, kind: string, code: string, text: string): FakeReply => ({
  status,
  json: { Error: `${kind}: ${text}`, code, text },
});
const protoError = (text: string) => wapiError(400, 'AdmConProtoError', 'Client.Ibap.Proto', text);
const UNAUTHORIZED: FakeReply = {
  status: 401,
  headers: { 'www-authenticate': 'Basic realm="InfoBlox ONE Platform"' },
  text: '<html><head><title>401 Authorization Required</title></head><body>Authorization Required</body></html>',
};

const SEARCH_ARGS = new Set([
  'name',
  'text',
  'view',
  '_return_fields',
  '_paging',
  '_max_results',
  '_return_as_object',
  '_page_id',
]);
const TXT_FIELDS = new Set(['name', 'text', 'view', 'ttl', 'use_ttl', 'comment', 'zone']);

/**
 * A fake of the Infoblox WAPI record:txt object as the WAPI documentation describes it: HTTP Basic
 * authentication (401 with an HTML page otherwise), /wapi/v<version>/ with only the served version, GET
 * with search arguments (unknown ones refused), _return_fields, the result-size limit and paging
 * (_paging=1 with _return_as_object=1 and _max_results, then _page_id), POST answering the new object's
 * reference as a JSON string (201), names only inside an authoritative zone of an existing view, DELETE by
 * reference, and WAPI's {Error, code, text} errors.
 */
export async function startFakeInfoblox(o: FakeInfobloxOptions): Promise<FakeInfoblox> {
  const version = o.version ?? '2.11';
  const records = new Map<string, StoredTxt>();
  const newRef = (name: string, view: string) =>
    `record:txt/${Buffer.from(`dns.bind_txt$.${randomBytes(6).toString('hex')}`).toString('base64url')}:${name}/${view}`;
  const pages = new Map<string, { rest: StoredTxt[]; size: number; fields: string[] }>();

  const show = (r: StoredTxt, fields: string[]) => {
    const out: Record<string, unknown> = { _ref: r.ref };
    for (const f of fields) if (f in r) out[f] = (r as unknown as Record<string, unknown>)[f];
    return out;
  };

  function search(req: RecordedRequest): FakeReply {
    for (const key of req.query.keys())
      if (!SEARCH_ARGS.has(key)) return protoError(`Unknown argument/field: '${key}'`);
    const pageId = req.query.get('_page_id');
    if (pageId !== null) {
      const page = pages.get(pageId);
      if (!page) return protoError('Page id is not valid or has expired');
      return nextPage(pageId, page);
    }
    let fields = ['name', 'text', 'view'];
    const asked = req.query.get('_return_fields');
    if (asked !== null) {
      fields = asked.split(',').filter((f) => f !== '');
      const bad = fields.find((f) => !TXT_FIELDS.has(f));
      if (bad) return protoError(`Unknown argument/field: '${bad}'`);
    }
    const name = req.query.get('name');
    const text = req.query.get('text');
    const view = req.query.get('view');
    const all = [...records.values()].filter(
      (r) =>
        (name === null || r.name === nameKey(name)) &&
        (text === null || r.text === text) &&
        (view === null || r.view === view),
    );
    const max = Number(req.query.get('_max_results') ?? 1000);
    if (!Number.isInteger(max) || max === 0) return protoError("Invalid value for '_max_results'");
    if (req.query.get('_paging') === '1') {
      if (req.query.get('_return_as_object') !== '1')
        return protoError('_return_as_object needs to be enabled for paging requests.');
      if (max < 1) return protoError('_max_results must be positive with paging');
      const id = randomBytes(12).toString('hex');
      const page = { rest: all, size: max, fields };
      pages.set(id, page);
      return nextPage(id, page);
    }
    if (all.length > Math.abs(max)) return protoError(`Result set too large (> ${Math.abs(max)})`);
    const result = all.map((r) => show(r, fields));
    return { status: 200, json: req.query.get('_return_as_object') === '1' ? { result } : result };
  }

  function nextPage(id: string, page: { rest: StoredTxt[]; size: number; fields: string[] }): FakeReply {
    const result = page.rest.slice(0, page.size).map((r) => show(r, page.fields));
    page.rest = page.rest.slice(page.size);
    if (page.rest.length === 0) {
      pages.delete(id);
      return { status: 200, json: { result } };
    }
    return { status: 200, json: { result, next_page_id: id } };
  }

  function create(req: RecordedRequest): FakeReply {
    const b = jsonBody(req);
    if (!b) return protoError('Invalid JSON body');
    const bad = Object.keys(b).find((k) => !TXT_FIELDS.has(k));
    if (bad) return protoError(`Unknown argument/field: '${bad}'`);
    if (typeof b.name !== 'string' || b.name === '' || b.name.endsWith('.'))
      return protoError("Field is not writable or invalid: 'name'");
    if (typeof b.text !== 'string' || b.text === '') return protoError("Required field missing: 'text'");
    const view = typeof b.view === 'string' ? b.view : 'default';
    const zones = o.views[view];
    if (!zones)
      return wapiError(400, 'AdmConDataNotFoundError', 'Client.Ibap.Data.NotFound', `View ${view} not found`);
    const name = nameKey(b.name);
    if (!zones.map(nameKey).some((z) => name === z || name.endsWith(`.${z}`)))
      return wapiError(
        400,
        'AdmConDataError',
        'Client.Ibap.Data.Conflict',
        'None (IBDataConflictError: IB.Data.Conflict:The action is not allowed. A parent was not found.)',
      );
    if (b.ttl !== undefined && (typeof b.ttl !== 'number' || !Number.isInteger(b.ttl) || b.ttl < 0))
      return protoError("Invalid value for 'ttl'");
    if (b.use_ttl !== undefined && typeof b.use_ttl !== 'boolean')
      return protoError("Invalid value for 'use_ttl'");
    const ref = newRef(name, view);
    records.set(ref, {
      ref,
      name,
      text: b.text,
      view,
      ttl: b.use_ttl === true ? (b.ttl as number | undefined) : undefined,
      comment: typeof b.comment === 'string' ? b.comment : undefined,
    });
    return { status: 201, json: ref };
  }

  function handle(req: RecordedRequest): FakeReply {
    const auth = /^Basic (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, ...rest] = auth ? Buffer.from(auth, 'base64').toString('utf8').split(':') : [];
    if (!user || o.admins[user] === undefined || o.admins[user] !== rest.join(':')) return UNAUTHORIZED;
    const m = /^\/wapi\/v([\d.]+)\/(.+)$/.exec(req.path);
    if (!m) return { status: 404, text: 'Not Found' };
    if (m[1] !== version) return protoError(`Version ${m[1]} not supported`);
    const object = decodeURIComponent(m[2]!);
    if (object === 'record:txt') {
      if (req.method === 'GET') return search(req);
      if (req.method === 'POST') return create(req);
      return protoError(`Function ${req.method} not allowed for object record:txt`);
    }
    if (object.startsWith('record:txt/')) {
      const r = records.get(object);
      if (!r)
        return wapiError(
          404,
          'AdmConDataNotFoundError',
          'Client.Ibap.Data.NotFound',
          `Reference ${object} not found`,
        );
      if (req.method === 'DELETE') {
        records.delete(object);
        return { status: 200, json: object };
      }
      if (req.method === 'GET') return { status: 200, json: show(r, ['name', 'text', 'view']) };
      return protoError(`Function ${req.method} not allowed for object record:txt`);
    }
    return protoError(`Unknown object type (${object.split('/')[0]})`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const url = new URL(server.origin);
  return {
    host: url.hostname,
    port: url.port,
    requests: server.requests,
    values: async (fqdn, view = 'External') =>
      [...records.values()].filter((r) => r.name === nameKey(fqdn) && r.view === view).map((r) => r.text),
    seed(fqdn, texts, view = 'External') {
      for (const text of texts) {
        const ref = newRef(nameKey(fqdn), view);
        records.set(ref, { ref, name: nameKey(fqdn), text, view, ttl: undefined, comment: undefined });
      }
    },
    failNext: server.failNext,
    close: server.close,
  };
}
