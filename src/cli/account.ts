import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import { UsageError } from '../errors/usage.ts';
import { Secret } from '../internal/secret.ts';
import { mark } from '../internal/timing.ts';
import type { Store } from '../storage/store.ts';
import type { Options } from './options.ts';

/** The account of --email at the client's CA (with --eab.kid/--eab.hmac when given); registered when `create`. */
export async function accountFor(
  o: Options,
  client: AcmeClient,
  store: Store,
  create: boolean,
): Promise<Account> {
  const kid = o.str('eabKid');
  const hmac = o.str('eabHmac');
  if ((kid || hmac || o.bool('eab')) && !(kid && hmac)) {
    throw new UsageError(
      'external account binding needs both --eab.kid and --eab.hmac (or ACMEKIT_EAB_KID / ACMEKIT_EAB_HMAC)',
    );
  }
  const { loadOrRegisterAccount } = await import('../lifecycle/accounts.ts');
  const account = await loadOrRegisterAccount({
    store,
    client,
    email: o.str('email'),
    acceptTos: o.bool('acceptTos'),
    eab: kid && hmac ? { kid, hmacKey: new Secret(hmac) } : undefined,
    create,
  });
  mark('account');
  return account;
}
