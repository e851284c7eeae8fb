/**
 * Automatic HTTPS for a Fastify app: Fastify serves 443 with acmekit's TLS options; a second Fastify
 * instance serves port 80, with acmekit's http-01 answers in front of it through `serverFactory`.
 *
 *   EMAIL=me@example.com npx tsx examples/frameworks/fastify.ts example.com www.example.com
 *
 * ACME_DIRECTORY picks the CA (default letsencrypt-staging). docs/server.md shows the region below.
 */

import http from 'node:http';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { type AutoHttps, autoHttps } from '../../src/server/index.ts';

// #region recipe
export function fastifyServers(tls: AutoHttps) {
  const app = Fastify({ https: tls.serverOptions });
  app.get('/', async () => 'hello over https');
  tls.attach(app.server);

  // Port 80: acmekit answers the CA before Fastify sees the request.
  const acme = tls.middleware();
  const port80 = Fastify({
    serverFactory: (handler) => http.createServer((req, res) => acme(req, res, () => handler(req, res))),
  });
  // A token acmekit did not hand out: a bare 404 (Fastify's own 404 would echo the URL).
  port80.get('/.well-known/acme-challenge/*', async (_req, reply) => reply.code(404).send());
  port80.get('/health', async () => 'ok');
  port80.setNotFoundHandler((req, reply) => reply.redirect(`https://${req.hostname}${req.url}`, 301));

  return { app, port80 };
}
// #endregion recipe

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tls = await autoHttps({
    domains: process.argv.slice(2),
    ...(process.env.EMAIL ? { email: process.env.EMAIL } : {}),
    acceptTos: true,
    directory: process.env.ACME_DIRECTORY ?? 'letsencrypt-staging',
  });
  const { app, port80 } = fastifyServers(tls);
  await app.listen({ port: 443, host: '::' });
  await port80.listen({ port: 80, host: '::' });
}
