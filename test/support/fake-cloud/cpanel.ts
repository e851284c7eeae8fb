import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeCpanelOptions {
  readonly ca: TestCa;
  /** Which API the server speaks: cPanel UAPI (/execute, port 2083) or WHM API 1 (/json-api, port 2087). */
  readonly mode: 'cpanel' | 'whm';
  /** Zones, each owned by one user: { "example.test": "alice" }. */
  readonly zones: Readonly<Record<string, string>>;
  /** API tokens by user name. A WHM token (mode whm) may edit every zone. */
  readonly tokens: Readonly<Record<string, string>>;
}

export interface FakeCpanel {
  /** For CPANEL_BASE_URL: https://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The zone's SOA serial now. */
  serial(zone: string): number;
  /** Changes the zone as another client would: a TXT record at `name` (relative), the serial moves on. */
  addElsewhere(zone: string, name: string, value: string): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

/** One entry of the zone file: a record (several lines for the SOA), a comment or a $TTL line. */
interface Entry {
  readonly kind: 'record' | 'comment' | 'control';
  /** As written in the file: relative ("www", "@") or absolute ("www.example.test."). */
  readonly dname?: string;
  readonly recordType?: string;
  readonly ttl?: number;
  /** Record data: character strings for TXT, fields for the SOA. */
  readonly data?: string[];
  readonly text?: string;
  /** How many lines it takes in the file. */
  readonly lines: number;
}

interface Zone {
  readonly owner: string;
  readonly entries: Entry[];
  serial: number;
}

class Refusal extends Error {}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * A fake of the cPanel DNS zone API as cPanel documents it, in either mode: UAPI GET
 * /execute/DNS/parse_zone and /execute/DNS/mass_edit_zone with "Authorization: cpanel user:token", or WHM
 * API 1 GET /json-api/parse_dns_zone and /json-api/mass_edit_dns_zone?api.version=1 with "Authorization:
 * whm user:token". The zone is a zone file: parse_zone lists its entries with line_index (the SOA spans
 * seven lines, so indexes are not positions), base64 dname and data; mass_edit_zone needs the zone's
 * current serial, takes add / add-N (JSON: dname, ttl, record_type, data) and remove / remove-N (the
 * line where a record starts), and moves the serial on. Failures are HTTP 200 with status 0 and errors
 * (UAPI) or metadata.result 0 and a reason (WHM); a bad token is HTTP 401.
 */
