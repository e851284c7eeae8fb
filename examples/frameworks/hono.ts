/**
 * Automatic HTTPS for a Hono app on Node (`@hono/node-server`): the site on 443, and a Hono app on
 * port 80 with acmekit's http-01 answers in front of it.
 *
 *   EMAIL=me@example.com npx tsx examples/frameworks/hono.ts example.com www.example.com
 *
 * ACME_DIRECTORY picks the CA (default letsencrypt-staging). docs/server.md shows the region below.
 */

import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { type AutoHttps, autoHttps } from '../../src/server/index.ts';

// #region recipe
export function honoServers(tls: AutoHttps): { secure: https.Server; plain: http.Server } {
  const app = new Hono().get('/', (c) => c.text('hello over https'));

  const port80 = new Hono()
    .get('/.well-known/acme-challenge/*', (c) => c.body(null, 404)) // not ours: never echoed
    .get('/health', (c) => c.text('ok'))
    .all('*', (c) => {
      const url = new URL(c.req.url);
      return c.redirect(`https://${url.hostname}${url.pathname}${url.search}`, 301);
    });

  // Port 80: acmekit answers the CA before Hono sees the request.
  const acme = tls.middleware();
  const handle = getRequestListener(port80.fetch);
  return {
    secure: tls.attach(https.createServer(tls.serverOptions, getRequestListener(app.fetch))),
    plain: http.createServer((req, res) => acme(req, res, () => void handle(req, res))),
  };
}
// #endregion recipe

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tls = await autoHttps({
    domains: process.argv.slice(2),
    ...(process.env.EMAIL ? { email: process.env.EMAIL } : {}),
    acceptTos: true,
    directory: process.env.ACME_DIRECTORY ?? 'letsencrypt-staging',
  });
  const { secure, plain } = honoServers(tls);
  secure.listen(443);
  plain.listen(80);
}
