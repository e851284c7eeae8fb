import { type Account, accountStatusRefused } from '../../acme/account.ts';
import type { AcmeClient } from '../../acme/client.ts';
import { normalizeContacts } from '../../acme/contacts.ts';
import { accountAlgorithm, generateAccountKey } from '../../crypto/keys.ts';
import { AccountUnusableError } from '../../errors/account.ts';
import { InvalidInputError } from '../../errors/base.ts';
import { UsageError } from '../../errors/usage.ts';
import { findAccountKey } from '../../lifecycle/accounts.ts';
import { decodeLegoAccount } from '../../storage/lego/account-json.ts';
import { encodeAccountKeyPem } from '../../storage/lego/key-pem.ts';
import { accountKeys } from '../../storage/lego/layout.ts';
import type { Store } from '../../storage/store.ts';
import {
  accountError,
  accountFor,
  accountOptions,
  registerAgainCommand,
  unusableMessage,
} from '../account.ts';
import { accountLines } from '../account-lines.ts';
import { makeClient } from '../client.ts';
import { ask, canAsk } from '../confirm.ts';
import { exitCodes } from '../exit-codes.ts';
import type { Options } from '../options.ts';
import type { Output } from '../output.ts';
import { readPrivateKeyFile } from '../private-key-file.ts';
import { type OpenedStore, openStore } from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

export type AccountsSubcommand = 'list' | 'register' | 'keyrollover' | 'info' | 'update' | 'deactivate';

/** Every account in the store (all servers): email, account URL, stored status and its account.json key. */
export async function storedAccounts(
  store: Store,
): Promise<{ email: string; url: string | undefined; status: string | undefined; file: string }[]> {
  const keys = (await store.list('accounts/')).filter((k) => k.endsWith('/account.json'));
  const found = [];
  for (const key of keys) {
    const bytes = await store.get(key);
    if (!bytes) continue;
    const a = decodeLegoAccount(bytes, key);
    found.push({ email: a.email, url: a.accountUrl, status: a.status, file: key });
  }
  return found;
}

/**
 * `accounts list|register|keyrollover` (lego v5; v4 had `list --accounts`), and `accounts
 * info|update|deactivate`, which ask the CA about the account, change its contacts, or end it.
 */
export async function accountsCommand(o: Options, ctx: CommandEnv, sub: AccountsSubcommand): Promise<number> {
  // Checked before anything is opened or sent.
  if (sub === 'deactivate' && !o.bool('yes') && !canAsk()) {
    throw new UsageError(
      'accounts deactivate ends the account for good and asks first, but no terminal is attached to answer; add --yes to confirm',
    );
  }
  const contact = sub === 'update' ? contactsOption(o) : undefined;
  if (sub !== 'register' && o.bool('newAccount')) {
    throw new UsageError(
      '--new goes with `accounts register`: it registers a new account in place of the stored one',
    );
  }
  const opened = await openStore(o, ctx.out);
  try {
    return await accounts(o, ctx, sub, opened, contact);
  } finally {
    await opened.close();
  }
}

/** `accounts update`'s --contact: the new list, checked before sending; given empty, no contact at all. */
function contactsOption(o: Options): string[] {
  if (o.sources.contact === undefined) {
    throw new UsageError(
      "accounts update needs --contact ADDRESS: the account's new contact addresses (repeat it, or --contact '' for none); --email names the stored account to update, as in every command",
    );
  }
  try {
    return normalizeContacts(o.list('contact'));
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(`--contact: ${err.message}`);
    throw err;
  }
}

async function accounts(
  o: Options,
  { out }: CommandEnv,
  sub: AccountsSubcommand,
  { store, label, fileOf }: OpenedStore,
  contact: string[] | undefined,
): Promise<number> {
  if (sub === 'list') {
    const found = await storedAccounts(store);
    for (const a of found) {
      const marked = a.status && a.status !== 'valid' ? ` [${a.status}]` : '';
      out.line(`${a.email || '(no email)'}: ${a.url}${marked} (${a.file})`);
    }
    if (found.length === 0) out.line(`no accounts in ${label}`);
    out.document({ ok: true, accounts: found });
    return exitCodes.ok;
  }
  // lego v5: `accounts keyrollover --private-key FILE` names the new account key; read it before any request.
  const keyPath = sub === 'keyrollover' ? o.str('privateKey') : undefined;
  const givenKey = keyPath ? await readPrivateKeyFile(keyPath, accountAlgorithm) : undefined;
  const client = await makeClient(o, out);
  const where = (key: string): string => fileOf(key) ?? key;
  try {
    switch (sub) {
      case 'register':
        return await register(o, out, client, store, where);
      case 'info':
        return await info(o, out, client, store);
      case 'update': {
        const account = await accountFor(o, client, store, false);
        await asAccount(o, client, store, account, () => account.update({ contact: contact ?? [] }));
        await saveState(o, client, store, account);
        out.line(`account ${account.url}: contact ${account.contact.length ? 'updated' : 'removed'}`);
        printAccount(out, account);
        return exitCodes.ok;
      }
      case 'deactivate':
        return await deactivate(o, out, client, store, where);
      case 'keyrollover': {
        const account = await accountFor(o, client, store, true);
        const newKey = givenKey ?? (await generateAccountKey('ES256'));
        const keys = accountKeys(client.directoryUrl, o.str('email') ?? '');
        // Where the key is now: lego v5 keeps it next to account.json, v4 (and acmekit) under keys/.
        const keyFile = (await findAccountKey(store, keys))?.file ?? keys.privateKey;
        // Save the new key before the CA switches to it, so a crash in between cannot lose the account.
        await store.put(`${keyFile}.next`, encodeAccountKeyPem(newKey), { private: true });
        await asAccount(o, client, store, account, () => account.rolloverKey(newKey));
        await store.put(keyFile, encodeAccountKeyPem(newKey), { private: true });
        await store.delete(`${keyFile}.next`);
        out.line(`account ${account.url}: key rolled over`);
        out.document({ ok: true, url: account.url, account: { url: account.url } });
        return exitCodes.ok;
      }
      default:
        throw new UsageError(`unknown accounts subcommand ${String(sub)}`);
    }
  } finally {
    client.close();
  }
}

