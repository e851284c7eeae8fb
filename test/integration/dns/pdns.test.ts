import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { EnvSource } from '../../../src/dns/env.ts';
import type { DnsProvider } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import {
  canary,
  failure,
  instantClock,
  keptLogs,
  live,
  recordMaker,
  sameName,
} from '../../support/dns-rest-harness.ts';
import { type PdnsServer, pdnsInstalled, startPdns } from '../../support/pdns.ts';

// The PowerDNS provider against a real pdns_server (Debian's pdns-server with the sqlite3 backend): the
// records are read back over DNS from the server itself. A small HTTP proxy in front of its API records
// what acmekit sends and injects outages.

const ZONE = 'example.test.';
const PRIMARY = 'primary.test.';
const KEY = canary('pdns-key');
const WRONG = canary('pdns-wrong');
const CANARIES = [KEY, WRONG];
const skip = pdnsInstalled() ? false : 'pdns_server or sqlite3 is not installed (scripts/setup.sh)';

let pdns: PdnsServer;
let proxy: Proxy;
const logs = keptLogs();
const record = recordMaker(ZONE);

before(async () => {
  if (skip) return;
  pdns = await startPdns({ zones: [ZONE, PRIMARY], primaryZones: [PRIMARY], apiKey: KEY });
  proxy = await startProxy(pdns.apiUrl);
});
after(async () => {
  await proxy?.close();
  await pdns?.stop();
});

async function provider(env: EnvSource = {}): Promise<DnsProvider> {
  const loaded = await createDnsProvider('pdns', {
    env: { PDNS_API_URL: proxy.url, PDNS_API_KEY: KEY, ...env },
    logger: logs.logger,
    clock: instantClock,
  });
  return loaded.provider;
}

if (!skip) {
  dnsProviderContract({
    name: 'pdns (real pdns_server)',
    zone: ZONE,
    create: () => provider(),
    createWithBadCredentials: () => provider({ PDNS_API_KEY: WRONG }),
    values: (fqdn) => pdns.txt(fqdn),
    canaries: CANARIES,
    logs: () => logs.text(),
  });
}

test('pdns: X-API-Key, the zone by its id, a PATCH that REPLACEs the RRset with every value', {
  skip,
}, async () => {
  const p = await provider();
  const a = record('shape');
  const b = sameName(a);
  const from = proxy.seen.length;
  await p.present(a, live());
  await p.present(b, live());
  const sent = proxy.seen.slice(from);
  for (const q of sent) assert.equal(q.headers['x-api-key'], KEY);
  assert.equal(sent[0]?.method, 'GET');
  assert.match(sent[0]!.path, /^\/api\/v1\/servers\/localhost\/zones\/example\.test\.\?rrsets=false$/);
  const patches = sent.filter((q) => q.method === 'PATCH');
  assert.equal(patches.length, 2);
  assert.equal(patches[1]?.path, '/api/v1/servers/localhost/zones/example.test.');
  assert.equal(patches[1]?.headers['content-type'], 'application/json');
  const body = JSON.parse(patches[1]!.body) as { rrsets: Record<string, unknown>[] };
  assert.deepEqual(body.rrsets[0], {
    name: a.fqdn,
    type: 'TXT',
    ttl: 60,
    changetype: 'REPLACE',
    records: [
      { content: `"${a.value}"`, disabled: false },
      { content: `"${b.value}"`, disabled: false },
    ],
  });
  assert.deepEqual((await pdns.txt(a.fqdn)).sort(), [a.value, b.value].sort());
  // The last value out DELETEs the RRset; no NOTIFY for a Native zone.
  await p.cleanup(a, live());
  await p.cleanup(b, live());
  const deletes = proxy.seen
    .slice(from)
    .filter((q) => q.method === 'PATCH')
    .map((q) => JSON.parse(q.body));
  assert.deepEqual(deletes.at(-1), { rrsets: [{ name: a.fqdn, type: 'TXT', changetype: 'DELETE' }] });
  assert.ok(!proxy.seen.slice(from).some((q) => q.path.endsWith('/notify')));
  assert.deepEqual(await pdns.txt(a.fqdn), []);
});

test('pdns: other records at the name keep their disabled flag; the apex works', { skip }, async () => {
  const r = record(null);
  // A disabled value someone else put there.
  const put = await pdns.api('PATCH', `/zones/${ZONE}`, {
    rrsets: [
      {
        name: ZONE,
        type: 'TXT',
        ttl: 300,
        changetype: 'REPLACE',
        records: [{ content: '"v=spf1 -all"', disabled: true }],
      },
    ],
  });
  assert.equal(put.status, 204);
  const p = await provider();
  await p.present(r, live());
  assert.deepEqual(await pdns.txt(ZONE), [r.value]);
  await p.cleanup(r, live());
  const zone = (await pdns.api('GET', `/zones/${ZONE}`)).json as {
    rrsets: { name: string; type: string; records: unknown[] }[];
  };
  const apex = zone.rrsets.find((s) => s.name === ZONE && s.type === 'TXT');
  assert.deepEqual(apex?.records, [{ content: '"v=spf1 -all"', disabled: true }]);
});

