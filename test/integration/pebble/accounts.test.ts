import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { jwkThumbprint } from '../../../src/crypto/jwk.ts';
import {
  AccountCredentials,
  AccountDoesNotExistError,
  AcmeClient,
  AcmeProblemError,
  BadPublicKeyError,
  generateAccountKey,
  InvalidInputError,
} from '../../../src/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
let client: AcmeClient;
before(async () => {
  pebble = await startPebble();
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

test('directory meta exposes the terms of service', async () => {
  const dir = await client.directory();
  assert.ok((dir.meta?.termsOfService ?? '').length > 0);
  assert.notEqual(dir.meta?.externalAccountRequired, true);
});

test('A14: creating an account without accepting the terms is refused before any request', async () => {
  await assert.rejects(client.createAccount({ contact: 'a@example.com' }), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.match(err.message, /terms of service/);
    return true;
  });
});

test('bad contacts are refused with the value named', async () => {
  for (const contact of [
    'http://example.com',
    'a@b@example.com',
    'x@example.com\r\nBcc: y@example.com',
    'nobody',
  ]) {
    await assert.rejects(client.createAccount({ contact, acceptTos: true }), InvalidInputError);
  }
});

test('A15: creates an account, finds it again by key, and creating again returns the same account', async () => {
  const key = await generateAccountKey('ES256');
  await assert.rejects(client.findAccount(key), AccountDoesNotExistError);
  const created = await client.createAccount({ key, contact: ['mailto:one@example.com'], acceptTos: true });
  assert.equal(created.status, 'valid');
  assert.deepEqual(created.contact, ['mailto:one@example.com']);
  const found = await client.findAccount(key);
  assert.equal(found.url, created.url);
  const again = await client.createAccount({ key, acceptTos: true });
  assert.equal(again.url, created.url);
});

test('A15: updates contacts and reads them back', async () => {
  const account = await client.createAccount({ contact: 'first@example.com', acceptTos: true });
  await account.update({ contact: ['second@example.com', 'third@example.com'] });
  await account.refresh();
  assert.deepEqual(account.contact, ['mailto:second@example.com', 'mailto:third@example.com']);
});

test('EdDSA account keys, which Pebble does not accept, fail with a typed BadPublicKeyError', async () => {
  const key = await generateAccountKey('EdDSA');
  await assert.rejects(client.createAccount({ key, acceptTos: true }), BadPublicKeyError);
});

for (const alg of ['ES256', 'ES384', 'RS256'] as const) {
  test(`account keys of type ${alg} register and sign requests`, async () => {
    const key = await generateAccountKey(alg);
    const account = await client.createAccount({ key, acceptTos: true });
    await account.refresh();
    assert.equal(account.status, 'valid');
  });
}

test('A15: key rollover moves the account to a new key type; the old key is then refused', async () => {
  const oldKey = await generateAccountKey('ES256');
  const account = await client.createAccount({ key: oldKey, acceptTos: true });
  const newKey = await generateAccountKey('RS256');
  await account.rolloverKey(newKey);
  assert.equal(account.thumbprint, jwkThumbprint(newKey));
  await account.refresh();
  assert.equal((await client.findAccount(newKey)).url, account.url);
  await assert.rejects(client.findAccount(oldKey), AccountDoesNotExistError);
});

test('credentials round-trip through JSON and act as the same account; inspect never shows the key', async () => {
  const account = await client.createAccount({ acceptTos: true });
  const json = JSON.stringify(account.toCredentials());
  assert.doesNotMatch(inspect(account.toCredentials()), /"d"|privateKey: \{/);
  const restored = client.account(AccountCredentials.fromJSON(json));
  assert.equal(restored.url, account.url);
  await restored.refresh();
  assert.equal(restored.status, 'valid');
  const other = new AcmeClient('https://127.0.0.1:1/dir');
  assert.throws(() => other.account(json), InvalidInputError);
});

test('A15: a deactivated account is refused afterwards', async () => {
  const account = await client.createAccount({ acceptTos: true });
  await account.deactivate();
  assert.equal(account.status, 'deactivated');
  await assert.rejects(account.refresh(), (err: unknown) => {
    assert.ok(err instanceof AcmeProblemError);
    assert.equal(err.status, 403);
    return true;
  });
});