/** Runs a request of `account`; the CA's refusal of the account itself becomes the one-line AccountUnusableError. */
async function asAccount<T>(
  o: Options,
  client: AcmeClient,
  store: Store,
  account: Account,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw await accountError(err, o, { store, client, url: account.url });
  }
}

async function saveState(o: Options, client: AcmeClient, store: Store, account: Account): Promise<void> {
  const { saveAccountState } = await import('../../lifecycle/accounts.ts');
  await saveAccountState({ store, client, email: o.str('email') }, account);
}

/** The CA's account object: text lines, or with --json `{ ok, url, account }` (the whole object). */
function printAccount(out: Output, account: Account, extra: Record<string, unknown> = {}): void {
  for (const line of accountLines(account.url, account.state).slice(1)) out.line(line);
  out.document({ ok: true, url: account.url, ...extra, account: account.state });
}

/**
 * `accounts register`: with a stored key, what the CA answers for it (onlyReturnExisting), saved; with
 * none, a registration; with --new, a new key and account in place of the stored ones.
 */
async function register(
  o: Options,
  out: Output,
  client: AcmeClient,
  store: Store,
  where: (key: string) => string,
): Promise<number> {
  const opts = accountOptions(o, client, store, true);
  const lifecycle = await import('../../lifecycle/accounts.ts');
  if (o.bool('newAccount')) {
    const { account, kept } = await lifecycle.replaceAccount(opts);
    const keptLine = kept.length ? `; the previous files are kept as ${kept.map(where).join(', ')}` : '';
    out.line(`account ${account.url} registered with a new key${keptLine}`);
    printAccount(out, account, { created: true, kept: kept.map(where) });
    return exitCodes.ok;
  }
  let found: Awaited<ReturnType<typeof lifecycle.lookUpAccount>>;
  try {
    found = await lifecycle.lookUpAccount(opts);
  } catch (err) {
    throw await accountError(err, o, { store, client });
  }
  const { account, source } = found;
  const status = account.status;
  if (status === 'deactivated' || status === 'revoked') {
    await lifecycle.markAccountStatus(opts, status);
    throw new AccountUnusableError(
      unusableMessage(status, account.url, 'ca', registerAgainCommand(o)),
      account.url,
      status,
    );
  }
  out.line(`account ${account.url} ${source === 'registered' ? 'registered' : 'found at the CA'}`);
  printAccount(out, account, { created: source === 'registered' });
  return exitCodes.ok;
}

/** `accounts info`: the account object as the CA answers a POST-as-GET of the account URL now. */
async function info(o: Options, out: Output, client: AcmeClient, store: Store): Promise<number> {
  const account = await accountFor(o, client, store, false, { anyStatus: true });
  try {
    await account.refresh();
  } catch (err) {
    const status = accountStatusRefused(err);
    if (status === undefined) throw await accountError(err, o, { store, client, url: account.url });
    // The CA refuses every request of a deactivated account, this one too: its refusal is the answer.
    const { markAccountStatus } = await import('../../lifecycle/accounts.ts');
    await markAccountStatus({ store, client, email: o.str('email') }, status);
    const said = (err as Error).message;
    out.line(`account ${account.url}`);
    out.line(`  status: ${status} (the CA refuses its requests: ${said})`);
    out.line(`  register a new one with: ${registerAgainCommand(o)}`);
    out.document({ ok: true, url: account.url, account: { status }, refused: said });
    return exitCodes.ok;
  }
  await saveState(o, client, store, account);
  out.line(`account ${account.url}`);
  printAccount(out, account);
  return exitCodes.ok;
}

/** `accounts deactivate`: asks first (unless --yes), ends the account at the CA, keeps its files marked deactivated. */
async function deactivate(
  o: Options,
  out: Output,
  client: AcmeClient,
  store: Store,
  where: (key: string) => string,
): Promise<number> {
  const account = await accountFor(o, client, store, false);
  if (!o.bool('yes')) {
    const who = o.str('email') ?? 'no email';
    const yes = await ask(
      `Deactivate the account ${account.url} (${who}) at ${client.directoryUrl}? The CA will refuse it for good. [y/N] `,
    );
    if (!yes) {
      out.line(`account ${account.url}: not deactivated`);
      out.document({ ok: false, url: account.url, deactivated: false });
      return exitCodes.failure;
    }
  }
  await asAccount(o, client, store, account, () => account.deactivate());
  await saveState(o, client, store, account);
  const file = where(accountKeys(client.directoryUrl, o.str('email') ?? '').accountJson);
  out.line(
    `account ${account.url}: deactivated; its files are kept (${file} says deactivated); register a new one with: ${registerAgainCommand(o)}`,
  );
  printAccount(out, account);
  return exitCodes.ok;
}
