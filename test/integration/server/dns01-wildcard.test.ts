import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { autoHttps } from '../../../src/server/index.ts';
import { Dns01Solver } from '../../../src/solvers/dns01.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { type BindServer, startBind } from '../../support/bind.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, handshake, listen, peek, requestOn } from './support.ts';

// A wildcard through autoHttps: BIND 9 is authoritative for example.test and takes the TXT records by
// RFC 2136 UPDATE; Pebble validates dns-01 against it.
const SECRET = randomBytes(32).toString('base64');
let bind: BindServer;
let pebble: PebbleServer;
let roots: string[];

before(async () => {
  bind = await startBind({ keys: [{ name: 'acme-key.', secret: SECRET }] });
  pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, authzReuse: 0 });
  roots = await pebble.roots();
});
after(async () => {
  await pebble?.stop();
  await bind?.stop();
});

test('example.test + *.example.test by dns-01 (rfc2136 on BIND): any one-label name gets the wildcard, chained to Pebble', async () => {
  const provider = await createDnsProvider('rfc2136', {
    env: {
      RFC2136_NAMESERVER: `${bind.host}:${bind.port}`,
      RFC2136_TSIG_KEY: 'acme-key.',
      RFC2136_TSIG_SECRET: SECRET,
      RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
    },
  });
  const tls = await autoHttps({
    certificates: [['example.test', '*.example.test']],
    dns01: new Dns01Solver({
      provider,
      resolvers: [`${bind.host}:${bind.port}`],
      propagation: { intervalMs: 100, timeoutMs: 10_000 },
    }),
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
    store: new MemoryStore(),
  });
  const server = createHttpsServer(tls.serverOptions, (req, res) => res.end(`hello ${req.headers.host}`));
  const port = await listen(server);
  try {
    await tls.ready({ signal: AbortSignal.timeout(25_000) });
    const serial = tls.status().certificates[0]!.serial;

    const h = await handshake(port, { servername: 'anything.example.test', ca: roots });
    assert.equal(h.authorized, true, h.authorizationError);
    assert.equal(h.serial, serial);
    assert.match(h.cert.subjectaltname ?? '', /DNS:\*\.example\.test/);
    assert.match(await requestOn(h.socket, 'anything.example.test'), /hello anything\.example\.test/);
    h.socket.destroy();

    const apex = await peek(port, { servername: 'example.test', ca: roots });
    assert.equal(apex.authorized, true, apex.authorizationError);
    assert.equal(apex.serial, serial);
    // The wildcard covers one label only: a deeper name does not verify against it.
    const deep = await peek(port, { servername: 'a.b.example.test', ca: roots });
    assert.equal(deep.authorized, false);
    assert.deepEqual(await bind.txt('_acme-challenge.example.test.'), [], 'the TXT records are gone');
  } finally {
    await tls.close();
    await closeServer(server);
  }
});
