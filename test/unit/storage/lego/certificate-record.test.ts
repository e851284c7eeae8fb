import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CertificateRecord,
  decodeCertificateRecord,
  encodeCertificateRecord,
} from '../../../../src/storage/lego/certificate-record.ts';
import { corruptFile } from '../../../support/corrupt-file.ts';

const PATH = 'certificates/_.example.com.json';

/** What lego v4 writes: json.MarshalIndent(certificate.Resource, "", "\t") (certificate/certificates.go). */
const LEGO_V4_JSON = `{
\t"domain": "*.example.com",
\t"certUrl": "https://127.0.0.1:14000/certZ/5d2c8a3e1b",
\t"certStableUrl": "https://127.0.0.1:14000/certZ/5d2c8a3e1b"
}`;

/** lego v5 (cmd/internal/storage/testdata/certificates/example.com.json): "id" and "domains", no "domain". */
const LEGO_V5_JSON = `{
\t"id": "example.com",
\t"domains": [
\t\t"example.com"
\t],
\t"certUrl": "https://acme.example.org/cert/123",
\t"certStableUrl": "https://acme.example.org/cert/456"
}`;

const FULL: CertificateRecord = {
  domain: '*.xn--bcher-kva.example',
  certUrl: 'https://127.0.0.1:14000/certZ/abc',
  certStableUrl: 'https://127.0.0.1:14000/certZ/abc',
  acmekit: {
    version: 1,
    identifiers: ['*.xn--bcher-kva.example', 'xn--bcher-kva.example', '2001:db8::1'],
    server: 'https://127.0.0.1:14000/dir',
    email: 'admin@example.com',
    keyType: 'ec256',
    challenge: {
      type: 'dns-01',
      dns: { providers: [{ provider: 'rfc2136', domains: ['example.com'] }], resolvers: ['127.0.0.1:53'] },
    },
    profile: 'shortlived',
    preferredChain: 'Pebble Root <1>',
    mustStaple: false,
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-01-07T00:00:00.000Z',
    serial: '03a1f4c2',
    issuer: 'Pebble Intermediate CA 1a2b3c',
    ariCertId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.A6H0wg',
    lastRenewalAttempt: {
      at: '2026-01-05T10:00:00.000Z',
      error: 'rate limited <until> tomorrow & later',
      failures: 2,
    },
  },
};

