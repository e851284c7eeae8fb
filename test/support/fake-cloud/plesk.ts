import {
  child,
  escapeXml,
  parseXml,
  textAt,
  type XmlElement,
} from '../../../src/dns/providers/route53/xml.ts';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakePleskOptions {
  readonly ca: TestCa;
  /** Sites (domains) on the server, each with the logins that may manage its DNS: { "example.test": ["admin"] }. */
  readonly sites: Readonly<Record<string, readonly string[]>>;
  /** Logins and their passwords. */
  readonly logins: Readonly<Record<string, string>>;
}

export interface FakePlesk {
  /** For PLESK_SERVER_BASE_URL: https://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly siteId: number;
  /** Full name, lower case, without the trailing dot. */
  readonly host: string;
  readonly type: string;
  readonly value: string;
}

/**
 * A fake of the Plesk XML API as Plesk documents it: POST /enterprise/control/agent.php with Content-Type
 * text/xml, the HTTP_AUTH_LOGIN and HTTP_AUTH_PASSWD headers and one <packet>; site/get (a name filter and
 * a dataset, both required), dns/get_rec (filter by site-id or id), dns/add_rec (site-id, type, host
 * relative to the site, value; children in the schema's order) and dns/del_rec (filter by id). Answers are
 * HTTP 200 packets: <result> with status ok and id (get_rec adds <data> with the host as a full name with
 * the trailing dot), or status error with errcode and errtext (1013: does not exist); a wrong login is a
 * <system> error 1001.
 */
