import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as der from '../../../src/crypto/der.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('der writer', () => {
  test('OIDs encode as X.690 §8.19 and read back to the same text', () => {
    const known: Record<string, string> = {
      '2.5.4.3': '0603550403',
      '1.2.840.10045.4.3.2': '06082a8648ce3d040302',
      '1.2.840.113549.1.9.14': '06092a864886f70d01090e',
      '1.3.101.112': '06032b6570',
      '2.999.3': '0603883703',
    };
    for (const [text, enc] of Object.entries(known)) {
      assert.equal(hex(der.oid(text)), enc, text);
      assert.equal(der.readOid(der.readOne(der.oid(text))), text);
    }
    for (const text of ['0.0', '1.39.18446744073709551616', '2.40.0', '1.3.6.1.5.5.7.1.24']) {
      assert.equal(der.readOid(der.readOne(der.oid(text))), text);
    }
    for (const bad of ['', '1', '3.1', '1.40', '1.2.03', '1..2', 'a.b']) {
      assert.throws(() => der.oid(bad), /bad OID/, bad);
    }
  });

  test('INTEGER is minimal and positive: leading zeros trimmed, 00 added before a set top bit', () => {
    assert.equal(hex(der.integer(0)), '020100');
    assert.equal(hex(der.integer(127)), '02017f');
    assert.equal(hex(der.integer(128)), '02020080');
    assert.equal(hex(der.integer(256)), '02020100');
    assert.equal(hex(der.integer(bytes('000000ff'))), '020200ff');
    assert.equal(hex(der.integer(new Uint8Array(0))), '020100');
  });

  test('primitive values, context tags and short/long lengths', () => {
    assert.equal(hex(der.boolean(true)), '0101ff');
    assert.equal(hex(der.boolean(false)), '010100');
    assert.equal(hex(der.nullValue()), '0500');
    assert.equal(hex(der.utf8String('é')), '0c02c3a9');
    assert.equal(hex(der.bitString(bytes('abcd'))), '030300abcd');
    assert.equal(hex(der.octetString(bytes('01'))), '040101');
    assert.equal(hex(der.implicit(2, Buffer.from('a'))), '820161');
    assert.equal(hex(der.explicit(0, der.integer(2))), 'a003020102');
    assert.equal(hex(der.sequence()), '3000');
    for (const [n, head] of [
      [127, '047f'],
      [128, '048180'],
      [255, '0481ff'],
      [256, '04820100'],
      [70000, '0483011170'],
    ] as const) {
      const enc = der.octetString(Buffer.alloc(n, 7));
      assert.equal(hex(enc.subarray(0, head.length / 2)), head, String(n));
      const node = der.readOne(enc, der.TAG.OCTET_STRING);
      assert.equal(node.value.length, n);
      assert.ok(node.value.every((b) => b === 7));
    }
  });

  test('SET OF sorts its encoded elements (X.690 §11.6)', () => {
    assert.equal(hex(der.set(der.integer(3), der.integer(1), der.integer(2))), '3109020101020102020103');
  });
});

describe('der reader', () => {
  test('round trip: nested structure read back with children()', () => {
    const enc = der.sequence(
      der.integer(bytes('0087654321')),
      der.set(der.sequence(der.oid('2.5.4.3'), der.utf8String('example.com'))),
      der.explicit(3, der.sequence(der.boolean(true), der.nullValue())),
      der.implicit(7, bytes('c0000201')),
    );
    const top = der.readOne(enc, der.TAG.SEQUENCE);
    assert.deepEqual(top.raw, enc);
    const [int, set, ctx, ip] = der.children(top);
    assert.equal(int?.tag, der.TAG.INTEGER);
    assert.equal(hex(int!.value), '0087654321');
    const [atv] = der.children(set!);
    const [type, value] = der.children(atv!);
    assert.equal(der.readOid(type!), '2.5.4.3');
    assert.equal(value!.value.toString('utf8'), 'example.com');
    assert.equal(ctx?.tag, 0xa3);
    assert.deepEqual(
      der.children(der.children(ctx!)[0]!).map((n) => n.tag),
      [der.TAG.BOOLEAN, der.TAG.NULL],
    );
    assert.equal(ip?.tag, 0x87);
    assert.equal(hex(ip!.value), 'c0000201');
    assert.throws(() => der.children(int!), /not a constructed value/);
  });

  test('round trip: a certificate-sized structure with long-form lengths', () => {
    const items = Array.from({ length: 300 }, (_, i) => der.integer(i));
    const enc = der.sequence(...items);
    assert.deepEqual(
      der.children(der.readOne(enc)).map((n) => n.raw),
      items,
    );
  });

  test('truncated input is rejected', () => {
    const enc = der.sequence(der.octetString(Buffer.alloc(200, 1)));
    for (let cut = 0; cut < enc.length; cut += 7) {
      assert.throws(() => der.readOne(enc.subarray(0, cut)), /DER: /, `cut at ${cut}`);
    }
    assert.throws(() => der.readOne(bytes('30')), /truncated header/);
    assert.throws(() => der.readOne(bytes('3082 01')), /truncated length/);
    // The outer length fits, the inner one runs past its parent's end.
    assert.throws(() => der.children(der.readOne(bytes('3003 0405 00'))), /past the end/);
  });

  test('over-long, indefinite and non-minimal lengths are rejected', () => {
    assert.throws(() => der.readOne(bytes('0405 0102')), /past the end/);
    assert.throws(() => der.readOne(bytes('0485 0000000001 00')), /length too long/);
    assert.throws(() => der.readOne(bytes('3080 0000')), /indefinite/);
    assert.throws(() => der.readOne(bytes('0481 05 0102030405')), /non-minimal length/);
    assert.throws(() => der.readOne(bytes('0482 0005 0102030405')), /non-minimal length/);
    assert.throws(() => der.readOne(bytes('0484 ffffffff 00')), /past the end/);
  });

  test('trailing data, unexpected tags, high tag numbers and bad OIDs are rejected', () => {
    assert.throws(() => der.readOne(bytes('050000')), /trailing data/);
    assert.throws(() => der.readOne(bytes('0500'), der.TAG.SEQUENCE), /expected tag 0x30, got 0x5/);
    assert.throws(() => der.readOne(bytes('1f2200')), /high tag/);
    assert.throws(() => der.readOid(der.readOne(bytes('0600'))), /not an OID/);
    assert.throws(() => der.readOid(der.readOne(bytes('0602 2a86'))), /truncated OID/);
    assert.throws(() => der.readOid(der.readOne(bytes('0603 2a8001'))), /non-minimal OID/);
    assert.throws(() => der.readOid(der.readOne(bytes('0500'))), /not an OID/);
  });
});
