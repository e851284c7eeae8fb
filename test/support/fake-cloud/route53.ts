import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '../test-ca.ts';
import { type AwsRefusal, checkSignature, type FakeAwsKey } from './aws-sigv4-check.ts';
import { FakeSts, mintTemporaryKey } from './aws-sts.ts';

export type FakeRoute53Action =
  | 'ListHostedZonesByName'
  | 'ListResourceRecordSets'
  | 'ChangeResourceRecordSets'
  | 'GetChange';

export interface FakeTxtSet {
  readonly zoneId: string;
  readonly ttl: number;
  /** Values as stored: quoted character-strings. */
  readonly stored: readonly string[];
}

export interface FakeCall {
  readonly action: FakeRoute53Action | 'STS' | 'unknown';
  readonly status: number;
  readonly keyId?: string | undefined;
}

interface RRSet {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

interface Zone {
  readonly id: string;
  readonly name: string;
  readonly private: boolean;
  readonly sets: Map<string, RRSet>;
}

interface Injected {
  count: number;
  readonly refusal?: AwsRefusal;
  /** A raw XML body instead of an ErrorResponse (Route 53's InvalidChangeBatch format). */
  readonly body?: { status: number; xml: string };
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const QUOTED = /^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$/;

/**
 * A Route 53 (plus STS, on POST /) look-alike over HTTPS on 127.0.0.1: hosted zones, record sets with
 * Route 53's rules (TXT values quoted, transactional change batches, DELETE needs the exact current
 * set), changes PENDING until polled, and every request's SigV4 signature checked independently.
 * Keys, roles, refusals and throttling are set up by the test.
 */
export class FakeRoute53 {
  readonly url: string;
  readonly calls: FakeCall[] = [];
  readonly keys = new Map<string, FakeAwsKey>();
  readonly sts: FakeSts;
  /** GetChange answers PENDING until it has been asked this many times for a change. */
  insyncAfterPolls = 2;
  readonly #server: Server;
  readonly #zones = new Map<string, Zone>();
  readonly #changes = new Map<string, { polls: number }>();
  readonly #denied = new Map<string, Set<FakeRoute53Action>>();
  readonly #injected = new Map<string, Injected[]>();
  #beforeChange: (() => void) | undefined;
  #changeCounter = 0;

  private constructor(server: Server) {
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `https://127.0.0.1:${port}`;
    this.sts = new FakeSts(this.keys);
  }

  static async start(ca: TestCa): Promise<FakeRoute53> {
    const [key, cert] = await Promise.all([readFile(ca.keyPath), readFile(ca.certPath)]);
    let fake: FakeRoute53 | undefined;
    const server = createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake!.#handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    fake = new FakeRoute53(server);
    return fake;
  }

  /** A long-term key (AKIA…); with `sessionToken`, a temporary one. */
  addKey(key: FakeAwsKey): FakeAwsKey {
    this.keys.set(key.accessKeyId, key);
    return key;
  }

  /** Temporary credentials this account accepts, as a metadata or container endpoint would hand out. */
  mintKey(ttlMs = 3_600_000): Required<FakeAwsKey> {
    const key = mintTemporaryKey(Date.now(), ttlMs);
    this.keys.set(key.accessKeyId, key);
    return key;
  }

  /** Refuses `action` to this key with AccessDenied, as a missing IAM permission does. */
  deny(accessKeyId: string, action: FakeRoute53Action): void {
    const set = this.#denied.get(accessKeyId) ?? new Set();
    set.add(action);
    this.#denied.set(accessKeyId, set);
  }

  addZone(name: string, opts: { private?: boolean; id?: string } = {}): string {
    const id = opts.id ?? `Z${randomBytes(8).toString('hex').toUpperCase()}`;
    const zoneName = absolute(name);
    const zone: Zone = { id, name: zoneName, private: opts.private ?? false, sets: new Map() };
    zone.sets.set(`${zoneName}|NS`, {
      name: zoneName,
      type: 'NS',
      ttl: 172800,
      values: ['ns-1.awsdns-00.com.'],
    });
    zone.sets.set(`${zoneName}|SOA`, {
      name: zoneName,
      type: 'SOA',
      ttl: 900,
      values: ['ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400'],
    });
    this.#zones.set(id, zone);
    return id;
  }

