/**
 * Automatic HTTPS for a plain Node server: certificates are obtained at start and renewed in the
 * background; port 80 answers http-01 and redirects everything else; port 443 also answers tls-alpn-01.
 *
 *   EMAIL=me@example.com npx tsx examples/https-server.ts example.com www.example.com
 *
 * ACME_DIRECTORY picks the CA (default letsencrypt-staging; "letsencrypt" for real certificates),
 * ACME_CA_BUNDLE trusts a private/test CA's root, HTTP_PORT / HTTPS_PORT move the ports (e.g. behind a
 * port forward), ACMEKIT_PATH moves the store (default ~/.local/share/acmekit).
 */

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { autoHttps } from '../src/server/index.ts';
import { FileStore } from '../src/storage/file-store.ts';

const domains = process.argv.slice(2);
if (domains.length === 0) {
  console.error('usage: tsx examples/https-server.ts example.com [www.example.com ...]');
  process.exit(2);
}
const httpsPort = Number(process.env.HTTPS_PORT ?? 443);

const tls = await autoHttps({
  domains,
  ...(process.env.EMAIL ? { email: process.env.EMAIL } : {}),
  acceptTos: true,
  directory: process.env.ACME_DIRECTORY ?? 'letsencrypt-staging',
  ...(process.env.ACME_CA_BUNDLE ? { caBundle: readFileSync(process.env.ACME_CA_BUNDLE, 'utf8') } : {}),
  ...(process.env.ACMEKIT_PATH ? { store: new FileStore(process.env.ACMEKIT_PATH) } : {}),
  httpsPort,
  logger: {
    debug: () => {},
    info: (obj, msg) => console.log(msg, obj),
    warn: (obj, msg) => console.warn(msg, obj),
    error: (obj, msg) => console.error(msg, obj),
  },
});
tls.on('obtained', (e) =>
  console.log(`obtained ${e.names.join(', ')} (valid until ${e.notAfter.toISOString()})`),
);
tls.on('renewed', (e) => console.log(`renewed ${e.names.join(', ')}`));
tls.on('failed', (e) =>
  console.warn(`failed ${e.names.join(', ')}: ${e.error.message}; next try ${e.retryAt?.toISOString()}`),
);

const https = createHttpsServer(tls.serverOptions, (req, res) => {
  res.end(`hello from ${req.headers.host ?? 'nowhere'} over ${req.httpVersion}\n`);
});
tls.attach(https); // keeps the certificate for clients without SNI current after renewals
https.listen(httpsPort);
const http = createHttpServer(tls.httpHandler()).listen(Number(process.env.HTTP_PORT ?? 80));

await tls.ready();
console.log(
  'every certificate is present:',
  tls.status().certificates.map((c) => `${c.id} → ${c.notAfter}`),
);

const stop = async (): Promise<void> => {
  await tls.close();
  https.close();
  http.close();
};
process.once('SIGINT', stop).once('SIGTERM', stop);
