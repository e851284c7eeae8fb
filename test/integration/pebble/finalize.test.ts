import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { certificateKeyTypes } from '../../../src/crypto/keys.ts';
import {
  type Account,
  AcmeClient,
  AlreadyRevokedError,
  Http01ListenerSolver,
  InvalidInputError,
  importPrivateKey,
  obtainCertificate,
} from '../../../src/index.ts';
import { setHeader } from '../../support/fault-proxy.ts';
import { opensslText, opensslVerify } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { proxiedClient, tripwire, uniqueName } from './proxied.ts';

const run = promisify(execFile);

let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
let http01: Http01ListenerSolver;
before(async () => {
  pebble = await startPebble({ alternateRoots: 1, chainLength: 2 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
  http01 = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

const expectedKey: Record<string, RegExp> = {
  ec256: /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/,
  ec384: /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-384/,
  rsa2048: /Public-Key: \(2048 bit\)/,
  rsa3072: /Public-Key: \(3072 bit\)/,
  rsa4096: /Public-Key: \(4096 bit\)/,
  ed25519: /Public Key Algorithm: ED25519/,
};

for (const keyType of certificateKeyTypes) {
  test(`finalize with a generated ${keyType} key; the leaf carries that key and verifies`, async () => {
    const result = await obtainCertificate(account, {
      names: [`${keyType}.example.com`],
      solvers: [http01],
      key: keyType,
    });
    const text = await opensslText(result.certificate);
    assert.match(text, expectedKey[keyType]!);
    const key = importPrivateKey(result.privateKey!.pem());
    assert.equal(
      key.asymmetricKeyType,
      keyType === 'ed25519' ? 'ed25519' : keyType.startsWith('rsa') ? 'rsa' : 'ec',
    );
    const roots = await pebble.roots();
    assert.match(
      await opensslVerify({ leaf: result.certificate, intermediates: result.issuer, roots }),
      /OK/,
    );
  });
}

test('finalize with a user CSR made by openssl (PEM and DER); no private key is returned', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-csr-'));
  try {
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'csr.pem'),
      '-subj',
      '/CN=csr.example.com',
      '-addext',
      'subjectAltName=DNS:csr.example.com,DNS:www.csr.example.com',
    ]);
    await run('openssl', [
      'req',
      '-in',
      join(dir, 'csr.pem'),
      '-outform',
      'DER',
      '-out',
      join(dir, 'csr.der'),
    ]);
    const pem = await readFile(join(dir, 'csr.pem'), 'utf8');
    const fromPem = await obtainCertificate(account, { csr: pem, solvers: [http01] });
    assert.equal(fromPem.privateKey, undefined);
    assert.match(await opensslText(fromPem.certificate), /DNS:www\.csr\.example\.com/);
    const der = await readFile(join(dir, 'csr.der'));
    const fromDer = await obtainCertificate(account, {
      csr: der,
      names: ['www.csr.example.com', 'csr.example.com'],
      solvers: [http01],
    });
    assert.equal(fromDer.identifiers.length, 2);
    await assert.rejects(
      obtainCertificate(account, { csr: pem, names: ['other.example.com'], solvers: [http01] }),
      (err: unknown) => err instanceof InvalidInputError && /differ/.test(err.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('A8: alternate chains are downloaded; the preferred chain is chosen by its top issuer name', async () => {
  const first = await obtainCertificate(account, { names: ['chains.example.com'], solvers: [http01] });
  assert.equal(first.alternates.length, 1, 'Pebble with one alternate root offers two chains');
  const topIssuer = (pem: string) => {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.at(-1)!;
  };
  const altTopText = await opensslText(topIssuer(first.alternates[0]!));
  const wanted = /Issuer: CN ?= ?(.+)/.exec(altTopText)![1]!.trim();
  const preferred = await obtainCertificate(account, {
    names: ['chains.example.com'],
    solvers: [http01],
    preferredChain: wanted,
  });
  assert.match(
    await opensslText(topIssuer(preferred.chain)),
    new RegExp(`Issuer: CN ?= ?${wanted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  const roots = await pebble.roots();
  assert.match(
    await opensslVerify({ leaf: preferred.certificate, intermediates: preferred.issuer, roots }),
    /OK/,
  );
  const unknown = await obtainCertificate(account, {
    names: ['chains.example.com'],
    solvers: [http01],
    preferredChain: 'No Such CA',
  });
  assert.equal(unknown.alternates.length, 1, 'an unknown preferred chain falls back to the default');
});

test('A8: an alternate chain that cannot be fetched is left out with a warning; the issuance keeps its main chain', async (t) => {
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn(obj: object, msg?: string) {
      warnings.push(`${msg} ${JSON.stringify(obj)}`);
    },
    error() {},
  };
  const { proxy, client: proxied } = await proxiedClient(t, pebble, { logger });
  const trap = await tripwire(t);
  // The CA names its alternate outside TLS: the transport refuses it, so it is never requested.
  proxy.rule({
    resource: 'cert',
    times: 1,
    action: setHeader('link', (value) =>
      [value ?? []]
        .flat()
        .map((links) =>
          links.replace(
            /<https:\/\/[^/>]+(\/[^>]*>\s*;\s*rel="?alternate)/g,
            `<http://127.0.0.1:${trap.port}$1`,
          ),
        ),
    ),
  });
  const viaProxy = await proxied.createAccount({ acceptTos: true });
  const result = await obtainCertificate(viaProxy, {
    names: [uniqueName('a8-alternate')],
    solvers: [http01],
  });
  assert.equal(result.alternates.length, 0, 'the unusable alternate is left out');
  const roots = await pebble.roots();
  assert.match(await opensslVerify({ leaf: result.certificate, intermediates: result.issuer, roots }), /OK/);
  assert.equal(trap.connections, 0, 'nothing went to the plain-http alternate');
  assert.ok(
    warnings.some((w) => w.startsWith('alternate chain left out') && w.includes(`127.0.0.1:${trap.port}`)),
    warnings.join('\n'),
  );
});

test('A16: revoke with the account key, then again is AlreadyRevokedError', async () => {
  const result = await obtainCertificate(account, { names: ['revoke1.example.com'], solvers: [http01] });
  await account.revoke(result.chain, { reason: 'superseded' });
  await assert.rejects(account.revoke(result.chain), AlreadyRevokedError);
});

test("A16: revoke with the certificate's own key, no account involved", async () => {
  const result = await obtainCertificate(account, { names: ['revoke2.example.com'], solvers: [http01] });
  await client.revokeWithCertificateKey(result.chain, importPrivateKey(result.privateKey!.pem()), {
    reason: 'keyCompromise',
  });
  await assert.rejects(account.revoke(result.chain), AlreadyRevokedError);
});

test('an unknown revocation reason is refused before any request', async () => {
  await assert.rejects(account.revoke('x', { reason: 'bored' as 'superseded' }), InvalidInputError);
});
