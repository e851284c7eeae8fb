import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDynuOptions {
  readonly ca: TestCa;
  /** Domains of the account: "example.test". */
  readonly domains: readonly string[];
  readonly apiKeys: readonly string[];
}

export interface FakeDynu {
  /** For DYNU_API_URL: https://127.0.0.1:<port>/v2 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface StoredRecord {
  readonly id: number;
  readonly domainId: number;
  /** Relative to the domain, lower case; "" at the apex. */
  readonly nodeName: string;
  readonly recordType: string;
  readonly textData: string;
  readonly ttl: number;
  readonly state: boolean;
}

const exception = (statusCode: number, type: string, message: string): FakeReply => ({
  status: statusCode,
  json: { statusCode, type, message },
});

/**
 * A fake of the Dynu API v2 DNS endpoints as Dynu documents them: the API-Key header, GET
 * /dns/getroot/{hostname} (the domain id and the node under it), GET /dns/record/{hostname}?recordType,
 * POST /dns/{domainId}/record with nodeName / recordType / textData / ttl / state, DELETE
 * /dns/{domainId}/record/{id}, a statusCode in every answer and errors as {statusCode, type, message}.
 */
export async function startFakeDynu(o: FakeDynuOptions): Promise<FakeDynu> {
  const domains = new Map(o.domains.map((d, i) => [9000 + i, nameKey(d)]));
  const records = new Map<number, StoredRecord>();
  let nextId = 600000;

  const hostOf = (r: StoredRecord) => {
    const domain = domains.get(r.domainId)!;
    return r.nodeName === '' ? domain : `${r.nodeName}.${domain}`;
  };
  /** The domain a host name falls under (the longest match) and the node under it. */
  const rootOf = (host: string) => {
    const found = [...domains]
      .filter(([, d]) => host === d || host.endsWith(`.${d}`))
      .sort((a, b) => b[1].length - a[1].length)[0];
    return (
      found && {
        id: found[0],
        domainName: found[1],
        node: host === found[1] ? '' : host.slice(0, -(found[1].length + 1)),
      }
    );
  };
  const json = (r: StoredRecord) => ({
    id: r.id,
    domainId: r.domainId,
    domainName: domains.get(r.domainId),
    nodeName: r.nodeName,
    hostname: hostOf(r),
    recordType: r.recordType,
    ttl: r.ttl,
    state: r.state,
    content: `${hostOf(r)}. ${r.ttl} IN TXT "${r.textData}"`,
    updatedOn: new Date().toISOString().slice(0, 23),
    textData: r.textData,
  });

  function handle(req: RecordedRequest): FakeReply {
    const key = req.headers['api-key'];
    if (typeof key !== 'string' || !o.apiKeys.includes(key))
      return exception(401, 'Authentication Exception', 'Invalid API credentials.');

    const byHost = /^\/v2\/dns\/(getroot|record)\/([^/]+)$/.exec(req.path);
    if (byHost && req.method === 'GET') {
      const host = decodeURIComponent(byHost[2]!);
      if (host !== host.toLowerCase() || host.endsWith('.') || !/^[a-z0-9._-]+$/.test(host))
        return exception(501, 'Argument Exception', 'Invalid.');
      const root = rootOf(host);
      if (!root) return exception(404, 'Not Found Exception', 'Domain not found.');
      if (byHost[1] === 'getroot') return { status: 200, json: { statusCode: 200, ...root, hostname: host } };
      const type = req.query.get('recordType');
      const found = [...records.values()].filter(
        (r) => hostOf(r) === host && (type === null || r.recordType === type),
      );
      return { status: 200, json: { statusCode: 200, dnsRecords: found.map(json) } };
    }

    const byDomain = /^\/v2\/dns\/(\d+)\/record(?:\/(\d+))?$/.exec(req.path);
    if (!byDomain) return exception(404, 'Not Found Exception', 'Not found.');
    const domainId = Number(byDomain[1]);
    if (!domains.has(domainId)) return exception(404, 'Not Found Exception', 'Domain not found.');
    if (req.method === 'POST' && byDomain[2] === undefined) {
      if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? '')))
        return exception(415, 'Argument Exception', 'Unsupported media type.');
      const b = jsonBody(req);
      if (!b) return exception(400, 'Argument Exception', 'Invalid request body.');
      if (
        typeof b.nodeName !== 'string' ||
        b.nodeName.endsWith('.') ||
        b.nodeName.includes(domains.get(domainId)!)
      )
        return exception(501, 'Argument Exception', 'Invalid node name.');
      if (b.recordType !== 'TXT')
        return exception(501, 'Argument Exception', 'This fake stores TXT records only.');
      if (typeof b.textData !== 'string' || b.textData === '')
        return exception(501, 'Argument Exception', 'Text data is required.');
      if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || (b.ttl as number) < 1))
        return exception(501, 'Argument Exception', 'Invalid TTL.');
      const stored: StoredRecord = {
        id: nextId++,
        domainId,
        nodeName: b.nodeName.toLowerCase(),
        recordType: 'TXT',
        textData: b.textData,
        ttl: typeof b.ttl === 'number' ? b.ttl : 120,
        state: b.state !== false,
      };
      records.set(stored.id, stored);
      return { status: 200, json: { statusCode: 200, ...json(stored) } };
    }
    if (req.method === 'DELETE' && byDomain[2] !== undefined) {
      const r = records.get(Number(byDomain[2]));
      if (!r || r.domainId !== domainId) return exception(404, 'Not Found Exception', 'Record not found.');
      records.delete(r.id);
      return { status: 200, json: { statusCode: 200 } };
    }
    return exception(405, 'Argument Exception', 'Method not allowed.');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/v2`,
    requests: server.requests,
    values: async (fqdn) =>
      [...records.values()]
        .filter((r) => r.recordType === 'TXT' && hostOf(r) === nameKey(fqdn))
        .map((r) => r.textData),
    failNext: server.failNext,
    close: server.close,
  };
}
