import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { expressServers } from '../../../examples/frameworks/express.ts';
import { fastifyServers } from '../../../examples/frameworks/fastify.ts';
import { honoServers } from '../../../examples/frameworks/hono.ts';
import { koaServers } from '../../../examples/frameworks/koa.ts';
import { type AutoHttps, autoHttps } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { closeServer, listen } from './support.ts';

const PREFIX = '/.well-known/acme-challenge/';
const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono'] as const;

let pebble: PebbleServer;
let roots: string[];
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  roots = await pebble.roots();
});
after(() => pebble?.stop());

interface Answer {
  path: string;
  status: number;
  body: string;
}

/** Notes what port 80 sent back for challenge paths, before the framework sees the request. */
function recordChallenges(server: http.Server, answers: Answer[]): void {
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!req.url?.startsWith(PREFIX)) return;
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    res.end = ((...args: unknown[]) => {
      const chunk = args[0];
      const body =
        typeof chunk === 'string' || chunk instanceof Uint8Array ? Buffer.from(chunk).toString() : '';
      answers.push({ path: req.url!, status: res.statusCode, body });
      return end(...args);
    }) as typeof res.end;
  });
}

interface Running {
  httpsPort: number;
  close(): Promise<void>;
}

/** Starts a framework's example on loopback: port 80 on Pebble's http-01 port, https on a free one. */
async function start(
  framework: (typeof FRAMEWORKS)[number],
  tls: AutoHttps,
  answers: Answer[],
): Promise<Running> {
  if (framework === 'fastify') {
    const { app, port80 } = fastifyServers(tls);
    recordChallenges(port80.server, answers);
    await app.listen({ port: 0, host: '127.0.0.1' });
    await port80.listen({ port: pebble.httpPort, host: '127.0.0.1' });
    return {
      httpsPort: (app.server.address() as AddressInfo).port,
      close: async () => {
        await Promise.all([app.close(), port80.close()]);
      },
    };
  }
  const make = { express: expressServers, koa: koaServers, hono: honoServers }[framework];
  const { secure, plain } = make(tls);
  recordChallenges(plain, answers);
  const httpsPort = await listen(secure);
  await listen(plain, pebble.httpPort);
  return {
    httpsPort,
    close: async () => void (await Promise.all([closeServer(secure), closeServer(plain)])),
  };
}

function get(
  url: string,
  opts: { host: string; servername?: string; ca?: string[] },
): Promise<{ status: number; location: string | undefined; body: string }> {
  const { request } = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        headers: { host: opts.host, connection: 'close' },
        ...(opts.servername ? { servername: opts.servername } : {}),
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

for (const framework of FRAMEWORKS) {
  test(`${framework}: the example answers Pebble's http-01 with the key authorization, never echoes an unknown token, and routes the rest to the app`, async () => {
    const host = `${framework}.example.com`;
    const tls = await autoHttps({
      domains: [host],
      acceptTos: true,
      directory: pebble.directoryUrl,
      caBundle: pebble.caBundle,
      store: new MemoryStore(),
      challenges: ['http-01'],
    });
    const answers: Answer[] = [];
    const running = await start(framework, tls, answers);
    try {
      await tls.ready({ signal: AbortSignal.timeout(30_000) });

      // The CA fetched its token through the framework's port 80 and got exactly the key authorization.
      const ca = answers.filter((a) => a.status === 200);
      assert.ok(ca.length >= 1, `the CA's request reached acmekit: ${JSON.stringify(answers)}`);
      for (const a of ca) {
        const token = a.path.slice(PREFIX.length);
        assert.match(a.body, new RegExp(`^${token}\\.[A-Za-z0-9_-]{43}$`));
      }

      const plain = `http://127.0.0.1:${pebble.httpPort}`;
      const unknown = randomBytes(32).toString('base64url');
      const probe = await get(`${plain}${PREFIX}${unknown}`, { host });
      assert.equal(probe.status, 404);
      assert.equal(probe.body.includes(unknown), false, `the token is not reflected: ${probe.body}`);
      assert.equal(probe.location, undefined);

      const health = await get(`${plain}/health`, { host });
      assert.deepEqual([health.status, health.body], [200, 'ok']);
      const other = await get(`${plain}/some/page?q=1`, { host });
      assert.equal(other.status, 301);
      assert.equal(other.location, `https://${host}/some/page?q=1`);

      const site = await get(`https://127.0.0.1:${running.httpsPort}/`, {
        host,
        servername: host,
        ca: roots,
      });
      assert.deepEqual([site.status, site.body], [200, 'hello over https']);
    } finally {
      await running.close();
      await tls.close();
    }
  });
}

test('docs/server.md shows each framework recipe exactly as examples/frameworks/ has it', async () => {
  const docs = await readFile(new URL('../../../docs/server.md', import.meta.url), 'utf8');
  for (const framework of FRAMEWORKS) {
    const file = `examples/frameworks/${framework}.ts`;
    const source = await readFile(new URL(`../../../${file}`, import.meta.url), 'utf8');
    const region = /\/\/ #region recipe\n([\s\S]*?)\/\/ #endregion recipe\n/.exec(source)?.[1];
    assert.ok(region, `${file} marks its recipe with #region recipe / #endregion recipe`);
    assert.ok(
      docs.includes(`\`\`\`ts\n${region}\`\`\`\n`),
      `docs/server.md has the recipe of ${file} as it is`,
    );
  }
});
