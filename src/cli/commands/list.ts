import { systemClock } from '../../internal/clock.ts';
import { listRecords } from '../../lifecycle/certificate-files.ts';
import { decideRenewal } from '../../lifecycle/decide.ts';
import { type CommandEnv, makeClient, makeStore, type Options } from '../context.ts';
import { exitCodes } from '../exit-codes.ts';

/** `list` / `certificates list`: each stored certificate, its dates, and when and why it renews next. */
export async function listCommand(o: Options, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const store = makeStore(o, out);
  const records = await listRecords(store);
  const useAri = !o.bool('ariDisable') && o.sources.server !== undefined;
  const client = useAri ? await makeClient(o, out) : undefined;
  const renewDays = o.num('renewDays');
  const rows = [];
  try {
    for (const record of records) {
      const state = await decideRenewal({ store, record, client, renewDays, clock: systemClock });
      if (!state) continue;
      const d = state.decision;
      rows.push({
        domain: record.domain,
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
        `${record.domain}: ${state.names.join(', ')}; valid until ${state.notAfter.toISOString()}; ${d.due ? 'due now' : `renews after ${d.renewAt.toISOString()}`} (${d.reason})`,
      );
    }
    if (rows.length === 0) out.line('no certificates stored in this --path');
    out.document({ ok: true, certificates: rows });
    return exitCodes.ok;
  } finally {
    client?.close();
  }
}
