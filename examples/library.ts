/**
 * The library flow step by step, persisting the account and the certificate to files:
 * directory → account → order → authorizations → challenge → finalize → download.
 *
 *   npx tsx examples/library.ts example.com www.example.com   (needs port 80 reachable from the CA)
 */

import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import {
  AccountCredentials,
  AcmeClient,
  buildCsr,
  exportPrivateKeyPem,
  generateKeyType,
} from '../src/index.ts';

const names = process.argv.slice(2);
const client = new AcmeClient(process.env.ACME_DIRECTORY ?? 'letsencrypt-staging');

// Account: load saved credentials, or register and save them (0600: they hold the private key).
const saved = await readFile('account.json', 'utf8').catch(() => undefined);
const account = saved
  ? client.account(AccountCredentials.fromJSON(saved))
  : await client.createAccount({ contact: process.env.ACME_EMAIL, acceptTos: true });
if (!saved) await writeFile('account.json', JSON.stringify(account.toCredentials()), { mode: 0o600 });

// Order and challenges: publish every http-01 proof from a small server of our own.
const order = await account.newOrder({ identifiers: names });
const proofs = new Map<string, string>();
const server = createServer((req, res) => {
  const token = req.url?.split('/').pop() ?? '';
  const proof = proofs.get(token);
  res.writeHead(proof ? 200 : 404).end(proof ?? 'not found');
}).listen(80);
try {
  for (const authz of await order.authorizations()) {
    if (authz.status === 'valid') continue; // the CA may reuse an earlier validation
    const challenge = authz.challenge('http-01');
    if (!challenge) throw new Error(`no http-01 challenge for ${authz.identifier.value}`);
    proofs.set(challenge.token, challenge.keyAuthorization);
    await challenge.respond();
  }
  await order.waitWhile(['pending']);
} finally {
  server.close();
}
if (order.status !== 'ready') throw order.error ?? new Error(`order is ${order.status}`);

// Finalize with a fresh key, then download the chain.
const key = await generateKeyType('ec256');
await order.finalize(await buildCsr({ key, identifiers: order.identifiers }));
const chain = await order.certificate({ key });
await writeFile(`${names[0]}.key`, exportPrivateKeyPem(key), { mode: 0o600 });
await writeFile(`${names[0]}.crt`, chain.pem, { mode: 0o644 });
console.log(`saved ${names[0]}.crt, valid until ${chain.notAfter.toISOString()}`);
client.close();
