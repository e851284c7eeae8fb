import { systemClock } from '../../internal/clock.ts';
import { isoTime } from '../../internal/iso-time.ts';
import { certificateFiles, listRecordEntries } from '../../lifecycle/certificate-files.ts';
import { decideRenewal } from '../../lifecycle/decide.ts';
import { makeClient } from '../client.ts';
import { exitCodes } from '../exit-codes.ts';
import type { Options } from '../options.ts';
import { openStore } from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

/** `list` / `certificates list`: each stored certificate, its dates, and when and why it renews next. */
export async function listCommand(o: Options, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const { store, label, close } = await openStore(o, out);
  const useAri = !o.bool('ariDisable') && o.sources.server !== undefined;
  let client: Awaited<ReturnType<typeof makeClient>> | undefined;
  const renewDays = o.bool('dynamic') ? undefined : o.num('renewDays');
  const rows = [];
  try {
    // lego v4's `list --accounts`: the accounts first, as `accounts list` prints them.
    const accounts =
      o.bool('listAccounts') && !o.bool('listNames')
        ? await (await import('./accounts.ts')).storedAccounts(store)
        : undefined;
    for (const a of accounts ?? []) out.line(`account ${a.email || '(no email)'}: ${a.url} (${a.file})`);
    if (accounts?.length === 0) out.line(`no accounts in ${label}`);
    const entries = await listRecordEntries(store);
    if (o.bool('listNames')) {
      // lego v4's `list --names`: the main name of each certificate, one per line, nothing else.
      const names = entries.map((e) => e.record.domain);
      for (const name of names) out.line(name);
      out.document({ ok: true, names });
      return exitCodes.ok;
    }
    client = useAri ? await makeClient(o, out) : undefined;
    for (const { record, fileName } of entries) {
      const files = certificateFiles(record.domain, fileName);
      const state = await decideRenewal({ store, files, record, client, renewDays, clock: systemClock });
      if (!state) continue;
      const d = state.decision;
      rows.push({
        domain: record.domain,
        fileName,
        names: state.names,
        issuer: state.issuer,
        notBefore: state.notBefore.toISOString(),
        notAfter: state.notAfter.toISOString(),
        renewAt: d.renewAt.toISOString(),
        due: d.due,
        reason: d.reason,
        ...(d.ariWindow
          ? { ariWindow: { start: d.ariWindow.start.toISOString(), end: d.ariWindow.end.toISOString() } }
          : {}),
        ...(d.explanationUrl ? { explanationUrl: d.explanationUrl } : {}),
        ...(record.acmekit?.challenge ? { challenge: record.acmekit.challenge.type } : {}),
        ...(record.acmekit?.lastRenewalAttempt ? { lastFailure: record.acmekit.lastRenewalAttempt } : {}),
      });
      out.line(
        `${record.domain}: ${state.names.join(', ')}; valid until ${isoTime(state.notAfter)}; ${d.due ? 'due now' : `renews after ${isoTime(d.renewAt)}`} (${d.reason})`,
      );
    }
    if (rows.length === 0) out.line(`no certificates stored in ${label}`);
    out.document({ ok: true, ...(accounts ? { accounts } : {}), certificates: rows });
    return exitCodes.ok;
  } finally {
    client?.close();
    await close();
  }
}
