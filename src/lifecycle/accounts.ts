import type { Account } from '../acme/account.ts';
import { AccountCredentials } from '../acme/account-credentials.ts';
import type { AcmeClient } from '../acme/client.ts';
import { decodeEabKey, type ExternalAccountBinding } from '../crypto/eab.ts';
import { type AccountKeyAlgorithm, generateAccountKey } from '../crypto/keys.ts';
import { InvalidInputError } from '../errors/base.ts';
import { AccountDoesNotExistError } from '../errors/problem.ts';
import type { AccountStatus, AccountWire } from '../protocol/wire-types.ts';
import { decodeLegoAccount, encodeLegoAccount } from '../storage/lego/account-json.ts';
import { decodeAccountKeyPem, encodeAccountKeyPem } from '../storage/lego/key-pem.ts';
import { type AccountKeys, accountKeys } from '../storage/lego/layout.ts';
import type { Store } from '../storage/store.ts';

export interface AccountOptions {
  store: Store;
  client: AcmeClient;
  email: string | undefined;
  acceptTos: boolean;
  eab?: ExternalAccountBinding | undefined;
  algorithm?: AccountKeyAlgorithm;
  /** false: only load an existing account (list, revoke); true: register when missing. */
  create: boolean;
  /** Stops waiting for another process's registration. */
  signal?: AbortSignal;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/**
 * The account for this CA and email, from lego's files when present. A missing account is registered
 * with the key written first, so a crash right after registration is healed by finding the account
 * again by key (onlyReturnExisting) instead of registering a second one.
 */
export async function loadOrRegisterAccount(opts: AccountOptions): Promise<Account> {
  if (opts.eab) decodeEabKey(opts.eab); // a bad EAB key is refused before any file or request
  const saved = await loadSaved(opts);
  if (saved.account || !opts.create) return saved.account ?? findOrRegister(opts);
  // Processes starting together (a cluster, two cron jobs) would each register an account and overwrite
  // each other's key file; under the lease the second finds the first one's account.
  const lease = await opts.store.lock('account-registration', {
    ttlMs: 60_000,
    waitMs: 120_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    return (await loadSaved(opts)).account ?? (await findOrRegister(opts));
  } finally {
    await lease.release().catch(() => {});
  }
}

/** The account from its saved files alone (no request), when both its key and its URL are stored. */
async function loadSaved(opts: AccountOptions): Promise<{ account?: Account }> {
  const { store, client } = opts;
  const keys = accountKeys(client.directoryUrl, opts.email ?? '');
  const [jsonBytes, found] = await Promise.all([store.get(keys.accountJson), findAccountKey(store, keys)]);
  if (!found || !jsonBytes) return {};
  const saved = decodeLegoAccount(jsonBytes, keys.accountJson);
  if (!saved.accountUrl) return {};
  const key = decodeAccountKeyPem(text(found.bytes), found.file);
  // The account object saved with it: its status as last seen (undefined when absent or unknown).
  const state: Partial<AccountWire> = {
    ...(isAccountStatus(saved.status) ? { status: saved.status } : {}),
    ...(saved.contact ? { contact: saved.contact } : {}),
  };
  return {
    account: client.account(new AccountCredentials(client.directoryUrl, saved.accountUrl, key), state),
  };
}

function isAccountStatus(status: string | undefined): status is AccountStatus {
  return status === 'valid' || status === 'deactivated' || status === 'revoked';
}

async function findOrRegister(opts: AccountOptions): Promise<Account> {
  const { store, client } = opts;
  const keys = accountKeys(client.directoryUrl, opts.email ?? '');
  const found = await findAccountKey(store, keys);
  if (found) {
    const key = decodeAccountKeyPem(text(found.bytes), found.file);
    try {
      const found = await client.findAccount(key);
      await saveAccount(store, keys.accountJson, opts.email, found);
      return found;
    } catch (err) {
      if (!(err instanceof AccountDoesNotExistError) || !opts.create) throw err;
      return register(opts, keys.accountJson, key);
    }
  }
  if (!opts.create) {
    throw new InvalidInputError(
      `no account for ${opts.email ?? '(no email)'} at ${client.directoryUrl} in this --path; register one with "acmekit accounts register" or "run"`,
    );
  }
  const key = await generateAccountKey(opts.algorithm ?? 'ES256');
  await store.put(keys.privateKey, encodeAccountKeyPem(key), { private: true });
  return register(opts, keys.accountJson, key);
}

/**
 * The account key and the file it is in: lego v4's keys/<id>.key (what acmekit writes), else lego v5's
 * <id>.key next to account.json (see storage/lego/layout.ts), so a folder lego v5 wrote works as it is.
 */
export async function findAccountKey(
  store: Store,
  keys: AccountKeys,
): Promise<{ file: string; bytes: Uint8Array } | undefined> {
  for (const file of [keys.privateKey, keys.privateKeyV5]) {
    const bytes = await store.get(file);
    if (bytes) return { file, bytes };
  }
  return undefined;
}

async function register(
  opts: AccountOptions,
  jsonKey: string,
  key: import('node:crypto').KeyObject,
): Promise<Account> {
  const account = await opts.client.createAccount({
    key,
    ...(opts.email ? { contact: opts.email } : {}),
    acceptTos: opts.acceptTos,
    ...(opts.eab ? { externalAccountBinding: opts.eab } : {}),
  });
  await saveAccount(opts.store, jsonKey, opts.email, account);
  return account;
}

async function saveAccount(
  store: Store,
  key: string,
  email: string | undefined,
  account: Account,
): Promise<void> {
  const bytes = encodeLegoAccount({
    email: email ?? '',
    accountUrl: account.url,
    accountObject: account.state,
  });
  await store.put(key, bytes, { private: true });
}
