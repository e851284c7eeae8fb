import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AcmeClient } from '../../../src/acme/client.ts';
import { loadOrRegisterAccount } from '../../../src/lifecycle/accounts.ts';
import { FileStore } from '../../../src/storage/file-store.ts';

// No request is made: the account file names its URL, so nothing here reaches this address.
const SERVER = 'https://127.0.0.1:14000/dir';
const EMAIL = 'v5@example.com';
const ACCOUNT_URL = 'https://127.0.0.1:14000/my-account/1';

function pkcs8Pem(): { pem: string; jwkX: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwkX: String(publicKey.export({ format: 'jwk' }).x),
  };
}

/** A .lego folder as lego v5 leaves it: key beside account.json (PKCS#8), registration flattened with accountURL. */
async function legoV5Folder(root: string, keyPem: string): Promise<string> {
  const dir = join(root, 'accounts', '127.0.0.1_14000', EMAIL);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const account = {
    id: EMAIL,
    email: EMAIL,
    keyType: 'EC256',
    server: SERVER,
    registration: { status: 'valid', contact: [`mailto:${EMAIL}`], accountURL: ACCOUNT_URL },
  };
  await writeFile(join(dir, 'account.json'), JSON.stringify(account, null, '\t'), { mode: 0o600 });
  await writeFile(join(dir, `${EMAIL}.key`), keyPem, { mode: 0o600 });
  return dir;
}

test('an account lego v5 wrote (key beside account.json) is used as it is, nothing rewritten', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'acmekit-v5-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const key = pkcs8Pem();
  const dir = await legoV5Folder(root, key.pem);
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  const account = await loadOrRegisterAccount({
    store: new FileStore(root),
    client,
    email: EMAIL,
    acceptTos: false,
    create: false,
  });
  assert.equal(account.url, ACCOUNT_URL);
  assert.equal(account.key.export({ format: 'jwk' }).x, key.jwkX);
  assert.deepEqual((await readdir(dir)).sort(), ['account.json', `${EMAIL}.key`], 'no keys/ folder made');
});

test("when both layouts hold a key, lego v4's keys/<email>.key (what acmekit writes and rolls over) wins", async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'acmekit-v5-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = await legoV5Folder(root, pkcs8Pem().pem);
  const v4 = pkcs8Pem();
  await mkdir(join(dir, 'keys'), { mode: 0o700 });
  await writeFile(join(dir, 'keys', `${EMAIL}.key`), v4.pem, { mode: 0o600 });
  const client = new AcmeClient(SERVER);
  t.after(() => client.close());
  const account = await loadOrRegisterAccount({
    store: new FileStore(root),
    client,
    email: EMAIL,
    acceptTos: false,
    create: false,
  });
  assert.equal(account.key.export({ format: 'jwk' }).x, v4.jwkX);
});
