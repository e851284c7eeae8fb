import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccountCredentials } from '../../../src/acme/account-credentials.ts';
import { AcmeClient } from '../../../src/acme/client.ts';
import { generateAccountKey } from '../../../src/crypto/keys.ts';
import { loadOrRegisterAccount } from '../../../src/lifecycle/accounts.ts';
import { encodeLegoAccount } from '../../../src/storage/lego/account-json.ts';
import { encodeAccountKeyPem } from '../../../src/storage/lego/key-pem.ts';
import { accountKeys } from '../../../src/storage/lego/layout.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';

// No request is made: every account here comes from credentials or files alone, so nothing reaches this address.
const SERVER = 'https://127.0.0.1:1/dir';
const EMAIL = 'status@example.com';
const ACCOUNT_URL = 'https://127.0.0.1:1/my-account/7';

/** A store holding the account as acmekit (and lego v4) saves it, with this account object. */
async function storeWith(accountObject: { status?: string; contact?: string[] }): Promise<MemoryStore> {
  const store = new MemoryStore();
  const keys = accountKeys(SERVER, EMAIL);
  await store.put(keys.privateKey, encodeAccountKeyPem(await generateAccountKey('ES256')), { private: true });
  await store.put(
    keys.accountJson,
    encodeLegoAccount({ email: EMAIL, accountUrl: ACCOUNT_URL, accountObject }),
  );
  return store;
}

async function loadStored(store: MemoryStore, client: AcmeClient) {
  return loadOrRegisterAccount({ store, client, email: EMAIL, acceptTos: false, create: false });
}

test('client.account(credentials) without a state: status undefined (not fetched), no contact', async (t) => {
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  const creds = new AccountCredentials(SERVER, ACCOUNT_URL, await generateAccountKey('ES256'));
  const account = client.account(creds);
  assert.equal(account.status, undefined);
  assert.deepEqual(account.contact, []);
});

test('client.account(credentials, state) keeps the last known account object', async (t) => {
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  const creds = new AccountCredentials(SERVER, ACCOUNT_URL, await generateAccountKey('ES256'));
  const state = { status: 'deactivated' as const, contact: ['mailto:a@example.com'] };
  const account = client.account(creds, state);
  assert.equal(account.status, 'deactivated');
  assert.deepEqual(account.contact, ['mailto:a@example.com']);
});

test('a stored account keeps the status saved in account.json (a deactivated one is not reported valid)', async (t) => {
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  const account = await loadStored(
    await storeWith({ status: 'deactivated', contact: [`mailto:${EMAIL}`] }),
    client,
  );
  assert.equal(account.url, ACCOUNT_URL);
  assert.equal(account.status, 'deactivated');
  assert.deepEqual(account.contact, [`mailto:${EMAIL}`]);
});

test('a stored account whose account.json has no status, or one acmekit does not know, has status undefined', async (t) => {
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  assert.equal((await loadStored(await storeWith({}), client)).status, undefined);
  assert.equal((await loadStored(await storeWith({ status: 'suspended' }), client)).status, undefined);
  assert.equal((await loadStored(await storeWith({ status: 'valid' }), client)).status, 'valid');
});
