import type { Account } from '../../src/acme/account.ts';
import type { AcmeClient } from '../../src/acme/client.ts';
import { loadOrRegisterAccount } from '../../src/lifecycle/accounts.ts';
import type { Store } from '../../src/storage/store.ts';

/**
 * Deactivates every valid authorization of the account's orders (its `orders` list, every page), so
 * the account's next order for those names must validate them again. Pebble reuses a valid
 * authorization about 1 order in 100 even at PEBBLE_AUTHZREUSE=0 (it makes a new one only when
 * rand.Intn(100) > the percentage): a test whose later order for a name must reach the solver calls
 * this first. Returns how many it deactivated.
 */
export async function deactivateValidAuthorizations(account: Account): Promise<number> {
  await account.refresh();
  let page = account.state.orders;
  let deactivated = 0;
  while (page) {
    const res = await account.request(page, undefined);
    const { orders } = res.json() as { orders: string[] };
    for (const url of orders) {
      for (const authz of await (await account.order(url)).authorizations()) {
        if (authz.status !== 'valid') continue;
        await authz.deactivate();
        deactivated++;
      }
    }
    page = res.links.next?.[0];
  }
  return deactivated;
}

/** The same for the account (no email) that a server or the CLI keeps in `store` for `client`'s CA. */
export async function deactivateStoredAccountAuthorizations(
  store: Store,
  client: AcmeClient,
): Promise<number> {
  const options = { store, client, email: undefined, acceptTos: true, create: false };
  return deactivateValidAuthorizations(await loadOrRegisterAccount(options));
}
