import { accountAlgorithm, generateAccountKey } from '../../crypto/keys.ts';
import { findAccountKey } from '../../lifecycle/accounts.ts';
import { decodeLegoAccount } from '../../storage/lego/account-json.ts';
import { encodeAccountKeyPem } from '../../storage/lego/key-pem.ts';
import { accountKeys } from '../../storage/lego/layout.ts';
import type { Store } from '../../storage/store.ts';
import { accountFor } from '../account.ts';
import { makeClient } from '../client.ts';
import { exitCodes } from '../exit-codes.ts';
import type { Options } from '../options.ts';
import { readPrivateKeyFile } from '../private-key-file.ts';
import { type OpenedStore, openStore } from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

/** Every account in the store (all servers): email, account URL and its account.json key. */
export async function storedAccounts(
  store: Store,
): Promise<{ email: string; url: string | undefined; file: string }[]> {
  const keys = (await store.list('accounts/')).filter((k) => k.endsWith('/account.json'));
  const found = [];
  for (const key of keys) {
    const bytes = await store.get(key);
    if (!bytes) continue;
    const a = decodeLegoAccount(bytes, key);
    found.push({ email: a.email, url: a.accountUrl, file: key });
  }
  return found;
}

/** `accounts list|register|keyrollover` (lego v5; v4 had `list --accounts`). */
export async function accountsCommand(
  o: Options,
  ctx: CommandEnv,
  sub: 'list' | 'register' | 'keyrollover',
): Promise<number> {
  const opened = await openStore(o, ctx.out);
  try {
    return await accounts(o, ctx, sub, opened);
  } finally {
    await opened.close();
  }
}

async function accounts(
  o: Options,
  { out }: CommandEnv,
  sub: 'list' | 'register' | 'keyrollover',
  { store, label }: OpenedStore,
): Promise<number> {
  if (sub === 'list') {
    const found = await storedAccounts(store);
    for (const a of found) out.line(`${a.email || '(no email)'}: ${a.url} (${a.file})`);
    if (found.length === 0) out.line(`no accounts in ${label}`);
    out.document({ ok: true, accounts: found });
    return exitCodes.ok;
  }
  // lego v5: `accounts keyrollover --private-key FILE` names the new account key; read it before any request.
  const keyPath = sub === 'keyrollover' ? o.str('privateKey') : undefined;
  const givenKey = keyPath ? await readPrivateKeyFile(keyPath, accountAlgorithm) : undefined;
  const client = await makeClient(o, out);
  try {
    const account = await accountFor(o, client, store, true);
    if (sub === 'register') {
      out.line(`account ${account.url} ready`);
      out.document({
        ok: true,
        account: { url: account.url, status: account.status, contact: account.contact },
      });
      return exitCodes.ok;
    }
    const newKey = givenKey ?? (await generateAccountKey('ES256'));
    const keys = accountKeys(client.directoryUrl, o.str('email') ?? '');
    // Where the key is now: lego v5 keeps it next to account.json, v4 (and acmekit) under keys/.
    const keyFile = (await findAccountKey(store, keys))?.file ?? keys.privateKey;
    // Save the new key before the CA switches to it, so a crash in between cannot lose the account.
    await store.put(`${keyFile}.next`, encodeAccountKeyPem(newKey), { private: true });
    await account.rolloverKey(newKey);
    await store.put(keyFile, encodeAccountKeyPem(newKey), { private: true });
    await store.delete(`${keyFile}.next`);
    out.line(`account ${account.url}: key rolled over`);
    out.document({ ok: true, account: { url: account.url } });
    return exitCodes.ok;
  } finally {
    client.close();
  }
}
