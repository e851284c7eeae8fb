import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import { normalizeContacts } from '../acme/contacts.ts';
import { decodeEabKey, type ExternalAccountBinding } from '../crypto/eab.ts';
import { UsageError } from '../errors/usage.ts';
import { Secret } from '../internal/secret.ts';
import { mark } from '../internal/timing.ts';
import { accountIdOf } from '../storage/lego/layout.ts';
import type { Store } from '../storage/store.ts';
import type { Options } from './options.ts';

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

/** The account of --email at the client's CA (with --eab.kid/--eab.hmac when given); registered when `create`. */
export async function accountFor(
  o: Options,
  client: AcmeClient,
  store: Store,
  create: boolean,
): Promise<Account> {
  const eab = checkAccountOptions(o);
  const { loadOrRegisterAccount } = await import('../lifecycle/accounts.ts');
  const account = await loadOrRegisterAccount({
    store,
    client,
    email: o.str('email'),
    acceptTos: o.bool('acceptTos'),
    eab,
    create,
  });
  mark('account');
  return account;
}
