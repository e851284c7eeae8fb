import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  ariCertificateId,
  chainIssuerNames,
  type ParsedCertificate,
  parseCertificateChain,
  verifyChainMatches,
} from '../../../src/crypto/certificate.ts';
import type { Identifier } from '../../../src/crypto/identifier.ts';
import { CertificateMismatchError } from '../../../src/errors/base.ts';

const run = promisify(execFile);
const RFC_AKI = '69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4';
// A root, an intermediate whose SKI is RFC 9773's example AKI, and a leaf with serial 0x87654321.
const EXT = `[int]
basicConstraints=critical,CA:TRUE
subjectKeyIdentifier=${RFC_AKI}
authorityKeyIdentifier=keyid:always
[leaf]
basicConstraints=CA:FALSE
subjectAltName=DNS:example.com,DNS:WWW.Example.com,IP:192.0.2.1,IP:2001:db8::1
authorityKeyIdentifier=keyid:always
`;

let dir: string;
let rootPem: string;
let intPem: string;
let leafPem: string;
let leafKey: KeyObject;
let chain: ParsedCertificate[];
const names: Identifier[] = [
  { type: 'dns', value: 'example.com' },
  { type: 'dns', value: 'www.example.com' },
  { type: 'ip', value: '192.0.2.1' },
  { type: 'ip', value: '2001:db8::1' },
];