describe('certificate record (.json)', () => {
  it('reads a lego-only file with acmekit undefined', () => {
    const r = decodeCertificateRecord(Buffer.from(LEGO_V4_JSON), PATH);
    assert.deepEqual(r, {
      domain: '*.example.com',
      certUrl: 'https://127.0.0.1:14000/certZ/5d2c8a3e1b',
      certStableUrl: 'https://127.0.0.1:14000/certZ/5d2c8a3e1b',
      acmekit: undefined,
    });
  });

  it('writes a lego-only record exactly as lego does', () => {
    assert.equal(encodeCertificateRecord(decodeCertificateRecord(LEGO_V4_JSON, PATH)), LEGO_V4_JSON);
  });

  it('reads lego v5 files (main domain from "domains") and keeps their fields', () => {
    const r = decodeCertificateRecord(LEGO_V5_JSON, PATH);
    assert.equal(r.domain, 'example.com');
    assert.equal(r.certStableUrl, 'https://acme.example.org/cert/456');
    assert.deepEqual(r.extra, { id: 'example.com', domains: ['example.com'] });
    const again = JSON.parse(encodeCertificateRecord(r));
    assert.equal(again.id, 'example.com');
    assert.deepEqual(again.domains, ['example.com']);
    assert.equal(decodeCertificateRecord('{"id":"example.org"}', PATH).domain, 'example.org');
  });

  it('round-trips every acmekit field', () => {
    const text = encodeCertificateRecord(FULL);
    assert.deepEqual(decodeCertificateRecord(text, PATH), FULL);
    const parsed = JSON.parse(text);
    assert.deepEqual(Object.keys(parsed), ['domain', 'certUrl', 'certStableUrl', 'acmekit']);
    assert.match(text, /^\{\n\t"domain": "\*\.xn--bcher-kva\.example",\n\t"certUrl": /);
    assert.ok(text.includes('\\u003cuntil\\u003e tomorrow \\u0026 later'), 'Go-style escaping');
    assert.ok(!text.endsWith('\n'), 'MarshalIndent writes no trailing newline');
  });

  it('keeps unknown fields (lego additions, newer acmekit fields) through read-modify-write', () => {
    const withExtras = JSON.parse(encodeCertificateRecord(FULL));
    withExtras.origin = 'renew';
    withExtras.accountRef = 'admin@example.com';
    withExtras.futureLego = { nested: [1, 2, { x: true }] };
    withExtras.acmekit.futureAcmekit = 'kept';
    withExtras.acmekit.challenge.futureOption = 7;
    const r = decodeCertificateRecord(JSON.stringify(withExtras), PATH);
    assert.ok(r.acmekit);
    r.certUrl = 'https://127.0.0.1:14000/certZ/new';
    r.acmekit.lastRenewalAttempt = { at: '2026-01-06T00:00:00.000Z', failures: 0 };
    const back = JSON.parse(encodeCertificateRecord(r));
    assert.equal(back.certUrl, 'https://127.0.0.1:14000/certZ/new');
    assert.equal(back.origin, 'renew');
    assert.equal(back.accountRef, 'admin@example.com');
    assert.deepEqual(back.futureLego, { nested: [1, 2, { x: true }] });
    assert.equal(back.acmekit.futureAcmekit, 'kept');
    assert.equal(back.acmekit.challenge.futureOption, 7);
    assert.deepEqual(back.acmekit.lastRenewalAttempt, { at: '2026-01-06T00:00:00.000Z', failures: 0 });
  });

  it('accepts a record written before the first certificate (pending order, no validity yet)', () => {
    const pending: CertificateRecord = {
      domain: 'example.com',
      certUrl: '',
      certStableUrl: '',
      acmekit: {
        version: 1,
        identifiers: ['example.com'],
        server: 'https://127.0.0.1:14000/dir',
        keyType: 'rsa2048',
        challenge: { type: 'http-01', webroot: '/var/www/html' },
        csr: true,
        pending: { orderUrl: 'https://127.0.0.1:14000/my-order/7', since: '2026-01-01T00:00:00.000Z' },
      },
    };
    assert.deepEqual(decodeCertificateRecord(encodeCertificateRecord(pending), PATH), pending);
  });

  it('keeps the challenge settings of each type', () => {
    for (const challenge of [
      { type: 'http-01' as const, httpAddress: ':8080' },
      { type: 'tls-alpn-01' as const, tlsAddress: '127.0.0.1:5001' },
      {
        type: 'dns-01' as const,
        dns: { providers: [{ provider: 'cloudflare' }], propagationWaitMs: 30_000 },
      },
    ]) {
      const r = { ...FULL, acmekit: { ...FULL.acmekit!, challenge } };
      assert.deepEqual(
        decodeCertificateRecord(encodeCertificateRecord(r), PATH).acmekit?.challenge,
        challenge,
      );
    }
  });

  it('refuses broken files with CorruptFileError naming the file', () => {
    type Obj = Record<string, unknown>;
    type Editable = { acmekit: Obj & { challenge: Obj; lastRenewalAttempt: Obj } };
    const good: Editable = JSON.parse(encodeCertificateRecord(FULL));
    const variant = (change: (o: Editable) => void): string => {
      const o = structuredClone(good);
      change(o);
      return JSON.stringify(o);
    };
    const cases: [string | Uint8Array, RegExp][] = [
      ['', /JSON/],
      [LEGO_V4_JSON.slice(0, 40), /JSON/],
      ['"example.com"', /object/],
      [new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), /JSON/],
      ['{"certUrl":"https://ca.example/c"}', /domain/],
      ['{"domain":"","certUrl":""}', /domain/],
      ['{"domain":"example.com","certUrl":5}', /certUrl/],
      ['{"domain":"example.com","certStableUrl":[]}', /certStableUrl/],
      ['{"domain":"example.com","acmekit":"yes"}', /"acmekit"/],
      [variant((o) => delete o.acmekit.version), /acmekit\.version/],
      [variant((o) => (o.acmekit.version = 2)), /newer acmekit/],
      [variant((o) => (o.acmekit.identifiers = [])), /identifiers/],
      [variant((o) => (o.acmekit.identifiers = ['a', 3])), /identifiers/],
      [variant((o) => delete o.acmekit.server), /acmekit\.server/],
      [variant((o) => (o.acmekit.keyType = 'rsa8192')), /keyType/],
      [variant((o) => (o.acmekit.challenge = { type: 'dns-02' })), /challenge\.type/],
      [variant((o) => (o.acmekit.challenge.webroot = 1)), /challenge\.webroot/],
      [variant((o) => (o.acmekit.challenge.dns = { providers: [] })), /challenge\.dns\.providers/],
      [
        variant((o) => (o.acmekit.challenge.dns = { providers: [{ provider: 'x' }], resolvers: [1] })),
        /challenge\.dns\.resolvers/,
      ],
      [variant((o) => (o.acmekit.notAfter = 'yesterday')), /notAfter/],
      [variant((o) => (o.acmekit.serial = 123)), /serial/],
      [variant((o) => (o.acmekit.mustStaple = 'no')), /mustStaple/],
      [variant((o) => (o.acmekit.lastRenewalAttempt.failures = -1)), /failures/],
      [variant((o) => delete o.acmekit.lastRenewalAttempt.at), /lastRenewalAttempt\.at/],
      [variant((o) => (o.acmekit.pending = { since: '2026-01-01T00:00:00Z' })), /pending\.orderUrl/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => decodeCertificateRecord(input, PATH), corruptFile(PATH, pattern), String(input));
    }
  });
});
