import type { Account } from '../acme/account.ts';
import { AccountCredentials } from '../acme/account-credentials.ts';
import type { AcmeClient } from '../acme/client.ts';
import { decodeEabKey, type ExternalAccountBinding } from '../crypto/eab.ts';
import { type AccountKeyAlgorithm, generateAccountKey } from '../crypto/keys.ts';
import { InvalidInputError } from '../errors/base.ts';
import { AccountDoesNotExistError } from '../errors/problem.ts';
import type { AccountStatus, AccountWire } from '../protocol/wire-types.ts';
import { decodeLegoAccount, encodeLegoAccount, withLegoAccountStatus } from '../storage/lego/account-json.ts';
import { decodeAccountKeyPem, encodeAccountKeyPem } from '../storage/lego/key-pem.ts';
import { type AccountKeys, accountKeys } from '../storage/lego/layout.ts';
import type { Lease, Store, StoreWrite } from '../storage/store.ts';
import { putGroups } from './store-writes.ts';

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
 * Where an account came from: its saved files alone (no request; its status is the one stored with it),
 * the CA (the stored key looked up with onlyReturnExisting), or a registration just made.
 */
export type AccountSource = 'files' | 'found' | 'registered';

/**
 * The account for this CA and email, from lego's files when present. A missing account is registered
 * with the key written first, so a crash right after registration is healed by finding the account
 * again by key (onlyReturnExisting) instead of registering a second one.
 */
export async function loadOrRegisterAccount(opts: AccountOptions): Promise<Account> {
  return (await resolveAccount(opts)).account;
}

/** loadOrRegisterAccount, also saying where the account came from. */
export async function resolveAccount(
  opts: AccountOptions,
): Promise<{ account: Account; source: AccountSource }> {
  if (opts.eab) decodeEabKey(opts.eab); // a bad EAB key is refused before any file or request
  const saved = await loadSaved(opts);
  if (saved.account) return { account: saved.account, source: 'files' };
  if (!opts.create) return findOrRegister(opts);
  return underRegistrationLease(opts, async () => {
    const again = (await loadSaved(opts)).account;
    return again ? { account: again, source: 'files' } : findOrRegister(opts);
  });
}

/**
 * The stored key looked up at the CA (onlyReturnExisting), whatever account.json says, and the CA's
 * answer saved in account.json (`accounts register`). No key stored: registers when `create`. A key
 * whose account.json names no account URL (a registration cut short) is registered when the CA does
 * not know it; a key whose account the CA no longer knows fails with AccountDoesNotExistError
 * (registering again makes a new key: replaceAccount).
 */
export async function lookUpAccount(
  opts: AccountOptions,
): Promise<{ account: Account; source: AccountSource }> {
  if (opts.eab) decodeEabKey(opts.eab);
  const look = async () => {
    const jsonKey = accountKeys(opts.client.directoryUrl, opts.email ?? '').accountJson;
    const json = await opts.store.get(jsonKey);
    return findOrRegister(opts, json ? decodeLegoAccount(json, jsonKey).accountUrl : undefined);
  };
  return opts.create ? underRegistrationLease(opts, look) : look();
}

/**
 * A new key and a new account at the CA replace the stored ones (`accounts register --new`: after the
 * CA forgot the account, or it was deactivated). The old key and account.json are kept as
 * `<file>.replaced-<unix seconds>`. The files change in three steps, each one written whole before the
 * next starts, so a crash leaves files that belong together: (1) the copies, and account.json without
 * an account URL; (2) the new key; (3) account.json naming the new account. After (1) the old key
 * finds its account again by onlyReturnExisting, after (2) the new key finds the new one (a database
 * store writes (2) and (3) as one transaction). Nothing stored: a plain registration.
 */
