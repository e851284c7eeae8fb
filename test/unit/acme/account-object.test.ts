import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountStatusRefused } from '../../../src/acme/account.ts';
import { AcmeClient } from '../../../src/acme/client.ts';
import { generateAccountKey } from '../../../src/crypto/keys.ts';
import { BadServerResponseError } from '../../../src/errors/base.ts';
import { problemToError } from '../../../src/errors/problem.ts';
import { parseAccount } from '../../../src/protocol/wire-parse.ts';

const URL_ = 'https://ca.example/acme/acct/1';

test("parseAccount keeps every field the CA sent, the RFC's checked and the others as sent", () => {
  const sent = JSON.parse(`{
    "key": { "kty": "EC", "crv": "P-256", "x": "x", "y": "y" },
    "contact": ["mailto:a@example.com"],
    "initialIp": "192.0.2.7",
    "createdAt": "2024-05-01T10:00:00Z",
    "status": "valid",
    "orders": "https://ca.example/acme/acct/1/orders",
    "__proto__": { "polluted": true }
  }`);
  const account = parseAccount(sent, URL_);
  assert.equal(account.status, 'valid');
  assert.deepEqual(account.contact, ['mailto:a@example.com']);
  assert.equal(account.createdAt, '2024-05-01T10:00:00Z');
  assert.equal(account.initialIp, '192.0.2.7');
  assert.deepEqual(account.key, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' });
  // A "__proto__" field is a field like the others, never the object's prototype.
  assert.equal(Object.getPrototypeOf(account), Object.prototype);
  assert.equal((account as Record<string, unknown>).polluted, undefined);
  assert.ok(Object.hasOwn(account, '__proto__'));
  assert.throws(() => parseAccount({ status: 'sleeping' }, URL_), BadServerResponseError);
  assert.throws(() => parseAccount({ status: 'valid', contact: 'a' }, URL_), BadServerResponseError);
});

test('an account made from saved state exposes that state, other fields included', async (t) => {
  const client = new AcmeClient('https://127.0.0.1:1/dir');
  t.after(() => client.close());
  const key = await generateAccountKey('ES256');
  const state = parseAccount({ status: 'valid', createdAt: '2024-05-01T10:00:00Z' }, URL_);
  const account = client.account(
    { directoryUrl: client.directoryUrl, accountUrl: URL_, privateKey: key.export({ format: 'jwk' }) },
    state,
  );
  assert.equal(account.url, URL_);
  assert.equal(account.state.createdAt, '2024-05-01T10:00:00Z');
});

const unauthorized = (detail: string) =>
  problemToError({ type: 'urn:ietf:params:acme:error:unauthorized', detail, status: 403 }, {});

test('accountStatusRefused reads the status from the refusals Boulder and Pebble send, and nothing else', () => {
  assert.equal(
    accountStatusRefused(unauthorized('Account is not valid, has status "deactivated"')),
    'deactivated',
  );
  assert.equal(
    accountStatusRefused(
      unauthorized('Unable to validate JWS :: Account is not valid, has status "revoked"'),
    ),
    'revoked',
  );
  assert.equal(accountStatusRefused(unauthorized('Account has been deactivated')), 'deactivated');
  assert.equal(
    accountStatusRefused(unauthorized('An account with the provided public key exists but is deactivated')),
    'deactivated',
  );
  // Other refusals, even when a status word appears in them, say nothing about the account's status.
  assert.equal(
    accountStatusRefused(unauthorized('requester account did not request the certificate being revoked')),
    undefined,
  );
  assert.equal(accountStatusRefused(unauthorized('authorization has been deactivated')), undefined);
  assert.equal(
    accountStatusRefused(
      problemToError(
        { type: 'urn:ietf:params:acme:error:malformed', detail: 'Account has been deactivated' },
        {},
      ),
    ),
    undefined,
  );
  assert.equal(accountStatusRefused(new Error('Account has been deactivated')), undefined);
});