  /** The next `count` requests for `action` (after the signature check) get this refusal. */
  failNext(action: FakeRoute53Action, count: number, refusal: AwsRefusal): void {
    this.#queue(action).push({ count, refusal });
  }

  /** The next change batch is refused with Route 53's InvalidChangeBatch document. */
  rejectNextChange(messages: readonly string[]): void {
    const xml =
      `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${NS}"><Messages>` +
      messages.map((m) => `<Message>${esc(m)}</Message>`).join('') +
      `</Messages><RequestId>${randomBytes(8).toString('hex')}</RequestId></InvalidChangeBatch>`;
    this.#queue('ChangeResourceRecordSets').push({ count: 1, body: { status: 400, xml } });
  }

  /** Runs `fn` when the next change batch arrives, before Route 53 applies it: another writer racing in. */
  onNextChange(fn: () => void): void {
    this.#beforeChange = fn;
  }

  /** Changes the TXT set behind the provider's back (another writer). */
  putTxt(zoneId: string, fqdn: string, ttl: number, stored: readonly string[]): void {
    const name = absolute(fqdn);
    const zone = this.#zones.get(zoneId)!;
    if (stored.length === 0) zone.sets.delete(`${name}|TXT`);
    else zone.sets.set(`${name}|TXT`, { name, type: 'TXT', ttl, values: [...stored] });
  }

  /** Every TXT record set at this name, in any zone. */
  txtSets(fqdn: string): FakeTxtSet[] {
    const name = absolute(fqdn);
    const out: FakeTxtSet[] = [];
    for (const zone of this.#zones.values()) {
      const set = zone.sets.get(`${name}|TXT`);
      if (set) out.push({ zoneId: zone.id, ttl: set.ttl, stored: [...set.values] });
    }
    return out;
  }

  /** The TXT values at this name, unquoted, over all zones. */
  values(fqdn: string): string[] {
    return this.txtSets(fqdn).flatMap((s) => s.stored.map(unquote));
  }

  count(action: FakeCall['action']): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #queue(action: string): Injected[] {
    const q = this.#injected.get(action) ?? [];
    this.#injected.set(action, q);
    return q;
  }

  #handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const now = Date.now();
    const [path = '/'] = (req.url ?? '/').split('?');
    const send = (status: number, xml: string, action: FakeCall['action'], keyId?: string): void => {
      this.calls.push({ action, status, keyId });
      res.writeHead(status, {
        'content-type': 'text/xml',
        'x-amzn-requestid': randomBytes(8).toString('hex'),
      });
      res.end(xml);
    };
    if (req.method === 'POST' && path === '/') {
      const answer = this.sts.handle(req, body, now);
      send(answer.status, answer.xml, 'STS');
      return;
    }
    const action = actionOf(req.method ?? '', path);
    if (!action) {
      send(
        404,
        errorXml({ status: 404, code: 'UnknownOperationException', message: 'Unknown operation' }),
        'unknown',
      );
      return;
    }
    const check = checkSignature(req, body, this.keys, { region: 'us-east-1', service: 'route53', now });
    if (!check.ok) {
      send(check.status, errorXml(check), action);
      return;
    }
    const keyId = check.key.accessKeyId;
    const queue = this.#injected.get(action);
    const injected = queue?.[0];
    if (queue && injected) {
      injected.count -= 1;
      if (injected.count <= 0) queue.shift();
      if (injected.body) send(injected.body.status, injected.body.xml, action, keyId);
      else send(injected.refusal!.status, errorXml(injected.refusal!), action, keyId);
      return;
    }
    if (this.#denied.get(keyId)?.has(action)) {
      const refusal = {
        status: 403,
        code: 'AccessDenied',
        message: `User: arn:aws:iam::123456789012:user/test is not authorized to perform: route53:${action} on resource: arn:aws:route53:::${path.includes('/change/') ? 'change' : 'hostedzone'}/${path.split('/')[3] ?? '*'}`,
      };
      send(403, errorXml(refusal), action, keyId);
      return;
    }
    if (action === 'ChangeResourceRecordSets' && this.#beforeChange) {
      const fn = this.#beforeChange;
      this.#beforeChange = undefined;
      fn();
    }
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const answer = this.#route(action, path, query, body);
    send(answer.status, answer.xml, action, keyId);
  }