export async function startFakePlesk(o: FakePleskOptions): Promise<FakePlesk> {
  const sites = new Map(Object.keys(o.sites).map((name, i) => [80 + i, nameKey(name)]));
  const records: StoredRecord[] = [];
  let nextId = 4500;

  const packet = (inner: string): FakeReply => ({
    status: 200,
    headers: { 'content-type': 'text/xml' },
    text: `<?xml version="1.0" encoding="UTF-8"?>\n<packet version="1.6.9.1">${inner}</packet>`,
  });
  const error = (code: number, text: string) =>
    `<result><status>error</status><errcode>${code}</errcode><errtext>${escapeXml(text)}</errtext></result>`;
  const mayManage = (login: string, siteId: number) => o.sites[sites.get(siteId)!]!.includes(login);

  function siteGet(login: string, get: XmlElement): string {
    const filter = child(get, 'filter');
    if (!filter || !child(get, 'dataset'))
      return error(1014, 'Parser error: Request is invalid. Element filter and dataset are required');
    const name = textAt(filter, 'name');
    const found = [...sites].find(([id, n]) => n === nameKey(name ?? '') && mayManage(login, id));
    if (!found)
      return `${error(1013, 'Site does not exist').replace('</result>', '')}<filter-id>${escapeXml(name ?? '')}</filter-id></result>`;
    return (
      `<result><status>ok</status><filter-id>${escapeXml(name!)}</filter-id><id>${found[0]}</id><data><gen_info>` +
      `<cr_date>2024-01-01</cr_date><name>${found[1]}</name><ascii-name>${found[1]}</ascii-name><status>0</status>` +
      `<real_size>0</real_size><htype>vrt_hst</htype><guid>00000000-0000-0000-0000-0000000000${found[0]}</guid>` +
      '</gen_info></data></result>'
    );
  }

  function getRec(login: string, op: XmlElement): string {
    const filter = child(op, 'filter');
    if (!filter) return error(1014, 'Parser error: Request is invalid. Element filter is required');
    const siteId = textAt(filter, 'site-id');
    const id = textAt(filter, 'id');
    const matching = records.filter(
      (r) =>
        mayManage(login, r.siteId) &&
        (siteId === undefined || String(r.siteId) === siteId) &&
        (id === undefined || String(r.id) === id),
    );
    if (siteId !== undefined && !sites.has(Number(siteId))) return error(1013, 'Site does not exist');
    return matching
      .map(
        (r) =>
          `<result><status>ok</status><id>${r.id}</id><data><site-id>${r.siteId}</site-id><type>${r.type}</type>` +
          `<host>${escapeXml(r.host)}.</host><value>${escapeXml(r.value)}</value><opt></opt></data></result>`,
      )
      .join('');
  }

  function addRec(login: string, op: XmlElement): string {
    const order = op.children.map((c) => c.name);
    const expected = ['site-id', 'type', 'host', 'value'];
    if (order.slice(0, 4).join() !== expected.join())
      return error(
        1014,
        `Parser error: Request is invalid. Elements must come in this order: ${expected.join(', ')}`,
      );
    const siteId = Number(textAt(op, 'site-id'));
    const site = sites.get(siteId);
    if (!site) return error(1015, 'Domain does not exist.');
    if (!mayManage(login, siteId)) return error(1006, 'Permission denied.');
    const type = textAt(op, 'type') ?? '';
    if (type !== 'TXT') return error(1019, `This fake adds TXT records only, got ${type}`);
    const relative = (textAt(op, 'host') ?? '').toLowerCase();
    if (relative.endsWith('.')) return error(1019, 'Incorrect host: use a name relative to the domain');
    const host = relative === '' ? site : `${relative}.${site}`;
    const value = textAt(op, 'value') ?? '';
    if (value === '') return error(1019, 'Value is empty');
    if (records.some((r) => r.siteId === siteId && r.host === host && r.type === type && r.value === value))
      return error(1007, 'DNS record already exists.');
    const r = { id: nextId++, siteId, host, type, value };
    records.push(r);
    return `<result><status>ok</status><id>${r.id}</id></result>`;
  }

  function delRec(login: string, op: XmlElement): string {
    const id = textAt(child(op, 'filter'), 'id');
    if (id === undefined) return error(1014, 'Parser error: Request is invalid. Element filter is required');
    const i = records.findIndex((r) => String(r.id) === id && mayManage(login, r.siteId));
    if (i < 0) return error(1013, 'DNS record does not exist.');
    records.splice(i, 1);
    return `<result><status>ok</status><id>${id}</id></result>`;
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/enterprise/control/agent.php') return { status: 404, text: '<html>Not Found</html>' };
    if (req.method !== 'POST') return { status: 405, text: '<html>Method Not Allowed</html>' };
    if (!String(req.headers['content-type'] ?? '').startsWith('text/xml'))
      return packet(
        '<system><status>error</status><errcode>1014</errcode><errtext>Parser error: Content-Type must be text/xml</errtext></system>',
      );
    const login = String(req.headers.http_auth_login ?? '');
    const password = req.headers.http_auth_passwd;
    if (!(login in o.logins) || o.logins[login] !== password)
      return packet(
        '<system><status>error</status><errcode>1001</errcode><errtext>You have entered incorrect username or password.</errtext></system>',
      );
    let root: XmlElement;
    try {
      root = parseXml(req.body);
    } catch (err) {
      return packet(
        `<system><status>error</status><errcode>1014</errcode><errtext>Parser error: ${escapeXml(String(err))}</errtext></system>`,
      );
    }
    if (root.name !== 'packet' || root.children.length !== 1)
      return packet(
        '<system><status>error</status><errcode>1014</errcode><errtext>Parser error: one operator per packet</errtext></system>',
      );
    const operator = root.children[0]!;
    const ops = operator.children;
    const out = ops.map((op) => {
      let inner: string;
      if (operator.name === 'site' && op.name === 'get') inner = siteGet(login, op);
      else if (operator.name === 'dns' && op.name === 'get_rec') inner = getRec(login, op);
      else if (operator.name === 'dns' && op.name === 'add_rec') inner = addRec(login, op);
      else if (operator.name === 'dns' && op.name === 'del_rec') inner = delRec(login, op);
      else inner = error(1014, `Parser error: unknown operation ${operator.name}/${op.name}`);
      return `<${op.name}>${inner}</${op.name}>`;
    });
    return packet(`<${operator.name}>${out.join('')}</${operator.name}>`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    baseUrl: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      records.filter((r) => r.type === 'TXT' && r.host === nameKey(fqdn)).map((r) => r.value),
    failNext: server.failNext,
    close: server.close,
  };
}
