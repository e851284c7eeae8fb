import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CachedCertificate, SniCache } from '../../../src/server/sni-cache.ts';

function cert(id: string, names: string[], serial = id): CachedCertificate {
  return { id, names, serial, notBefore: new Date(0), notAfter: new Date(1), chainPem: '', keyPem: '' };
}

test('exact names win over a wildcard, which covers exactly one label', () => {
  const cache = new SniCache();
  cache.set(cert('wild', ['*.example.com', 'example.com']));
  cache.set(cert('www', ['www.example.com']));
  assert.equal(cache.lookup('www.example.com')?.id, 'www');
  assert.equal(cache.lookup('WWW.Example.com.')?.id, 'www');
  assert.equal(cache.lookup('api.example.com')?.id, 'wild');
  assert.equal(cache.lookup('example.com')?.id, 'wild');
  assert.equal(cache.lookup('a.b.example.com'), undefined);
  assert.equal(cache.lookup('example.org'), undefined);
});

test('replacing a certificate swaps its names at once and drops names it no longer has', () => {
  const cache = new SniCache();
  cache.set(cert('a', ['a.example', 'b.example'], '01'));
  cache.set(cert('a', ['a.example'], '02'));
  assert.equal(cache.lookup('a.example')?.serial, '02');
  assert.equal(cache.lookup('b.example'), undefined);
  assert.equal(cache.size, 1);
  cache.delete('a');
  assert.equal(cache.lookup('a.example'), undefined);
});

test('the default certificate is the configured one, else the first added', () => {
  const cache = new SniCache('b');
  cache.set(cert('a', ['a.example']));
  assert.equal(cache.defaultCertificate?.id, undefined);
  cache.set(cert('b', ['b.example']));
  assert.equal(cache.defaultCertificate?.id, 'b');
  const other = new SniCache();
  other.set(cert('x', ['x.example']));
  assert.equal(other.defaultCertificate?.id, 'x');
});