export async function startFakeCpanel(o: FakeCpanelOptions): Promise<FakeCpanel> {
  const zones = new Map<string, Zone>();
  for (const [name, owner] of Object.entries(o.zones)) {
    const z = nameKey(name);
    zones.set(z, {
      owner,
      serial: 2024010100,
      entries: [
        { kind: 'comment', text: '; cPanel first:11.118.0.5 (update_time):1700000000', lines: 1 },
        { kind: 'control', text: '$TTL 14400', lines: 1 },
        { kind: 'record', dname: `${z}.`, recordType: 'SOA', ttl: 86400, data: [], lines: 7 },
        { kind: 'record', dname: `${z}.`, recordType: 'NS', ttl: 86400, data: [`ns1.${z}.`], lines: 1 },
        { kind: 'record', dname: `${z}.`, recordType: 'A', ttl: 14400, data: ['192.0.2.10'], lines: 1 },
        { kind: 'record', dname: 'www', recordType: 'CNAME', ttl: 14400, data: [`${z}.`], lines: 1 },
      ],
    });
  }

  const soaData = (z: string, zone: Zone) => [
    `ns1.${z}.`,
    `hostmaster.${z}.`,
    String(zone.serial),
    '3600',
    '1800',
    '1209600',
    '86400',
  ];

  function withLines(z: string, zone: Zone) {
    let line = 0;
    return zone.entries.map((e) => {
      const at = line;
      line += e.lines;
      const data = e.recordType === 'SOA' ? soaData(z, zone) : e.data;
      return e.kind === 'record'
        ? {
            line_index: at,
            type: 'record',
            dname_b64: b64(e.dname!),
            record_type: e.recordType,
            ttl: e.ttl,
            data_b64: data!.map(b64),
          }
        : { line_index: at, type: e.kind, text_b64: b64(e.text!) };
    });
  }

  function absolute(dname: string, z: string): string {
    if (dname === '@') return z;
    return dname.endsWith('.') ? nameKey(dname) : `${nameKey(dname)}.${z}`;
  }

  function zoneFor(user: string, q: URLSearchParams): [string, Zone] {
    const z = nameKey(q.get('zone') ?? '');
    const zone = zones.get(z);
    // WHM's root token may work on every zone; a cPanel user only on their own.
    if (!zone || (o.mode === 'cpanel' && zone.owner !== user))
      throw new Refusal(`You do not have access to a DNS zone named “${q.get('zone') ?? ''}”.`);
    return [z, zone];
  }

  function massEdit(z: string, zone: Zone, q: URLSearchParams): { new_serial: string } {
    const serial = q.get('serial');
    if (serial === null || !/^\d+$/.test(serial)) throw new Refusal('The “serial” parameter is required.');
    if (Number(serial) !== zone.serial)
      throw new Refusal(
        `The given serial number (${serial}) does not match the DNS zone’s serial number (${zone.serial}). Refresh your view of the DNS zone, then resubmit.`,
      );
    const keys = [...q.keys()];
    const adds = keys.filter((k) => /^add(-\d+)?$/.test(k)).map((k) => q.get(k)!);
    const removes = keys.filter((k) => /^remove(-\d+)?$/.test(k)).map((k) => q.get(k)!);
    if (keys.some((k) => /^edit(-\d+)?$/.test(k))) throw new Refusal('This fake does not edit records.');
    if (adds.length === 0 && removes.length === 0) throw new Refusal('You must specify at least one change.');
    // Removals name lines of the zone as it was read: resolve them all before changing anything.
    let line = 0;
    const starts = new Map<number, Entry>();
    for (const e of zone.entries) {
      starts.set(line, e);
      line += e.lines;
    }
    const doomed = removes.map((r) => {
      const e = /^\d+$/.test(r) ? starts.get(Number(r)) : undefined;
      if (e?.kind !== 'record') throw new Refusal(`No record starts at line ${r}.`);
      if (e.recordType === 'SOA') throw new Refusal('You cannot remove the SOA record.');
      return e;
    });
    const added: Entry[] = adds.map((raw) => {
      let a: { dname?: unknown; ttl?: unknown; record_type?: unknown; data?: unknown };
      try {
        a = JSON.parse(raw) as typeof a;
      } catch {
        throw new Refusal(`The “add” value is not valid JSON: ${raw}`);
      }
      if (typeof a.dname !== 'string' || a.dname === '') throw new Refusal('A record needs a “dname”.');
      if (typeof a.ttl !== 'number' || !Number.isInteger(a.ttl) || a.ttl < 0)
        throw new Refusal('A record needs a “ttl”.');
      if (a.record_type !== 'TXT')
        throw new Refusal(`This fake adds TXT records only, got ${String(a.record_type)}.`);
      if (
        !Array.isArray(a.data) ||
        a.data.length === 0 ||
        !a.data.every((d) => typeof d === 'string' && d.length <= 255)
      )
        throw new Refusal('A TXT record needs “data”: strings of at most 255 bytes.');
      const full = absolute(a.dname, z);
      if (full !== z && !full.endsWith(`.${z}`)) throw new Refusal(`“${a.dname}” is not in the zone “${z}”.`);
      return {
        kind: 'record',
        dname: a.dname,
        recordType: 'TXT',
        ttl: a.ttl,
        data: a.data as string[],
        lines: 1,
      };
    });
    for (const e of doomed) zone.entries.splice(zone.entries.indexOf(e), 1);
    zone.entries.push(...added);
    zone.serial += 1;
    return { new_serial: String(zone.serial) };
  }

  function handle(req: RecordedRequest): FakeReply {
    const uapi = /^\/execute\/DNS\/(parse_zone|mass_edit_zone)$/.exec(req.path)?.[1];
    const whm = /^\/json-api\/(parse_dns_zone|mass_edit_dns_zone)$/.exec(req.path)?.[1];
    const fn = o.mode === 'cpanel' ? uapi : whm;
    if (!fn) return { status: 404, text: '<html><body><h1>404 Not Found</h1></body></html>' };
    const m = /^(cpanel|whm) ([^:\s]+):(\S+)$/.exec(String(req.headers.authorization ?? ''));
    if (!m || m[1] !== o.mode || o.tokens[m[2]!] !== m[3])
      return {
        status: 401,
        text: '<html><body><h1>Access denied</h1><p>The API token is not valid.</p></body></html>',
      };
    const user = m[2]!;
    const answer = (data: unknown, error?: string): FakeReply =>
      o.mode === 'cpanel'
        ? {
            status: 200,
            json: {
              data: error ? null : data,
              errors: error ? [error] : null,
              messages: null,
              metadata: {},
              status: error ? 0 : 1,
              warnings: null,
            },
          }
        : {
            status: 200,
            json: {
              data: error ? null : data,
              metadata: { command: fn, reason: error ?? 'OK', result: error ? 0 : 1, version: 1 },
            },
          };
    if (o.mode === 'whm' && req.query.get('api.version') !== '1')
      return answer(undefined, 'This fake speaks WHM API 1 only: add api.version=1.');
    try {
      const [z, zone] = zoneFor(user, req.query);
      if (fn === 'parse_zone') return answer(withLines(z, zone));
      if (fn === 'parse_dns_zone') return answer({ payload: withLines(z, zone) });
      return answer(massEdit(z, zone, req.query));
    } catch (err) {
      if (err instanceof Refusal) return answer(undefined, err.message);
      throw err;
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    baseUrl: server.origin,
    requests: server.requests,
    async values(fqdn) {
      const name = nameKey(fqdn);
      const out: string[] = [];
      for (const [z, zone] of zones)
        for (const e of zone.entries)
          if (e.kind === 'record' && e.recordType === 'TXT' && absolute(e.dname!, z) === name)
            out.push(e.data!.join(''));
      return out;
    },
    serial: (zone) => zones.get(nameKey(zone))!.serial,
    addElsewhere(zone, name, value) {
      const z = zones.get(nameKey(zone))!;
      z.entries.push({ kind: 'record', dname: name, recordType: 'TXT', ttl: 14400, data: [value], lines: 1 });
      z.serial += 1;
    },
    failNext: server.failNext,
    close: server.close,
  };
}
