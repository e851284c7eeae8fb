// The issuance path (buildCsr at finalize; parseCertificateChain, verifyChainMatches, chainIssuerNames
// and ariCertificateId on the download) must not load @peculiar/asn1-*: ~270 CommonJS files, ~165 ms
// of `acmekit run` (bench/cli.ts). Checked in a fresh process, so no other test's imports count.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const src = (f: string) =>
  JSON.stringify(pathToFileURL(resolve(import.meta.dirname, '../../../src', f)).href);

// Runs in the child: a CSR from buildCsr, signed into a certificate by openssl under a test CA, then read
// back as a chain. Prints the @peculiar files in the CommonJS cache before and after loadAsn1() (the
// second list shows the check can see them at all).
const CHILD = `
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
const { buildCsr } = await import(${src('crypto/csr.ts')});
const cert = await import(${src('crypto/certificate.ts')});
const dir = process.argv[1];
const peculiar = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@peculiar'));
const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const identifiers = [{ type: 'dns', value: 'leaf.example' }, { type: 'ip', value: '2001:db8::7' }];
writeFileSync(join(dir, 'leaf.csr.der'), await buildCsr({ key: privateKey, identifiers, mustStaple: true }));
openssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', 'ca.key', '-subj', '/CN=No ASN1 Test CA', '-days', '2', '-out', 'ca.pem');
writeFileSync(join(dir, 'ext.cnf'), 'authorityKeyIdentifier=keyid:always\\nbasicConstraints=CA:FALSE\\n');
openssl('x509', '-req', '-inform', 'DER', '-in', 'leaf.csr.der', '-CA', 'ca.pem', '-CAkey', 'ca.key',
  '-set_serial', '0x80000001', '-days', '1', '-copy_extensions', 'copy', '-extfile', 'ext.cnf', '-out', 'leaf.pem');
const pem = readFileSync(join(dir, 'leaf.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8');
const chain = await cert.parseCertificateChain(pem);
cert.verifyChainMatches({ chain, privateKey, identifiers });
const before = peculiar();
const result = {
  subject: chain[0].subjectCommonName,
  identifiers: chain[0].identifiers,
  serialHex: chain[0].serialHex,
  issuers: cert.chainIssuerNames(chain, 'any'),
  ari: cert.ariCertificateId(chain[0]),
  peculiarBefore: before,
};
await (await import(${src('crypto/asn1-loader.ts')})).loadAsn1();
console.log(JSON.stringify({ ...result, peculiarAfter: peculiar().length }));
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-noasn1-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('issuance path: buildCsr and reading the issued chain load no @peculiar module', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir],
    { cwd: resolve(import.meta.dirname, '../../..') },
  );
  const r = JSON.parse(stdout);
  assert.deepEqual(r.peculiarBefore, []);
  // The check is meaningful: loading the ASN.1 library afterwards does put its files in that cache.
  assert.ok(r.peculiarAfter > 0, 'loadAsn1() should put @peculiar files into the CommonJS cache');
  assert.equal(r.subject, 'leaf.example');
  assert.deepEqual(r.identifiers, [
    { type: 'dns', value: 'leaf.example' },
    { type: 'ip', value: '2001:db8::7' },
  ]);
  assert.equal(r.serialHex, '0080000001');
  assert.deepEqual(r.issuers, ['No ASN1 Test CA', 'No ASN1 Test CA']);
  assert.match(r.ari, /^[\w-]+\.AIAAAAE$/);
});
