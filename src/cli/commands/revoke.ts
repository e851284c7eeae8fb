import { normalizeIdentifiers } from '../../acme/identifiers.ts';
import { UsageError } from '../../errors/usage.ts';
import { type CertificateFiles, locateCertificate } from '../../lifecycle/certificate-files.ts';
import { archiveKey } from '../../storage/lego/layout.ts';
import type { Store } from '../../storage/store.ts';
import { accountError, accountFor } from '../account.ts';
import { makeClient } from '../client.ts';
import { exitCodes } from '../exit-codes.ts';
import type { Options } from '../options.ts';
import { openStore } from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

/** `revoke` / `certificates revoke`: revokes the stored certificate of each --domains, then archives its files. */
export async function revokeCommand(o: Options, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const domains = o.list('domains');
  if (domains.length === 0)
    throw new UsageError('revoke needs --domains: the main name of the certificate to revoke');
  const names = normalizeIdentifiers(domains).map((i) => i.value);
  // Each name as typed, for the file name lego gives it (case kept); the first spelling of a name wins.
  const typed = new Map<string, string>();
  for (const d of domains) {
    const name = normalizeIdentifiers([d])[0]!.value;
    if (!typed.has(name)) typed.set(name, d);
  }
  const fileName = o.str('filename');
  if (fileName !== undefined && names.length > 1) {
    throw new UsageError(
      '--filename names the files of one certificate; revoke one --domains at a time with it',
    );
  }
  const reason = o.num('reason');
  if (reason !== undefined && ![0, 1, 3, 4, 5].includes(reason)) {
    throw new UsageError(
      `--reason ${reason}: use 0 (unspecified), 1 (keyCompromise), 3, 4 (superseded) or 5`,
    );
  }
  const { store, label, close } = await openStore(o, out);
  const results = [];
  try {
    const client = await makeClient(o, out);
    try {
      const account = await accountFor(o, client, store, false);
      for (const domain of names) {
        // Under --filename, else the domain's own name, else the one other name its record is under.
        const { files } = await locateCertificate(store, domain, fileName, typed.get(domain));
        const pem = await store.get(files.crt);
        if (!pem) throw new UsageError(`no certificate for ${domain} in ${label} (looked for ${files.crt})`);
        await account
          .revoke(Buffer.from(pem).toString('utf8'), reason !== undefined ? { reason } : {})
          .catch(async (err: unknown) => {
            throw await accountError(err, o, { store, client, url: account.url });
          });
        let archived: string[] = [];
        if (!o.bool('keep')) archived = await archive(store, files);
        out.line(`${domain}: revoked${archived.length ? `; files moved to archives/` : ''}`);
        results.push({ domain, revoked: true, archived });
      }
    } finally {
      client.close();
    }
  } finally {
    await close();
  }
  out.document({ ok: true, certificates: results });
  return exitCodes.ok;
}

/** Moves the certificate's files under archives/ with a timestamp, as lego does unless --keep. */
async function archive(store: Store, files: CertificateFiles): Promise<string[]> {
  const at = new Date();
  const moved: string[] = [];
  for (const key of [files.crt, files.issuer, files.key, files.json, files.pem, files.pfx]) {
    const bytes = await store.get(key);
    if (!bytes) continue;
    const target = archiveKey(key, at); // lego's archives/<unix seconds>.<file>
    await store.put(target, bytes, { private: key !== files.crt && key !== files.issuer });
    await store.delete(key);
    moved.push(target);
  }
  return moved;
}
