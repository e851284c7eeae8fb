import { randomBytes } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNetcupOptions {
  readonly ca: TestCa;
  readonly customers: Readonly<
    Record<
      string,
      { readonly apiKey: string; readonly apiPassword: string; readonly zones: readonly string[] }
    >
  >;
  /** Records already in a zone (zone → records), to see that other records survive. */
  readonly seed?: Readonly<
    Record<string, readonly { hostname: string; type: string; destination: string }[]>
  >;
}

export interface FakeNetcupRecord {
  readonly id: string;
  readonly zone: string;
  readonly hostname: string;
  readonly type: string;
  readonly priority: string;
  readonly destination: string;
}

export interface FakeNetcup {
  /** For NETCUP_API_URL: https://127.0.0.1:<port>/run/webservice/servers/endpoint.php?JSON */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** The parsed action of each request, in order. */
  actions(): string[];
  /** Ends every open session (as netcup does after 15 idle minutes). */
  expireSessions(): void;
  records(zone: string): FakeNetcupRecord[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const PATH = '/run/webservice/servers/endpoint.php';

/**
 * A fake of the netcup CCP API's JSON endpoint as netcup documents it: POST only, `?JSON` on the URL, a
 * body {action, param}, and every answer HTTP 200 with {serverrequestid, clientrequestid, action, status,
 * statuscode, shortmessage, longmessage, responsedata}. `login` checks customer number, API key and API
 * password and opens a session; every other action needs customernumber, apikey and a live apisessionid
 * of that customer (4001 otherwise). infoDnsRecords answers 5029 for a zone without records;
 * updateDnsRecords adds records without id, deletes those with id and deleterecord (their fields must
 * match), changes nothing else, and answers with the zone's records; a zone not of the customer is 5028.
 */
export async function startFakeNetcup(o: FakeNetcupOptions): Promise<FakeNetcup> {
  const sessions = new Map<string, string>();
  const zones = new Map<string, FakeNetcupRecord[]>();
  let nextId = 1000;
  for (const c of Object.values(o.customers)) for (const z of c.zones) zones.set(nameKey(z), []);
  for (const [zone, list] of Object.entries(o.seed ?? {}))
    for (const r of list)
      zones.get(nameKey(zone))?.push({ id: String(nextId++), zone: nameKey(zone), priority: '0', ...r });

  const answer = (
    act: string,
    status: 'success' | 'error',
    statuscode: number,
    shortmessage: string,
    longmessage: string,
    responsedata: unknown = '',
  ): FakeReply => ({
    status: 200,
    json: {
      serverrequestid: randomBytes(8).toString('hex'),
      clientrequestid: '',
      action: act,
      status,
      statuscode,
      shortmessage,
      longmessage,
      responsedata,
    },
  });
  const listing = (zone: string) =>
    (zones.get(zone) ?? []).map((r) => ({
      id: r.id,
      hostname: r.hostname,
      type: r.type,
      priority: r.priority,
      destination: r.destination,
      deleterecord: false,
      state: 'yes',
    }));

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST' || req.path !== PATH || !req.query.has('JSON'))
      return { status: 404, text: 'Not Found' };
    const body = jsonBody(req);
    const act = typeof body?.action === 'string' ? body.action : '';
    const param = (body?.param ?? {}) as Record<string, unknown>;
    if (!body || typeof body.param !== 'object')
      return answer(
        act,
        'error',
        4013,
        'Validation Error.',
        'The request is not valid JSON of the form {action, param}.',
      );
    const customer = typeof param.customernumber === 'string' ? o.customers[param.customernumber] : undefined;

    if (act === 'login') {
      if (!customer || param.apikey !== customer.apiKey || param.apipassword !== customer.apiPassword)
        return answer(
          act,
          'error',
          4013,
          'Validation Error.',
          'The login was not successful: check customer number, API key and API password.',
        );
      const id = randomBytes(18).toString('base64url');
      sessions.set(id, String(param.customernumber));
      return answer(act, 'success', 2000, 'Login successful', 'Session has been created successful.', {
        apisessionid: id,
      });
    }
    if (
      !customer ||
      param.apikey !== customer.apiKey ||
      typeof param.apisessionid !== 'string' ||
      sessions.get(param.apisessionid) !== param.customernumber
    )
      return answer(
        act,
        'error',
        4001,
        'Api session id in invalid format',
        'The session id is not in a valid format or the session has expired.',
      );
    const zone = typeof param.domainname === 'string' ? nameKey(param.domainname) : '';
    const own = customer.zones.map(nameKey).includes(zone);

    if (act === 'infoDnsRecords') {
      if (!own)
        return answer(
          act,
          'error',
          5029,
          'Can not get DNS records for zone.',
          `The zone ${zone} could not be found.`,
        );
      const list = listing(zone);
      if (list.length === 0)
        return answer(
          act,
          'error',
          5029,
          'Can not get DNS records for zone.',
          `The zone ${zone} does not contain any DNS records.`,
        );
      return answer(act, 'success', 2000, 'DNS records found', 'DNS Records for this zone were found.', {
        dnsrecords: list,
      });
    }
    if (act === 'updateDnsRecords') {
      if (!own)
        return answer(
          act,
          'error',
          5028,
          'Update of DNS records failed',
          `Can not update (all) DNS records for zone. The zone ${zone} could not be found.`,
        );
      const set = (param.dnsrecordset as { dnsrecords?: unknown } | undefined)?.dnsrecords;
      if (!Array.isArray(set) || set.length === 0)
        return answer(
          act,
          'error',
          4013,
          'Validation Error.',
          'dnsrecordset.dnsrecords must be a non-empty list.',
        );
      const stored = zones.get(zone)!;
      // Validate everything first: netcup changes nothing when one record is wrong.
      for (const r of set as Record<string, unknown>[]) {
        if (typeof r.hostname !== 'string' || r.hostname === '' || /\.$/.test(r.hostname))
          return answer(
            act,
            'error',
            4013,
            'Validation Error.',
            'The host must not be empty or consist of special characters.',
          );
        if (typeof r.type !== 'string' || typeof r.destination !== 'string' || r.destination === '')
          return answer(act, 'error', 4013, 'Validation Error.', 'type and destination are required.');
        if (r.id !== undefined) {
          const found = stored.find((s) => s.id === r.id);
          if (!found)
            return answer(
              act,
              'error',
              5028,
              'Update of DNS records failed',
              `The record ${String(r.id)} does not exist.`,
            );
          if (r.deleterecord === true && (found.type !== r.type || found.destination !== r.destination))
            return answer(
              act,
              'error',
              4013,
              'Validation Error.',
              'The record to delete does not match the stored record.',
            );
        }
      }
      for (const r of set as Record<string, unknown>[]) {
        if (r.id === undefined) {
          stored.push({
            id: String(nextId++),
            zone,
            hostname: String(r.hostname).toLowerCase(),
            type: String(r.type),
            priority: String(r.priority || '0'),
            destination: String(r.destination),
          });
        } else if (r.deleterecord === true) {
          stored.splice(
            stored.findIndex((s) => s.id === r.id),
            1,
          );
        }
      }
      return answer(
        act,
        'success',
        2000,
        'DNS records successful updated',
        'The given DNS records for this zone were updated.',
        {
          dnsrecords: listing(zone),
        },
      );
    }
    if (act === 'logout') {
      sessions.delete(String(param.apisessionid));
      return answer(act, 'success', 2000, 'Logout successful', 'Session has been terminated successful.');
    }
    return answer(act, 'error', 4013, 'Validation Error.', `Unknown action ${act}.`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const fqdnOf = (r: FakeNetcupRecord) => (r.hostname === '@' ? r.zone : `${r.hostname}.${r.zone}`);
  return {
    apiUrl: `${server.origin}${PATH}?JSON`,
    requests: server.requests,
    actions: () => server.requests.map((r) => String(jsonBody(r)?.action)),
    expireSessions: () => sessions.clear(),
    records: (zone) => [...(zones.get(nameKey(zone)) ?? [])],
    values: async (fqdn) =>
      [...zones.values()]
        .flat()
        .filter((r) => r.type === 'TXT' && fqdnOf(r) === nameKey(fqdn))
        .map((r) => r.destination),
    failNext: server.failNext,
    close: server.close,
  };
}
