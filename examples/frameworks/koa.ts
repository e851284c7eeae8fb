/**
 * Automatic HTTPS for a Koa app: the site on 443, and a Koa app on port 80 with acmekit's http-01
 * answers in front of its handler.
 *
 *   EMAIL=me@example.com npx tsx examples/frameworks/koa.ts example.com www.example.com
 *
 * ACME_DIRECTORY picks the CA (default letsencrypt-staging). docs/server.md shows the region below.
 */

import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { type AutoHttps, autoHttps } from '../../src/server/index.ts';

// #region recipe
export function koaServers(tls: AutoHttps): { secure: https.Server; plain: http.Server } {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'hello over https';
  });

  const port80 = new Koa();
  port80.use((ctx) => {
    if (ctx.path === '/health') {
      ctx.body = 'ok';
    } else if (ctx.path.startsWith('/.well-known/acme-challenge/')) {
      ctx.status = 404; // a token acmekit did not hand out: a bare 404, never echoed
    } else {
      ctx.redirect(`https://${ctx.hostname}${ctx.url}`);
      ctx.status = 301;
    }
  });

  // Port 80: acmekit answers the CA before Koa sees the request.
  const acme = tls.middleware();
  const handle = port80.callback();
  return {
    secure: tls.attach(https.createServer(tls.serverOptions, app.callback())),
    plain: http.createServer((req, res) => acme(req, res, () => handle(req, res))),
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
  const { secure, plain } = koaServers(tls);
  secure.listen(443);
  plain.listen(80);
}
