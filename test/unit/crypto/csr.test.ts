import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { buildCsr, parseCsr } from '../../../src/crypto/csr.ts';
import type { Identifier } from '../../../src/crypto/identifier.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { encodePem } from '../../../src/internal/pem.ts';

const run = promisify(execFile);
let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-csr-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `openssl req -verify -text` on a CSR; stdout and stderr together (the verify line goes to stderr). */
async function opensslReq(der: Buffer): Promise<string> {
  const file = join(dir, `req-${n++}.pem`);
  await writeFile(file, encodePem('CERTIFICATE REQUEST', der));
  const { stdout, stderr } = await run('openssl', ['req', '-in', file, '-noout', '-verify', '-text']);
  return stdout + stderr;
}

const spki = (k: KeyObject) =>
  (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
const dns = (value: string): Identifier => ({ type: 'dns', value });
const ip = (value: string): Identifier => ({ type: 'ip', value });
const isInvalid = (re: RegExp) => (err: unknown) => err instanceof InvalidInputError && re.test(err.message);

const keyTypes = [
  { name: 'P-256', alg: 'ecdsa-with-SHA256', make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { name: 'P-384', alg: 'ecdsa-with-SHA384', make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
  {
    name: 'RSA 2048',
    alg: 'sha256WithRSAEncryption',
    make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  },
  { name: 'Ed25519', alg: 'ED25519', make: () => generateKeyPairSync('ed25519') },
];

describe('buildCsr', () => {
  for (const kt of keyTypes) {
    test(`buildCsr: ${kt.name} key signs with ${kt.alg} and openssl verifies it`, async () => {
      const { privateKey, publicKey } = kt.make();
      const der = await buildCsr({
        key: privateKey,
        identifiers: [dns('example.com'), dns('www.example.com')],
      });
      const text = await opensslReq(der);
      assert.match(text, /self-signature verify OK/);
      assert.match(text, new RegExp(`Signature Algorithm: ${kt.alg}`));
      assert.match(text, /Subject: CN ?= ?example\.com/);
      assert.match(text, /DNS:example\.com, DNS:www\.example\.com/);
      const parsed = await parseCsr(der);
      assert.deepEqual(spki(parsed.publicKey), spki(publicKey));
    });
  }

  test('buildCsr: IP identifiers become 4- and 16-byte iPAddress SANs and the CN is the first DNS name', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ids = [ip('192.0.2.1'), dns('Example.COM'), ip('2001:0db8:0:0::1')];
    const der = await buildCsr({ key: privateKey, identifiers: ids });
    const text = await opensslReq(der);
    assert.match(text, /IP Address:192\.0\.2\.1, DNS:example\.com, IP Address:2001:DB8:0:0:0:0:0:1/);
    assert.match(text, /Subject: CN ?= ?example\.com/);
    // 87 04 = [7] with 4 bytes, 87 10 = [7] with 16 bytes (RFC 5280 §4.2.1.6)
    assert.ok(der.includes(Buffer.from('8704c0000201', 'hex')));
    assert.ok(der.includes(Buffer.from('871020010db8000000000000000000000001', 'hex')));
    const parsed = await parseCsr(der);
    assert.deepEqual(parsed.identifiers, [dns('example.com'), ip('192.0.2.1'), ip('2001:db8::1')]);
  });

  test('buildCsr: IP-only CSR has an empty subject and a critical SAN', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const text = await opensslReq(
      await buildCsr({ key: privateKey, identifiers: [ip('127.0.0.1'), ip('::1')] }),
    );
    assert.match(text, /Subject: *\n/);
    assert.match(text, /Subject Alternative Name: critical/);
    assert.match(text, /IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  });

  test('buildCsr: a first DNS name longer than 64 characters stays out of the CN', async () => {
    const long = `${'a'.repeat(60)}.example.com`;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = await buildCsr({ key: privateKey, identifiers: [dns(long), dns('short.example.com')] });
    const text = await opensslReq(der);
    assert.match(text, /Subject: *\n/);
    assert.match(text, /Subject Alternative Name: critical/);
    assert.equal((await parseCsr(der)).commonName, undefined);
  });

  test('buildCsr: mustStaple adds the TLS Feature status_request extension, and only then', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const withIt = await opensslReq(
      await buildCsr({ key: privateKey, identifiers: [dns('a.test')], mustStaple: true }),
    );
    assert.match(withIt, /TLS Feature: *\n\s+status_request/);
    const without = await opensslReq(await buildCsr({ key: privateKey, identifiers: [dns('a.test')] }));
    assert.doesNotMatch(without, /TLS Feature/);
  });

  test('buildCsr: duplicate names are written once', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = await buildCsr({
      key: privateKey,
      identifiers: [dns('a.test'), dns('A.test'), ip('10.0.0.1')],
    });
    assert.deepEqual((await parseCsr(der)).identifiers, [dns('a.test'), ip('10.0.0.1')]);
  });

  const rejected: [string, () => KeyObject, RegExp][] = [
    ['RSA 1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /RSA 1024/],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, /EC P-521/],
    ['Ed448', () => generateKeyPairSync('ed448').privateKey, /Ed448/],
    ['a public key', () => generateKeyPairSync('ed25519').publicKey, /private key/],
  ];
  for (const [what, make, re] of rejected) {
    test(`buildCsr: rejects ${what} with an InvalidInputError naming it`, async () => {
      await assert.rejects(buildCsr({ key: make(), identifiers: [dns('a.test')] }), isInvalid(re));
    });
  }

  test('buildCsr: rejects no identifiers, a bad IP and a non-ASCII DNS name', async () => {
    const { privateKey: key } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(buildCsr({ key, identifiers: [] }), isInvalid(/at least one/));
    await assert.rejects(buildCsr({ key, identifiers: [ip('300.1.1.1')] }), isInvalid(/not an IP address/));
    await assert.rejects(buildCsr({ key, identifiers: [dns('bücher.example')] }), isInvalid(/DNS name/));
  });
});

describe('parseCsr', () => {
  let opensslCsr: string;
  let opensslKey: KeyObject;

  before(async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    opensslKey = privateKey;
    const keyFile = join(dir, 'openssl.key');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const out = join(dir, 'openssl.csr');
    await run('openssl', [
      'req',
      '-new',
      '-key',
      keyFile,
      '-subj',
      '/CN=Example.COM',
      '-out',
      out,
      '-addext',
      'subjectAltName=DNS:www.example.com,DNS:example.com,IP:10.0.0.1,IP:2001:db8::1',
    ]);
    opensslCsr = await readFile(out, 'utf8');
  });

  test('parseCsr: reads an openssl CSR, CN first and lowercased, then the SAN without duplicates', async () => {
    const csr = await parseCsr(opensslCsr);
    assert.equal(csr.commonName, 'Example.COM');
    assert.deepEqual(csr.identifiers, [
      dns('example.com'),
      dns('www.example.com'),
      ip('10.0.0.1'),
      ip('2001:db8::1'),
    ]);
    assert.deepEqual(spki(csr.publicKey), spki(opensslKey));
    assert.equal(csr.der[0], 0x30);
  });

  test('parseCsr: a CN that is not in the SAN is added to the names', async () => {
    const keyFile = join(dir, 'openssl.key');
    const out = join(dir, 'cn-only.csr');
    await run('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=cn.example', '-out', out]);
    const csr = await parseCsr(await readFile(out, 'utf8'));
    assert.deepEqual(csr.identifiers, [dns('cn.example')]);
  });

  test('parseCsr: accepts DER, PEM bytes, CRLF line ends with a BOM, and the NEW CERTIFICATE REQUEST label', async () => {
    const expected = (await parseCsr(opensslCsr)).identifiers;
    const der = (await parseCsr(opensslCsr)).der;
    const crlfBom = `\uFEFF${opensslCsr.replace(/\n/g, '\r\n')}`;
    const newLabel = opensslCsr.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    for (const input of [
      der,
      new Uint8Array(der),
      Buffer.from(opensslCsr),
      crlfBom,
      Buffer.from(crlfBom),
      newLabel,
    ]) {
      assert.deepEqual((await parseCsr(input)).identifiers, expected);
    }
  });

  test('parseCsr: a CSR whose signature was tampered with is rejected', async () => {
    const der = Buffer.from((await parseCsr(opensslCsr)).der);
    der[der.length - 3] = der[der.length - 3]! ^ 0x01;
    await assert.rejects(parseCsr(der), isInvalid(/^CSR signature does not verify$/));
  });

  test('parseCsr: a CSR whose names were changed after signing is rejected', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = await buildCsr({ key: privateKey, identifiers: [dns('good.example')] });
    const forged = Buffer.from(der.toString('latin1').replace(/good\.example/g, 'evil.example'), 'latin1');
    await assert.rejects(parseCsr(forged), isInvalid(/^CSR signature does not verify$/));
  });

  test('parseCsr: a PEM with the wrong label says which label it found', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(parseCsr(keyPem), isInvalid(/found PRIVATE KEY/));
    const der = (await parseCsr(opensslCsr)).der;
    await assert.rejects(parseCsr(encodePem('CERTIFICATE', der)), isInvalid(/found CERTIFICATE$/));
    await assert.rejects(parseCsr(opensslCsr + keyPem), isInvalid(/found PRIVATE KEY/));
    await assert.rejects(parseCsr(opensslCsr + opensslCsr), isInvalid(/expected one CSR, found 2/));
  });

  test('parseCsr: encrypted keys, empty input and garbage get clear errors', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    await assert.rejects(parseCsr(encrypted), isInvalid(/found ENCRYPTED PRIVATE KEY/));
    const legacy = privateKey
      .export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    await assert.rejects(parseCsr(legacy), isInvalid(/damaged|encrypted/));
    await assert.rejects(parseCsr(''), isInvalid(/empty/));
    await assert.rejects(parseCsr(new Uint8Array()), isInvalid(/empty/));
    await assert.rejects(parseCsr('\uFEFF\r\n'), isInvalid(/empty/));
    await assert.rejects(parseCsr('hello'), isInvalid(/neither DER nor PEM/));
    await assert.rejects(parseCsr(Buffer.from('3003020105', 'hex')), isInvalid(/not a valid PKCS#10/));
    const der = (await parseCsr(opensslCsr)).der;
    await assert.rejects(parseCsr(Buffer.concat([der, Buffer.from([0])])), isInvalid(/trailing data/));
    await assert.rejects(parseCsr(der.subarray(0, 100)), isInvalid(/truncated/));
  });
});