  #route(
    action: FakeRoute53Action,
    path: string,
    query: URLSearchParams,
    body: string,
  ): { status: number; xml: string } {
    const parts = path.split('/');
    switch (action) {
      case 'ListHostedZonesByName':
        return this.#listZones(query);
      case 'GetChange': {
        const id = parts[3] ?? '';
        const change = this.#changes.get(id);
        if (!change)
          return {
            status: 404,
            xml: errorXml({
              status: 404,
              code: 'NoSuchChange',
              message: `A change with the specified change ID does not exist: ${id}`,
            }),
          };
        change.polls += 1;
        const status = change.polls >= this.insyncAfterPolls ? 'INSYNC' : 'PENDING';
        return {
          status: 200,
          xml: `<?xml version="1.0"?>\n<GetChangeResponse xmlns="${NS}">${changeInfo(id, status)}</GetChangeResponse>`,
        };
      }
      default: {
        const zone = this.#zones.get(parts[3] ?? '');
        if (!zone) {
          return {
            status: 404,
            xml: errorXml({
              status: 404,
              code: 'NoSuchHostedZone',
              message: `No hosted zone found with ID: ${parts[3]}`,
            }),
          };
        }
        return action === 'ListResourceRecordSets' ? this.#listSets(zone, query) : this.#change(zone, body);
      }
    }
  }

  #listZones(query: URLSearchParams): { status: number; xml: string } {
    const start = query.get('dnsname');
    const max = Number(query.get('maxitems') ?? '100');
    const sorted = [...this.#zones.values()].sort((a, b) => order(a.name, b.name) || (a.id < b.id ? -1 : 1));
    const from = start ? sorted.filter((z) => order(z.name, absolute(start)) >= 0) : sorted;
    const page = from.slice(0, max);
    const zones = page
      .map(
        (z) =>
          `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${z.name}</Name><CallerReference>ref-${z.id}</CallerReference>` +
          `<Config><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>${z.sets.size}</ResourceRecordSetCount></HostedZone>`,
      )
      .join('');
    const next = from[max];
    const xml =
      `<?xml version="1.0"?>\n<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${zones}</HostedZones>` +
      (start ? `<DNSName>${start}</DNSName>` : '') +
      `<IsTruncated>${next !== undefined}</IsTruncated>` +
      (next ? `<NextDNSName>${next.name}</NextDNSName><NextHostedZoneId>${next.id}</NextHostedZoneId>` : '') +
      `<MaxItems>${max}</MaxItems></ListHostedZonesByNameResponse>`;
    return { status: 200, xml };
  }

  #listSets(zone: Zone, query: URLSearchParams): { status: number; xml: string } {
    const name = query.get('name');
    const type = query.get('type');
    if (type && !name) {
      return {
        status: 400,
        xml: errorXml({ status: 400, code: 'InvalidInput', message: 'type requires name' }),
      };
    }
    const max = Number(query.get('maxitems') ?? '300');
    const sorted = [...zone.sets.values()].sort(
      (a, b) => order(a.name, b.name) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
    );
    const from = sorted.filter((s) => {
      if (!name) return true;
      const o = order(s.name, absolute(name));
      return o > 0 || (o === 0 && (!type || s.type >= type));
    });
    const page = from.slice(0, max);
    const sets = page
      .map(
        (s) =>
          `<ResourceRecordSet><Name>${s.name}</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>` +
          s.values.map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`).join('') +
          '</ResourceRecords></ResourceRecordSet>',
      )
      .join('');
    const next = from[max];
    const xml =
      `<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${sets}</ResourceRecordSets>` +
      `<IsTruncated>${next !== undefined}</IsTruncated>` +
      (next
        ? `<NextRecordName>${next.name}</NextRecordName><NextRecordType>${next.type}</NextRecordType>`
        : '') +
      `<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`;
    return { status: 200, xml };
  }

  /** A change batch is all or nothing, as in Route 53. */
  #change(zone: Zone, body: string): { status: number; xml: string } {
    if (!body.includes(`<ChangeResourceRecordSetsRequest xmlns="${NS}">`)) {
      return {
        status: 400,
        xml: errorXml({
          status: 400,
          code: 'InvalidInput',
          message: 'Invalid XML ; cvc-elt.1: Cannot find the declaration of element',
        }),
      };
    }
    const next = new Map(zone.sets);
    const problems: string[] = [];
    for (const [, change] of body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)) {
      const action = tag(change!, 'Action');
      const name = absolute(tag(change!, 'Name').toLowerCase());
      const type = tag(change!, 'Type');
      const ttl = Number(tag(change!, 'TTL'));
      const values = [...change!.matchAll(/<Value>([\s\S]*?)<\/Value>/g)].map((m) => unesc(m[1]!));
      const key = `${name}|${type}`;
      const label = `[name='${name}', type='${type}']`;
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.name}`);
        continue;
      }
      if (!Number.isInteger(ttl) || ttl < 0) {
        problems.push(`Invalid TTL for ${label}`);
        continue;
      }
      const bad = type === 'TXT' ? values.find((v) => !QUOTED.test(v)) : undefined;
      if (bad !== undefined) {
        problems.push(
          `Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${bad}''`,
        );
        continue;
      }
      const dup = values.find((v, i) => values.indexOf(v) !== i);
      if (dup !== undefined) {
        problems.push(`Duplicate Resource Record: '${dup}'`);
        continue;
      }
      const current = next.get(key);
      if (action === 'CREATE' && current)
        problems.push(`Tried to create resource record set ${label} but it already exists`);
      else if (action === 'DELETE' && !current)
        problems.push(`Tried to delete resource record set ${label} but it was not found`);
      else if (action === 'DELETE' && (current!.ttl !== ttl || !sameValues(current!.values, values))) {
        problems.push(
          `Tried to delete resource record set ${label} but the values provided do not match the current values`,
        );
      } else if (action === 'DELETE') next.delete(key);
      else if (action === 'CREATE' || action === 'UPSERT') next.set(key, { name, type, ttl, values });
      else problems.push(`Unknown action ${action}`);
    }
    if (problems.length > 0 || !/<Change>/.test(body)) {
      const xml =
        `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${NS}"><Messages>` +
        problems.map((p) => `<Message>${esc(p)}</Message>`).join('') +
        `</Messages><RequestId>${randomBytes(8).toString('hex')}</RequestId></InvalidChangeBatch>`;
      return { status: 400, xml };
    }
    zone.sets.clear();
    for (const [k, v] of next) zone.sets.set(k, v);
    this.#changeCounter += 1;
    const id = `C${String(this.#changeCounter).padStart(12, '0')}`;
    this.#changes.set(id, { polls: 0 });
    return {
      status: 200,
      xml: `<?xml version="1.0"?>\n<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo(id, 'PENDING')}</ChangeResourceRecordSetsResponse>`,
    };
  }
}

function actionOf(method: string, path: string): FakeRoute53Action | undefined {
  if (method === 'GET' && path === '/2013-04-01/hostedzonesbyname') return 'ListHostedZonesByName';
  if (method === 'GET' && /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?$/.test(path))
    return 'ListResourceRecordSets';
  if (method === 'POST' && /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?$/.test(path))
    return 'ChangeResourceRecordSets';
  if (method === 'GET' && /^\/2013-04-01\/change\/[^/]+$/.test(path)) return 'GetChange';
  return undefined;
}

function changeInfo(id: string, status: string): string {
  return `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
}

function errorXml(r: AwsRefusal): string {
  return (
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${r.code}</Code>` +
    `<Message>${esc(r.message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`
  );
}

const absolute = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** Route 53 lists names by their labels reversed ("com.example.www"). */
function order(a: string, b: string): number {
  const key = (n: string): string => n.replace(/\.$/, '').split('.').reverse().join('.');
  const [x, y] = [key(a), key(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function tag(xml: string, name: string): string {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unesc(m[1]!) : '';
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unesc(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** `"abc" "def"` → "abcdef" (backslash escapes undone). */
function unquote(stored: string): string {
  return [...stored.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')).join('');
}
