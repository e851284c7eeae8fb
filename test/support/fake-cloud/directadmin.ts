import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDirectAdminOptions {
  readonly ca: TestCa;
  /** Domains (zones), each owned by one user: { "example.test": "alice" }. */
  readonly domains: Readonly<Record<string, string>>;
  /** Users and the passwords (or login keys) they may log in with. */
  readonly users: Readonly<Record<string, readonly string[]>>;
}

export interface FakeDirectAdmin {
  /** For DIRECTADMIN_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** TXT values at a full name, quotes removed. */
  values(fqdn: string): Promise<string[]>;
  /** Adds a zone file line as someone editing the zone by hand would. */
  addLine(domain: string, name: string, type: string, value: string): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface Line {
  /** As written: relative ("www"), absolute ("www.example.test.") or "@". */
  readonly name: string;
  readonly ttl: number | undefined;
  readonly type: string;
  /** As written, a TXT value with its quotes. */
  readonly value: string;
}

const encoded = (fields: Record<string, string>): FakeReply => ({
  status: 200,
  text: new URLSearchParams(fields).toString(),
});
const refused = (text: string, details: string) => encoded({ error: '1', text, details });

/**
 * A fake of DirectAdmin's CMD_API_DNS_CONTROL as DirectAdmin documents it: Basic authentication with the
 * user's password or a login key (HTTP 401 otherwise); GET ?domain= returns the zone file (tab-separated,
 * names relative to the zone, the apex and the SOA with the zone's full name); action=add (type, name,
 * value, optional ttl) appends a line; action=select with <type>recsN=<url-encoded name=…&value=…>
 * deletes the lines written exactly so; parameters by query or form (a POST body must be
 * application/x-www-form-urlencoded); answers are url-encoded error=0|1&text=…&details=….
 */
export async function startFakeDirectAdmin(o: FakeDirectAdminOptions): Promise<FakeDirectAdmin> {
  const zones = new Map<string, { owner: string; lines: Line[] }>();
  for (const [domain, owner] of Object.entries(o.domains)) {
    const z = nameKey(domain);
    zones.set(z, {
      owner,
      lines: [
        { name: `${z}.`, ttl: 14400, type: 'NS', value: `ns1.${z}.` },
        { name: `${z}.`, ttl: 14400, type: 'A', value: '192.0.2.20' },
        { name: 'www', ttl: 14400, type: 'A', value: '192.0.2.20' },
        { name: `${z}.`, ttl: 14400, type: 'TXT', value: '"v=spf1 a mx ip4:192.0.2.20 ~all"' },
      ],
    });
  }

  const fullName = (name: string, z: string) =>
    name === '@' ? z : name.endsWith('.') ? nameKey(name) : `${nameKey(name)}.${z}`;

  function zoneFile(z: string, lines: Line[]): string {
    const out = [
      '$TTL 14400',
      `${z}.\t14400\tIN\tSOA\tns1.${z}.\thostmaster.${z}. (`,
      '\t\t\t\t\t\t2024010101',
      '\t\t\t\t\t\t14400',
      '\t\t\t\t\t\t3600',
      '\t\t\t\t\t\t1209600',
      '\t\t\t\t\t\t86400 )',
      '',
    ];
    for (const l of lines)
      out.push([l.name, ...(l.ttl === undefined ? [] : [String(l.ttl)]), 'IN', l.type, l.value].join('\t'));
    return `${out.join('\n')}\n`;
  }

  function handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/CMD_API_DNS_CONTROL')
      return { status: 404, text: '<html><body>Not Found</body></html>' };
    const basic = /^Basic (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const [user, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    if (!user || !o.users[user]?.includes(rest.join(':')))
      return { status: 401, text: '<html><body><h1>Unauthorized</h1></body></html>' };
    const p = new URLSearchParams(req.query);
    if (req.method === 'POST' && req.body !== '') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        return refused('Cannot Execute Your Request', 'the POST body must be a url-encoded form');
      for (const [k, v] of new URLSearchParams(req.body)) p.append(k, v);
    }
    const domain = p.get('domain');
    if (!domain) return refused('Cannot View Dns Record', 'No domain provided');
    const z = nameKey(domain);
    const zone = zones.get(z);
    if (!zone || zone.owner !== user) return refused('Cannot View Dns Record', 'You do not own that domain');
    const action = p.get('action');
    if (action === null) return { status: 200, text: zoneFile(z, zone.lines) };
    if (action === 'add') {
      const type = (p.get('type') ?? '').toUpperCase();
      const name = p.get('name') ?? '';
      const value = p.get('value') ?? '';
      if (!type || !name || !value) return refused('Cannot Add Record', 'type, name and value are required');
      const full = fullName(name, z);
      if (full !== z && !full.endsWith(`.${z}`))
        return refused('Cannot Add Record', `${name} is not in ${z}`);
      const ttlRaw = p.get('ttl');
      if (ttlRaw !== null && !/^\d+$/.test(ttlRaw)) return refused('Cannot Add Record', 'invalid ttl');
      if (type === 'TXT' && !/^"([^"\\]|\\.)*"$/.test(value) && /\s/.test(value))
        return refused('Cannot Add Record', 'a TXT value with blanks must be quoted');
      zone.lines.push({ name, ttl: ttlRaw === null ? undefined : Number(ttlRaw), type, value });
      return encoded({ error: '0', text: 'Record Added', details: '' });
    }
    if (action === 'select') {
      let deleted = 0;
      for (const [key, raw] of p) {
        const m = /^([a-z]+)recs\d+$/.exec(key);
        if (!m) continue;
        const type = m[1]!.toUpperCase();
        const which = new URLSearchParams(raw);
        const before = zone.lines.length;
        zone.lines = zone.lines.filter(
          (l) => !(l.type === type && l.name === which.get('name') && l.value === which.get('value')),
        );
        deleted += before - zone.lines.length;
      }
      return encoded({
        error: '0',
        text: 'Records Deleted',
        details: deleted === 0 ? 'no matching record' : '',
      });
    }
    return refused('Cannot Execute Your Request', `unknown action ${action}`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    async values(fqdn) {
      const want = nameKey(fqdn);
      const out: string[] = [];
      for (const [z, zone] of zones)
        for (const l of zone.lines)
          if (l.type === 'TXT' && fullName(l.name, z) === want) out.push(l.value.replace(/^"(.*)"$/, '$1'));
      return out;
    },
    addLine(domain, name, type, value) {
      zones.get(nameKey(domain))!.lines.push({ name, ttl: undefined, type, value });
    },
    failNext: server.failNext,
    close: server.close,
  };
}