test('pdns: two values written at once at one name both land (one writer per name)', { skip }, async () => {
  const p = await provider();
  const a = record('together');
  const b = sameName(a);
  await Promise.all([p.present(a, live()), p.present(b, live())]);
  assert.deepEqual((await pdns.txt(a.fqdn)).sort(), [a.value, b.value].sort());
  await Promise.all([p.cleanup(a, live()), p.cleanup(b, live())]);
  assert.deepEqual(await pdns.txt(a.fqdn), []);
});

test('pdns: a Master zone is sent a NOTIFY after each change', { skip }, async () => {
  const p = await provider();
  const r = record('notify', PRIMARY);
  const from = proxy.seen.length;
  await p.present(r, live());
  await p.cleanup(r, live());
  const notifies = proxy.seen.slice(from).filter((q) => q.method === 'PUT');
  assert.deepEqual(
    notifies.map((q) => [q.path, q.status]),
    [
      ['/api/v1/servers/localhost/zones/primary.test./notify', 200],
      ['/api/v1/servers/localhost/zones/primary.test./notify', 200],
    ],
  );
});

test('pdns: a wrong key, an unknown zone and an unknown server give actionable errors', {
  skip,
}, async () => {
  const wrong = await failure((await provider({ PDNS_API_KEY: WRONG })).present(record(), live()), CANARIES);
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /^pdns: present: credentials refused .*Unauthorized.*check PDNS_API_KEY/);
  const missing = await failure((await provider()).present(record('x', 'nothere.test.'), live()), CANARIES);
  assert.match(missing.message, /zone nothere\.test is not on the PowerDNS server at PDNS_API_URL/);
  const server = await failure(
    (await provider({ PDNS_SERVER_NAME: 'other' })).present(record(), live()),
    CANARIES,
  );
  assert.match(server.message, /check PDNS_SERVER_NAME/);
});

test('pdns: 5xx answers are retried, then reported with what to do', { skip }, async () => {
  const p = await provider();
  const r = record();
  proxy.failNext(2);
  await p.present(r, live());
  assert.deepEqual(await pdns.txt(r.fqdn), [r.value], 'succeeded after two 503s');
  await p.cleanup(r, live());
  proxy.failNext(4);
  const err = await failure(p.present(record(), live()), CANARIES);
  assert.equal(err.status, 503);
  assert.match(err.message, /PowerDNS API error while trying to .*try again in a few minutes/);
});

test('pdns: PDNS_API_URL is required and PDNS_API_VERSION other than 1 is refused', { skip }, async () => {
  await assert.rejects(
    createDnsProvider('pdns', { env: { PDNS_API_KEY: 'k' } }),
    (e: unknown) => e instanceof InvalidInputError && /PDNS_API_URL is not set/.test(e.message),
  );
  await assert.rejects(
    createDnsProvider('pdns', {
      env: { PDNS_API_URL: 'http://x', PDNS_API_KEY: 'k', PDNS_API_VERSION: '2' },
    }),
    (e: unknown) => e instanceof InvalidInputError && /speaks the PowerDNS API v1/.test(e.message),
  );
  await createDnsProvider('pdns', {
    env: { PDNS_API_URL: 'http://x/', PDNS_API_KEY: 'k', PDNS_API_VERSION: '1' },
  });
});

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  status: number;
}

interface Proxy {
  readonly url: string;
  readonly seen: Seen[];
  /** The next `times` requests are answered 503 by the proxy instead of reaching pdns. */
  failNext(times: number): void;
  close(): Promise<void>;
}

/** A plain HTTP proxy to pdns's webserver that records every request and can stand in for an outage. */
async function startProxy(target: string): Promise<Proxy> {
  const seen: Seen[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry: Seen = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: body.toString('utf8'),
        status: 0,
      };
      seen.push(entry);
      if (failures > 0) {
        failures--;
        entry.status = 503;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      const up = request(
        `${target}${entry.path}`,
        { method: entry.method, headers: { ...req.headers, host: new URL(target).host } },
        (answer) => {
          entry.status = answer.statusCode ?? 0;
          res.writeHead(entry.status, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    failNext: (times) => {
      failures += times;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
