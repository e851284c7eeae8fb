import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { AcmeClient } from '../../../src/acme/client.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { HttpTransport } from '../../../src/protocol/transport.ts';
import { createTestCa, type TestCa } from '../../support/test-ca.ts';

// NODE_TLS_REJECT_UNAUTHORIZED=0 flips Node's default for every TLS connection in the process that does
// not set rejectUnauthorized itself. acmekit's connections set it, so a server whose certificate the
// configured bundle does not vouch for is still refused. Set for this test file's process only.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let served: TestCa; // signs the server's certificate
let unrelated: TestCa; // a different root, given as the bundle
let server: ReturnType<typeof createHttpsServer>;
let url: string;
let proxy: { url: string; server: Server };
const requests: string[] = [];

before(async () => {
  [served, unrelated] = await Promise.all([createTestCa(), createTestCa()]);
  server = createHttpsServer(
    { cert: await readFile(served.certPath), key: await readFile(served.keyPath) },
    (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tunnel = createHttpServer((_req, res) => res.writeHead(405).end());
  tunnel.on('connect', (req, socket, head) => {
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => tunnel.listen(0, '127.0.0.1', resolve));
  proxy = { url: `http://127.0.0.1:${(tunnel.address() as AddressInfo).port}`, server: tunnel };
});
after(async () => {
  server?.close();
  server?.closeAllConnections();
  proxy?.server.close();
  await Promise.all([served, unrelated].map((ca) => ca && rm(ca.dir, { recursive: true, force: true })));
});

const NOT_TRUSTED = /not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/;

test('the transport refuses a server the CA bundle does not vouch for, NODE_TLS_REJECT_UNAUTHORIZED=0 or not', async () => {
  const before = requests.length;
  for (const opts of [
    { caBundle: unrelated.rootPem },
    {}, // Node's bundled roots
    { caBundle: unrelated.rootPem, proxy: proxy.url }, // TLS inside a CONNECT tunnel
  ]) {
    const t = new HttpTransport(opts);
    try {
      await assert.rejects(t.request('GET', `${url}/dir`), (err: Error) => {
        assert.match(err.message, NOT_TRUSTED, JSON.stringify(opts));
        return true;
      });
    } finally {
      t.close();
    }
  }
  assert.equal(requests.length, before, 'no request reached the server');
  // The right bundle still works, so the refusals above are about trust, not about the server.
  const good = new HttpTransport({ caBundle: served.rootPem });
  try {
    assert.equal((await good.request('GET', `${url}/dir`)).status, 200);
  } finally {
    good.close();
  }
});

test('AcmeClient and a DNS provider client stay verified, and the logger is warned once', async () => {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_obj, msg) => warnings.push(msg ?? ''),
    error: () => {},
  };
  const before = requests.length;
  const client = new AcmeClient(`${url}/dir`, {
    caBundle: unrelated.rootPem,
    logger,
    retry: { attempts: 1 },
  });
  const second = new AcmeClient(`${url}/dir`, { caBundle: unrelated.rootPem, logger });
  try {
    await assert.rejects(client.directory(), NOT_TRUSTED);
  } finally {
    client.close();
    second.close();
  }
  const dns = await createDnsProvider('httpreq', {
    env: { HTTPREQ_ENDPOINT: url },
    caBundle: unrelated.rootPem,
    logger,
  });
  const fqdn = '_acme-challenge.a.example.test.';
  await assert.rejects(
    dns.provider.present(
      { fqdn, zone: 'example.test.', name: '_acme-challenge.a', value: 'v', ttl: 60 },
      AbortSignal.timeout(10_000),
    ),
    NOT_TRUSTED,
  );
  assert.equal(requests.length, before, 'no request reached the server');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(
    warnings[0]!,
    /NODE_TLS_REJECT_UNAUTHORIZED=0 .*acmekit ignores it and still verifies the TLS certificate/,
  );
});
