import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { caPresets, resolveDirectoryUrl } from '../../../src/protocol/ca-presets.ts';
import { NoncePool } from '../../../src/protocol/nonce-pool.ts';
import { checkAcmeUrl, serverUrlProblem } from '../../../src/protocol/url-policy.ts';
import { parseOrder } from '../../../src/protocol/wire-parse.ts';

test('nonce pool hands out each nonce once, newest first, and ignores invalid values (RFC 8555 §6.5.1)', () => {
  const pool = new NoncePool(3);
  pool.add('first');
  pool.add('not base64url!');
  pool.add(['x', 'second']);
  pool.add('');
  pool.add(undefined);
  assert.equal(pool.size, 2);
  assert.equal(pool.take(), 'second');
  assert.equal(pool.take(), 'first');
  assert.equal(pool.take(), undefined);
});

test('nonce pool is bounded, dropping the oldest', () => {
  const pool = new NoncePool(2);
  for (const n of ['a', 'b', 'c']) pool.add(n);
  assert.equal(pool.take(), 'c');
  assert.equal(pool.take(), 'b');
  assert.equal(pool.take(), undefined);
});

test('plain http directories are refused except on loopback', () => {
  assert.throws(() => checkAcmeUrl('http://acme.example.com/dir', 'directory URL'), /plain http/);
  assert.throws(() => checkAcmeUrl('file:///etc/passwd', 'directory URL'), InvalidInputError);
  assert.throws(() => checkAcmeUrl('https://user:pw@ca.example/dir', 'directory URL'), /credentials/);
  assert.throws(() => checkAcmeUrl('not a url', 'directory URL'), InvalidInputError);
  for (const ok of [
    'http://127.0.0.1:14000/dir',
    'http://[::1]:1/dir',
    'http://127.8.9.10/dir',
    'https://localhost/dir',
    'https://ca.example/dir',
  ]) {
    assert.equal(checkAcmeUrl(ok, 'directory URL').href, new URL(ok).href);
  }
});

test('localhost and *.localhost are not loopback for plain http: they are looked up, maybe in DNS (RFC 6761 §6.3)', () => {
  for (const raw of [
    'http://localhost:14000/dir',
    'http://LOCALHOST/dir',
    'http://acme.localhost/dir',
    'http://127.0.0.1.localhost/dir',
    'http://a.b.localhost./dir',
  ]) {
    assert.throws(
      () => checkAcmeUrl(raw, 'directory URL'),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError, raw);
        assert.match(
          err.message,
          /plain http; .*written as such \(127\.0\.0\.1, \[::1\]\): a name, even localhost/,
        );
        return true;
      },
      raw,
    );
    assert.match(serverUrlProblem(new URL(raw), 'http://127.0.0.1:14000/dir') ?? '', /loopback address/, raw);
  }
  assert.equal(
    serverUrlProblem(new URL('http://127.0.0.1:14000/acme/new-order'), 'http://127.0.0.1:14000/dir'),
    undefined,
  );
  assert.equal(
    serverUrlProblem(new URL('http://[::1]:14000/acme/new-order'), 'http://127.0.0.1:14000/dir'),
    undefined,
  );
});

test('CA presets resolve by name; unknown names are refused with the list of presets', () => {
  assert.equal(resolveDirectoryUrl('letsencrypt-staging'), caPresets['letsencrypt-staging']);
  assert.equal(resolveDirectoryUrl('https://ca.example/dir'), 'https://ca.example/dir');
  assert.throws(
    () => resolveDirectoryUrl('letsencrpyt'),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /letsencrypt-staging/);
      return true;
    },
  );
});

test('an order status outside RFC 8555 is refused, except Pebble’s "deactivated", read as invalid', () => {
  const order = (status: string) => ({
    status,
    identifiers: [{ type: 'dns', value: 'a.example' }],
    authorizations: ['https://ca.example/authz/1'],
    finalize: 'https://ca.example/finalize/1',
  });
  const url = 'https://ca.example/order/1';
  assert.equal(parseOrder(order('deactivated'), url).status, 'invalid');
  assert.equal(parseOrder(order('ready'), url).status, 'ready');
  assert.throws(() => parseOrder(order('revoked'), url), /unknown status "revoked"/);
});
