import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeCloudnsOptions {
  readonly ca: TestCa;
  /** Zones of the account: "example.test". */
  readonly zones: readonly string[];
  /** API users: auth-id (or sub-auth-id when `sub`) → password. */
  readonly users: readonly { readonly id: string; readonly password: string; readonly sub?: boolean }[];
}

export interface FakeCloudns {
  /** For CLOUDNS_API_URL: https://127.0.0.1:<port>/dns */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** The parameters of a request, from its query and its form body, as the API reads them. */
  params(req: RecordedRequest): URLSearchParams;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly zone: string;
  /** Relative, lower case; "" at the apex. */
  readonly host: string;
  readonly type: string;
  readonly record: string;
  readonly ttl: number;
}

const TTLS = [60, 300, 900, 1800, 3600, 21600, 43200, 86400, 172800, 259200, 604800, 1209600, 2592000];
const failed = (statusDescription: string): FakeReply => ({
  status: 200,
  json: { status: 'Failed', statusDescription },
});

/**
 * A fake of the ClouDNS HTTP API's DNS calls as ClouDNS documents them: parameters in the query string
 * or a POST form, auth-id or sub-auth-id with auth-password on every call, errors as HTTP 200 with
 * {"status": "Failed", "statusDescription"}, get-zone-info.json, records.json (an object keyed by record
 * id, or [] when there is none; host and type filters), add-record.json (relative host, "" at the apex;
 * TTL one of the documented values) and delete-record.json by record-id.
 */
export async function startFakeCloudns(o: FakeCloudnsOptions): Promise<FakeCloudns> {
  const zones = new Set(o.zones.map(nameKey));
  const records = new Map<number, StoredRecord>();
  let nextId = 500;

  function params(req: RecordedRequest): URLSearchParams {
    const all = new URLSearchParams(req.query);
    if (
      req.method === 'POST' &&
      /^application\/x-www-form-urlencoded\b/.test(String(req.headers['content-type'] ?? ''))
    ) {
      for (const [k, v] of new URLSearchParams(req.body)) all.append(k, v);
    }
    return all;
  }
  const json = (r: StoredRecord) => ({
    id: String(r.id),
    type: r.type,
    host: r.host,
    record: r.record,
    dynamicurl_status: 0,
    failover: '0',
    ttl: String(r.ttl),
    status: 1,
  });

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    const p = params(req);
    const authId = p.get('auth-id');
    const subAuthId = p.get('sub-auth-id');
    const user = o.users.find((u) => (u.sub ? subAuthId === u.id && authId === null : authId === u.id));
    if (!user || p.get('auth-password') !== user.password)
      return failed('Invalid authentication, incorrect auth-id or auth-password.');
    const endpoint = /^\/dns\/([a-z-]+\.json)$/.exec(req.path)?.[1];
    if (!endpoint) return { status: 404, text: 'Not Found' };
    const zone = p.get('domain-name')?.toLowerCase();
    if (!zone) return failed('Missing domain-name');
    if (!zones.has(zone)) return failed('The zone does not exist in your account.');

    switch (endpoint) {
      case 'get-zone-info.json':
        return { status: 200, json: { name: zone, type: 'master', zone: 'domain', status: '1' } };
      case 'records.json': {
        const host = p.get('host');
        const type = p.get('type');
        const found = [...records.values()].filter(
          (r) =>
            r.zone === zone &&
            (host === null || r.host === host.toLowerCase()) &&
            (type === null || r.type === type),
        );
        if (found.length === 0) return { status: 200, json: [] };
        return { status: 200, json: Object.fromEntries(found.map((r) => [String(r.id), json(r)])) };
      }
      case 'add-record.json': {
        if (req.method !== 'POST') return failed('This call must be a POST request.');
        const type = p.get('record-type');
        const host = p.get('host');
        const value = p.get('record');
        const ttl = Number(p.get('ttl'));
        if (type !== 'TXT') return failed('Invalid record-type param.');
        if (host === null || host.endsWith('.') || host.endsWith(zone)) return failed('Invalid host param.');
        if (!value) return failed('Missing record param.');
        if (!TTLS.includes(ttl)) return failed('Invalid TTL. Choose from the list of the values we support.');
        const stored: StoredRecord = {
          id: nextId++,
          zone,
          host: host.toLowerCase(),
          type,
          record: value,
          ttl,
        };
        records.set(stored.id, stored);
        return {
          status: 200,
          json: {
            status: 'Success',
            statusDescription: 'The record was added successfully.',
            data: { id: stored.id },
          },
        };
      }
      case 'delete-record.json': {
        if (req.method !== 'POST') return failed('This call must be a POST request.');
        const r = records.get(Number(p.get('record-id')));
        if (!r || r.zone !== zone) return failed('Invalid record-id param.');
        records.delete(r.id);
        return {
          status: 200,
          json: { status: 'Success', statusDescription: 'The record was deleted successfully.' },
        };
      }
      default:
        return failed('Unknown API call.');
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/dns`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.type === 'TXT' && (r.host === '' ? r.zone : `${r.host}.${r.zone}`) === nameKey(fqdn))
        .map((r) => r.record),
    params,
    failNext: server.failNext,
    close: server.close,
  };
}