export async function replaceAccount(
  opts: AccountOptions & { now?: () => number },
): Promise<{ account: Account; kept: string[] }> {
  if (opts.eab) decodeEabKey(opts.eab);
  const { store, client } = opts;
  const keys = accountKeys(client.directoryUrl, opts.email ?? '');
  return underRegistrationLease(opts, async (lease) => {
    const [oldJson, oldKey] = await Promise.all([store.get(keys.accountJson), findAccountKey(store, keys)]);
    if (!oldKey) return { account: (await findOrRegister(opts)).account, kept: [] };
    const extra = oldJson ? readExtra(oldJson, keys.accountJson) : {};
    const key = await generateAccountKey(opts.algorithm ?? 'ES256');
    const account = await opts.client.createAccount({
      key,
      ...(opts.email ? { contact: opts.email } : {}),
      acceptTos: opts.acceptTos,
      ...(opts.eab ? { externalAccountBinding: opts.eab } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    let seconds = Math.floor((opts.now ?? Date.now)() / 1000);
    // Two replacements within one second must not overwrite the first one's copies.
    while ((await store.get(`${oldKey.file}.replaced-${seconds}`)) !== undefined) seconds++;
    const kept: StoreWrite[] = [
      { key: `${oldKey.file}.replaced-${seconds}`, value: oldKey.bytes, private: true },
      ...(oldJson ? [{ key: `${keys.accountJson}.replaced-${seconds}`, value: oldJson, private: true }] : []),
    ];
    const email = opts.email ?? '';
    const withoutUrl = encodeLegoAccount({ email, accountUrl: undefined, accountObject: {}, extra });
    await putGroups(store, [[...kept, { key: keys.accountJson, value: withoutUrl, private: true }]], lease);
    await putGroups(
      store,
      [
        [{ key: oldKey.file, value: encodeAccountKeyPem(key), private: true }],
        [{ key: keys.accountJson, value: accountJson(email, account, extra), private: true }],
      ],
      lease,
    );
    return { account, kept: kept.map((w) => w.key) };
  });
}

/** Saves the account object the CA last sent (after update, deactivate, refresh) in account.json; other fields stay. */
export async function saveAccountState(
  opts: Pick<AccountOptions, 'store' | 'client' | 'email'>,
  account: Account,
): Promise<void> {
  await saveAccount(
    opts.store,
    accountKeys(opts.client.directoryUrl, opts.email ?? '').accountJson,
    opts.email,
    account,
  );
}

/**
 * Marks the stored account object with `status` (what the CA's refusal said, e.g. "deactivated"), so
 * later commands know without asking; nothing else in account.json changes. No account.json: nothing.
 */
export async function markAccountStatus(
  opts: Pick<AccountOptions, 'store' | 'client' | 'email'>,
  status: AccountStatus,
): Promise<void> {
  const key = accountKeys(opts.client.directoryUrl, opts.email ?? '').accountJson;
  const bytes = await opts.store.get(key);
  if (!bytes) return;
  const marked = withLegoAccountStatus(bytes, key, status);
  if (marked !== undefined && marked !== text(bytes)) await opts.store.put(key, marked, { private: true });
}

async function underRegistrationLease<T>(opts: AccountOptions, fn: (lease: Lease) => Promise<T>): Promise<T> {
  // Processes starting together (a cluster, two cron jobs) would each register an account and overwrite
  // each other's key file; under the lease the second finds the first one's account.
  const lease = await opts.store.lock('account-registration', {
    ttlMs: 60_000,
    waitMs: 120_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    return await fn(lease);
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

/** `storedUrl`: the account URL account.json names; the CA not knowing that account is then an error, not a cue to register. */
async function findOrRegister(
  opts: AccountOptions,
  storedUrl?: string,
): Promise<{ account: Account; source: AccountSource }> {
  const { store, client } = opts;
  const keys = accountKeys(client.directoryUrl, opts.email ?? '');
  const found = await findAccountKey(store, keys);
  if (found) {
    const key = decodeAccountKeyPem(text(found.bytes), found.file);
    try {
      const account = await client.findAccount(key, opts.signal);
      await saveAccount(store, keys.accountJson, opts.email, account);
      return { account, source: 'found' };
    } catch (err) {
      if (!(err instanceof AccountDoesNotExistError) || !opts.create || storedUrl !== undefined) throw err;
      return { account: await register(opts, keys.accountJson, key), source: 'registered' };
    }
  }
  if (!opts.create) {
    throw new InvalidInputError(
      `no account for ${opts.email ?? '(no email)'} at ${client.directoryUrl} in this --path; register one with "acmekit accounts register" or "run"`,
    );
  }
  const key = await generateAccountKey(opts.algorithm ?? 'ES256');
  await store.put(keys.privateKey, encodeAccountKeyPem(key), { private: true });
  return { account: await register(opts, keys.accountJson, key), source: 'registered' };
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
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  await saveAccount(opts.store, jsonKey, opts.email, account);
  return account;
}

/** Writes account.json for `account`, keeping the top-level fields another writer put there (lego v5's id, keyType, server). */
async function saveAccount(
  store: Store,
  key: string,
  email: string | undefined,
  account: Account,
): Promise<void> {
  const existing = await store.get(key);
  const extra = existing ? readExtra(existing, key) : {};
  await store.put(key, accountJson(email ?? '', account, extra), { private: true });
}

function accountJson(email: string, account: Account, extra: Record<string, unknown>): string {
  return encodeLegoAccount({ email, accountUrl: account.url, accountObject: account.state, extra });
}

/** The top-level fields of an account.json to keep when it is written again; none from a file that cannot be read (it is replaced). */
function readExtra(bytes: Uint8Array, key: string): Record<string, unknown> {
  try {
    return decodeLegoAccount(bytes, key).extra;
  } catch {
    return {};
  }
}
