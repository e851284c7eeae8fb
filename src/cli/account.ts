import { type Account, accountStatusRefused } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import { normalizeContacts } from '../acme/contacts.ts';
import { decodeEabKey, type ExternalAccountBinding } from '../crypto/eab.ts';
import { AccountUnusableError, type AccountUnusableReason } from '../errors/account.ts';
import { AccountDoesNotExistError } from '../errors/problem.ts';
import { UsageError } from '../errors/usage.ts';
import { Secret } from '../internal/secret.ts';
import { mark } from '../internal/timing.ts';
import type { AccountOptions, AccountSource } from '../lifecycle/accounts.ts';
import { redactUrl } from '../storage/backend-error.ts';
import { accountIdOf } from '../storage/lego/layout.ts';
import type { Store } from '../storage/store.ts';
import type { OptionName } from './flags.ts';
import type { Options } from './options.ts';

/** How a command uses the account accountFor gives it. */
export interface AccountUse {
  /** Also give an account stored as deactivated or revoked (`accounts info`, which asks the CA anyway). */
  anyStatus?: boolean;
}

/**
 * The account options, checked before anything is sent (exit 2): --email names the account folder (the
 * rule accountKeys applies) and is the account's contact (the syntax createAccount sends); --eab.kid and
 * --eab.hmac come together and the key decodes. Returns the external account binding, if any.
 */
export function checkAccountOptions(o: Options): ExternalAccountBinding | undefined {
  const email = o.str('email');
  if (email !== undefined && email !== '') {
    accountIdOf(email);
    normalizeContacts(email);
  }
  const kid = o.str('eabKid');
  const hmac = o.str('eabHmac');
  if ((kid || hmac || o.bool('eab')) && !(kid && hmac)) {
    throw new UsageError(
      'external account binding needs both --eab.kid and --eab.hmac (or ACMEKIT_EAB_KID / ACMEKIT_EAB_HMAC)',
    );
  }
  if (!kid || !hmac) return undefined;
  const eab = { kid, hmacKey: new Secret(hmac) };
  decodeEabKey(eab);
  return eab;
}

/** The lifecycle options of the account of --email at the client's CA (with --eab.kid/--eab.hmac when given). */
export function accountOptions(
  o: Options,
  client: AcmeClient,
  store: Store,
  create: boolean,
): AccountOptions {
  const eab = checkAccountOptions(o);
  return {
    store,
    client,
    email: o.str('email'),
    acceptTos: o.bool('acceptTos'),
    eab,
    create,
  };
}

/**
 * The account of --email at the client's CA (with --eab.kid/--eab.hmac when given); registered when
 * `create`. An account stored as deactivated or revoked, or one the CA no longer knows, is an
 * AccountUnusableError naming the command that registers a new one.
 */
export async function accountFor(
  o: Options,
  client: AcmeClient,
  store: Store,
  create: boolean,
  use: AccountUse = {},
): Promise<Account> {
  const opts = accountOptions(o, client, store, create);
  const { resolveAccount } = await import('../lifecycle/accounts.ts');
  let resolved: { account: Account; source: AccountSource };
  try {
    resolved = await resolveAccount(opts);
  } catch (err) {
    throw await accountError(err, o, { store, client });
  }
  mark('account');
  const { account, source } = resolved;
  if (source !== 'files') return account;
  const status = account.status;
  if (!use.anyStatus && (status === 'deactivated' || status === 'revoked')) {
    throw new AccountUnusableError(
      unusableMessage(status, account.url, 'stored', registerAgainCommand(o)),
      account.url,
      status,
    );
  }
  return account;
}

/**
 * `err` as the one-line AccountUnusableError when the CA said the account is gone (accountDoesNotExist)
 * or deactivated or revoked (the stored account is then marked so); otherwise `err` itself.
 */
export async function accountError(
  err: unknown,
  o: Options,
  at: { store: Store; client: AcmeClient; url?: string | undefined },
): Promise<unknown> {
  const reason: AccountUnusableReason | undefined =
    err instanceof AccountDoesNotExistError ? 'unknown' : accountStatusRefused(err);
  if (reason === undefined) return err;
  if (reason !== 'unknown') {
    const { markAccountStatus } = await import('../lifecycle/accounts.ts');
    await markAccountStatus({ store: at.store, client: at.client, email: o.str('email') }, reason).catch(
      () => {},
    );
  }
  const url = at.url ?? (await storedAccountUrl(o, at.store, at.client));
  return new AccountUnusableError(
    unusableMessage(reason, url, 'ca', registerAgainCommand(o)),
    url ?? '',
    reason,
    {
      cause: err,
    },
  );
}

async function storedAccountUrl(o: Options, store: Store, client: AcmeClient): Promise<string | undefined> {
  const { accountKeys } = await import('../storage/lego/layout.ts');
  const { decodeLegoAccount } = await import('../storage/lego/account-json.ts');
  const key = accountKeys(client.directoryUrl, o.str('email') ?? '').accountJson;
  const bytes = await store.get(key).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    return decodeLegoAccount(bytes, key).accountUrl;
  } catch {
    return undefined;
  }
}

/** The one line that says why the account cannot be used and which command registers a new one. */
export function unusableMessage(
  reason: AccountUnusableReason,
  url: string | undefined,
  said: 'ca' | 'stored',
  command: string,
): string {
  const account = url ? `the account ${url}` : 'the account of this key';
  const why =
    reason === 'unknown'
      ? `the CA no longer knows ${account} (accountDoesNotExist: the CA was reset or removed it)`
      : `${account} is ${reason} (${said === 'ca' ? 'the CA refuses it' : 'so marked in its account.json'})`;
  return `${why}; register a new one with: ${command}`;
}

/**
 * `acmekit accounts register --new` with the options of this command line that pick the account, its CA
 * and its storage (given on the command line, or remembered with the certificates; variables and the
 * config file apply again by themselves). Never a secret: a storage URL's password shows as ***, the
 * EAB HMAC key is left out.
 */
export function registerAgainCommand(o: Options): string {
  const words = ['acmekit', 'accounts', 'register', '--new'];
  const given = (name: OptionName): boolean => {
    const from = o.sources[name];
    return from !== undefined && (from.startsWith('-') || from === 'stored certificate settings');
  };
  const add = (name: OptionName, flag: string, value: string | undefined): void => {
    if (value !== undefined && given(name)) words.push(flag, value);
  };
  add('config', '--config', o.str('config'));
  add('server', '--server', o.str('server'));
  add('caBundle', '--ca-bundle', o.str('caBundle'));
  add('path', '--path', o.str('path'));
  const storage = o.str('storage');
  add(
    'storage',
    '--storage',
    storage && /^[a-z][a-z0-9+.-]*:\/\//i.test(storage) ? redactUrl(storage) : storage,
  );
  add('email', '--email', o.str('email'));
  add('eabKid', '--eab.kid', o.str('eabKid'));
  if (o.bool('acceptTos') && given('acceptTos')) words.push('--accept-tos');
  return words.map(shellWord).join(' ');
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
