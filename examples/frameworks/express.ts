/**
 * Automatic HTTPS for an Express app: the site on 443, and a small Express app of its own on port 80
 * that answers the CA's http-01 requests first and redirects the rest.
 *
 *   EMAIL=me@example.com npx tsx examples/frameworks/express.ts example.com www.example.com
 *
 * ACME_DIRECTORY picks the CA (default letsencrypt-staging). docs/server.md shows the region below.
 */

import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { type AutoHttps, autoHttps } from '../../src/server/index.ts';

// #region recipe
export function expressServers(tls: AutoHttps): { secure: https.Server; plain: http.Server } {
  const app = express();
  app.get('/', (_req, res) => {
    res.send('hello over https');
  });

  // Port 80: acmekit answers the CA first; a token it did not hand out gets a bare 404, never echoed.
  const port80 = express();
  port80.use(tls.middleware());
  port80.use('/.well-known/acme-challenge', (_req, res) => {
    res.sendStatus(404);
  });
  port80.get('/health', (_req, res) => {
    res.send('ok');
  });
  port80.use((req, res) => {
    res.redirect(301, `https://${req.hostname}${req.originalUrl}`);
  });

  return {
    secure: tls.attach(https.createServer(tls.serverOptions, app)),
    plain: http.createServer(port80),
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
  const { secure, plain } = expressServers(tls);
  secure.listen(443);
  plain.listen(80);
}