async function openssl(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('openssl', args, { cwd: dir });
  return stdout + stderr;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-cert-'));
  await writeFile(join(dir, 'ext.cnf'), EXT);
  for (const k of ['root', 'int', 'leaf']) {
    await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${k}.key`);
  }
  await openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'root.key',
    '-subj',
    '/CN=Test Root X1',
    '-days',
    '30',
    '-out',
    'root.pem',
  );
  await openssl('req', '-new', '-key', 'int.key', '-subj', '/CN=Test Intermediate', '-out', 'int.csr');
  await openssl(
    ...['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2'],
    ...['-days', '30', '-extfile', 'ext.cnf', '-extensions', 'int', '-out', 'int.pem'],
  );
  await openssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=example.com', '-out', 'leaf.csr');
  await openssl(
    ...[
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'int.pem',
      '-CAkey',
      'int.key',
      '-set_serial',
      '0x87654321',
    ],
    ...['-days', '30', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', 'leaf.pem'],
  );
  [rootPem, intPem, leafPem] = (await Promise.all(
    ['root', 'int', 'leaf'].map((f) => readFile(join(dir, `${f}.pem`), 'utf8')),
  )) as [string, string, string];
  leafKey = createPrivateKey(await readFile(join(dir, 'leaf.key')));
  chain = await parseCertificateChain(leafPem + intPem);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mismatch = (re: RegExp) => (err: unknown) =>
  err instanceof CertificateMismatchError && re.test(err.message);

describe('parseCertificateChain', () => {
  test('parseCertificateChain: reads every field of an openssl-made leaf and intermediate', async () => {
    assert.equal(chain.length, 2);
    const [leaf, int] = chain as [ParsedCertificate, ParsedCertificate];
    assert.equal(leaf.serialHex, '0087654321'); // DER content bytes: the sign-padding 00 is kept
    assert.deepEqual(leaf.identifiers, names); // SAN order, DNS lowercased, IPv6 canonical
    assert.equal(leaf.subjectCommonName, 'example.com');
    assert.equal(leaf.issuerCommonName, 'Test Intermediate');
    assert.equal(leaf.isCa, false);
    assert.equal(leaf.authorityKeyIdentifier?.toString('hex'), RFC_AKI.replace(/:/g, '').toLowerCase());
    assert.deepEqual(leaf.notBefore, new Date(leaf.x509.validFrom));
    assert.deepEqual(leaf.notAfter, new Date(leaf.x509.validTo));
    assert.equal(int.isCa, true);
    assert.equal(int.serialHex, '02');
    assert.deepEqual(int.subjectKeyIdentifier, leaf.authorityKeyIdentifier);
    assert.deepEqual(int.identifiers, []);
    assert.equal(leaf.pem, leafPem);
    // openssl agrees on the serial and the names of what we re-encoded
    await writeFile(join(dir, 'reencoded.pem'), leaf.pem);
    const text = await openssl('x509', '-in', 'reencoded.pem', '-noout', '-text');
    assert.match(text, /Serial Number: 2271560481 \(0x87654321\)/);
    assert.match(text, /DNS:example\.com, DNS:WWW\.Example\.com, IP Address:192\.0\.2\.1/);
  });

  test('parseCertificateChain: accepts CRLF line ends, a BOM and text between blocks', async () => {
    const messy = `\uFEFFleaf:\r\n${leafPem.replace(/\n/g, '\r\n')}\r\nintermediate:\r\n${intPem.replace(/\n/g, '\r\n')}`;
    const parsed = await parseCertificateChain(messy);
    assert.deepEqual(
      parsed.map((c) => c.serialHex),
      ['0087654321', '02'],
    );
  });

  test('B11: parseCertificateChain: a PRIVATE KEY block inside a chain is rejected (RFC 8555 §9.1)', async () => {
    const keyPem = leafKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(parseCertificateChain(leafPem + keyPem + intPem), mismatch(/PRIVATE KEY block/));
  });

  test('parseCertificateChain: empty input, text without PEM and a truncated block are rejected', async () => {
    await assert.rejects(parseCertificateChain(''), mismatch(/no PEM CERTIFICATE block/));
    await assert.rejects(parseCertificateChain('<html>503</html>'), mismatch(/no PEM CERTIFICATE block/));
    const truncated = leafPem + intPem.slice(0, intPem.length - 40);
    await assert.rejects(parseCertificateChain(truncated), mismatch(/unterminated/));
  });

  test('parseCertificateChain: a CERTIFICATE block that is not a certificate names its position', async () => {
    const bogus = '-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n';
    await assert.rejects(
      parseCertificateChain(leafPem + bogus),
      mismatch(/certificate 2 of the chain does not parse/),
    );
  });

  test('B11: parseCertificateChain: input over 1 MiB is rejected by size, even when every block is valid', async () => {
    const big = leafPem.repeat(Math.ceil((1024 * 1024) / leafPem.length) + 1);
    await assert.rejects(parseCertificateChain(big), mismatch(/larger than 1048576 bytes/));
  });
});

describe('ariCertificateId', () => {
  test('ariCertificateId: gives the RFC 9773 §4.1 example id for its AKI and serial', () => {
    assert.equal(ariCertificateId(chain[0]!), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  test('ariCertificateId: throws when the certificate has no AKI keyIdentifier', () => {
    const { authorityKeyIdentifier: _, ...noAki } = chain[0]!;
    assert.throws(() => ariCertificateId(noAki), mismatch(/Authority Key Identifier/));
  });
});

describe('verifyChainMatches', () => {
  const ok = () => ({ chain, identifiers: names, now: chain[0]!.notBefore.getTime() + 60_000 });

  test('verifyChainMatches: passes for the right key, names in any order and case', () => {
    const shuffled = [...names]
      .reverse()
      .map((n) => (n.type === 'dns' ? { ...n, value: n.value.toUpperCase() } : n));
    verifyChainMatches({ ...ok(), identifiers: shuffled, privateKey: leafKey });
    verifyChainMatches({ ...ok(), publicKey: chain[0]!.x509.publicKey });
    verifyChainMatches({ ...ok(), publicKey: leafKey }); // a private key passed as publicKey still works
  });

  test('B11: verifyChainMatches: a leaf for another key is rejected', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.throws(() => verifyChainMatches({ ...ok(), privateKey: other }), mismatch(/different public key/));
  });

  test('B11: verifyChainMatches: names missing from or added to the certificate are listed', () => {
    const fewer = names.filter((n) => n.value !== 'www.example.com');
    assert.throws(
      () => verifyChainMatches({ ...ok(), identifiers: fewer }),
      mismatch(/unexpected www\.example\.com$/),
    );
    const more = [...names, { type: 'dns', value: 'api.example.com' } as const];
    assert.throws(
      () => verifyChainMatches({ ...ok(), identifiers: more }),
      mismatch(/missing api\.example\.com$/),
    );
  });

  test('verifyChainMatches: a chain whose certificates do not sign each other is rejected', async () => {
    const wrongOrder = await parseCertificateChain(leafPem + rootPem);
    assert.throws(
      () => verifyChainMatches({ ...ok(), chain: wrongOrder }),
      mismatch(/leaf certificate \(example\.com\) is not signed by the next/),
    );
    const full = await parseCertificateChain(leafPem + intPem + rootPem);
    verifyChainMatches({ ...ok(), chain: full });
  });

  test('B11: verifyChainMatches: a leaf not valid yet (beyond 5 minutes of skew) or expired is rejected', () => {
    const start = chain[0]!.notBefore.getTime();
    verifyChainMatches({ ...ok(), now: start - 4 * 60_000 });
    assert.throws(
      () => verifyChainMatches({ ...ok(), now: start - 6 * 60_000 }),
      mismatch(/not valid until/),
    );
    const end = chain[0]!.notAfter.getTime();
    assert.throws(() => verifyChainMatches({ ...ok(), now: end }), mismatch(/expired on/));
  });

  test('verifyChainMatches: an empty chain is rejected', () => {
    assert.throws(() => verifyChainMatches({ ...ok(), chain: [] }), mismatch(/empty/));
  });
});

describe('chainIssuerNames', () => {
  test("chainIssuerNames: 'top' gives the top certificate's issuer CN (lego), 'any' every issuer CN", () => {
    assert.deepEqual(chainIssuerNames(chain), ['Test Root X1']);
    assert.deepEqual(chainIssuerNames(chain, 'any'), ['Test Intermediate', 'Test Root X1']);
    assert.deepEqual(chainIssuerNames([]), []);
  });
});
