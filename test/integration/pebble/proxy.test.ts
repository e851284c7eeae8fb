import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import { freePort } from '../../support/free-port.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

/** A minimal CONNECT proxy on loopback that records the targets it tunnels to. */
async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; server: Server }> {
  const tunnels: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, socket, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, tunnels, server };
}

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

test('requests to the CA go through an explicit CONNECT proxy, with TLS still verified end to end', async () => {
  const proxy = await startConnectProxy();
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle, proxy: proxy.url });
  try {
    const account = await client.createAccount({ acceptTos: true });
    const result = await obtainCertificate(account, {
      names: ['proxied.example.com'],
      solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
    });
    assert.match(result.chain, /BEGIN CERTIFICATE/);
    assert.ok(proxy.tunnels.length > 0);
    assert.ok(proxy.tunnels.every((t) => t === new URL(pebble.directoryUrl).host));
  } finally {
    client.close();
    proxy.server.close();
  }
});

test('HTTPS_PROXY from the environment is used, and NO_PROXY bypasses it', async () => {
  const proxy = await startConnectProxy();
  process.env.HTTPS_PROXY = proxy.url;
  try {
    const viaEnv = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
    await viaEnv.directory();
    viaEnv.close();
    assert.equal(proxy.tunnels.length, 1);
    process.env.NO_PROXY = '127.0.0.1';
    const bypass = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
    await bypass.directory();
    bypass.close();
    assert.equal(proxy.tunnels.length, 1, 'NO_PROXY host went direct');
  } finally {
    delete process.env.HTTPS_PROXY;
    delete process.env.NO_PROXY;
    proxy.server.close();
  }
});

test('a proxy whose TLS tunnel leads to a server without the trusted root fails verification', async () => {
  const proxy = await startConnectProxy();
  const client = new AcmeClient(pebble.directoryUrl, { proxy: proxy.url, retry: { attempts: 1 } });
  try {
    await assert.rejects(client.directory(), /not trusted .*CA bundle/);
  } finally {
    client.close();
    proxy.server.close();
  }
});
