import { readFile } from 'node:fs/promises';
import type { Account } from '../../acme/account.ts';
import { checkChallengeTypes, normalizeIdentifiers } from '../../acme/identifiers.ts';
import type { Solver } from '../../acme/solver.ts';
import { InvalidInputError } from '../../errors/base.ts';
import { systemClock } from '../../internal/clock.ts';
import { certificateFileKeys, listRecords, readRecord } from '../../lifecycle/certificate-files.ts';
import type { CertificateRecord, ChallengeRecord } from '../../lifecycle/certificate-record.ts';
import { decideRenewal } from '../../lifecycle/decide.ts';
import { hookEnvironment, runHook } from '../../lifecycle/hooks.ts';
import { obtainAndSave, recordFailure } from '../../lifecycle/obtain-and-save.ts';
import type { Store } from '../../storage/store.ts';
import {
  accountFor,
  type CommandEnv,
  keyTypeOption,
  makeClient,
  type Options,
  solversFor,
  solversFromRecord,
} from '../context.ts';
import { exitCodeFor, exitCodes } from '../exit-codes.ts';
import { nextStep } from '../next-step.ts';
import type { Output } from '../output.ts';
import { type OpenedStore, openStore } from '../storage-url.ts';
import { UsageError } from '../usage-error.ts';

interface Target {
  names: string[];
  csr?: Uint8Array;
  record?: CertificateRecord;
}

interface Outcome {
  domain: string;
  names: string[];
  status: 'obtained' | 'renewed' | 'not-due' | 'failed' | 'backoff';
  notAfter?: string;
  renewAt?: string;
  reason?: string;
  files?: Record<string, string>;
  error?: { code: string; message: string; next?: string };
  /** The CA's explanation (RFC 9773 explanationURL) when it asked for this renewal. */
  explanationUrl?: string;
  hookError?: string;
}

async function readCsr(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read --csr ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function targetsFrom(o: Options, store: Store, mode: 'run' | 'renew'): Promise<Target[]> {
  const domains = o.list('domains');
  const csrPath = o.str('csr');
  if (domains.length > 0 || csrPath) {
    const csr = csrPath ? await readCsr(csrPath) : undefined;
    let names = domains.length > 0 ? normalizeIdentifiers(domains).map((i) => i.value) : [];
    if (csr) {
      const { parseCsr } = await import('../../crypto/csr.ts');
      const parsed = await parseCsr(csr);
      const csrNames = normalizeIdentifiers(parsed.identifiers).map((i) => i.value);
      if (names.length > 0 && [...names].sort().join() !== [...csrNames].sort().join()) {
        throw new UsageError(
          `--csr names (${csrNames.join(', ')}) differ from --domains (${names.join(', ')})`,
        );
      }
      names = names.length > 0 ? names : csrNames;
    }
    const record = await readRecord(store, names[0]!);
    return [{ names, ...(csr ? { csr } : {}), ...(record ? { record } : {}) }];
  }
  if (mode === 'run')
    throw new UsageError('run needs --domains (or --csr): the names to put in the certificate');
  const records = await listRecords(store);
  return records.map((record) => ({ names: record.acmekit?.identifiers ?? [record.domain], record }));
}

/** `run` (lego v5: obtain, or renew when due) and `renew` (renew what is due). */
export async function obtainCommand(o: Options, ctx: CommandEnv, mode: 'run' | 'renew'): Promise<number> {
  const opened = await openStore(o, ctx.out);
  try {
    return await obtainWith(o, ctx, mode, opened);
  } finally {
    await opened.close();
  }
}

async function obtainWith(
  o: Options,
  ctx: CommandEnv,
  mode: 'run' | 'renew',
  opened: OpenedStore,
): Promise<number> {
  const { out } = ctx;
  const dryRun = o.bool('dryRun');
  const keyType = keyTypeOption(o);
  const renewDays = o.num('renewDays');
  if (renewDays !== undefined && (!Number.isInteger(renewDays) || renewDays < 1)) {
    throw new UsageError(
      `--days/--renew-days must be a whole number of days of at least 1, not ${renewDays}`,
    );
  }
  const chosen = await solversFor(o, out);
  // A dry run decides from the real files but writes only to memory.
  const readStore = opened.store;
  const store = dryRun ? new (await import('../../storage/memory-store.ts')).MemoryStore() : readStore;
  const targets = await targetsFrom(o, readStore, mode);
  if (chosen)
    for (const t of targets)
      checkChallengeTypes(
        normalizeIdentifiers(t.names),
        chosen.solvers.map((s) => s.type),
      );
  if (mode === 'run' && !chosen) {
    throw new UsageError('choose how to prove control of the names: --http, --http.webroot DIR or --tls');
  }
  if (o.bool('mustStaple'))
    out.warn("Let's Encrypt no longer issues must-staple certificates; other CAs may");

  rememberedSettings(o, targets);
  const client = await makeClient(o, out);
  const clock = systemClock;
  const outcomes: Outcome[] = [];
  const due: { target: Target; replaces?: string; explanationUrl?: string }[] = [];
  try {
    for (const target of targets) {
      const domain = target.names[0]!;
      const state =
        target.record && !o.bool('force')
          ? await decideRenewal({
              store: readStore,
              record: target.record,
              client: o.bool('ariDisable') ? undefined : client,
              renewDays,
              clock,
            }).catch((err: unknown) => {
              if (err instanceof InvalidInputError) throw new UsageError(err.message);
              throw err;
            })
          : undefined;
      if (state && !state.decision.due) {
        const status = state.decision.source === 'backoff' ? 'backoff' : 'not-due';
        outcomes.push({
          domain,
          names: target.names,
          status,
          notAfter: state.notAfter.toISOString(),
          renewAt: state.decision.renewAt.toISOString(),
          reason: state.decision.reason,
        });
        out.line(
          `${domain}: not due until ${state.decision.renewAt.toISOString()} (${state.decision.reason})`,
        );
        continue;
      }
      const replaces = state?.ari?.certId;
      const explanationUrl = state?.decision.source === 'ari' ? state.decision.explanationUrl : undefined;
      // RFC 9773 §4.2: the CA may say why it wants an early renewal; show it (B9).
      if (explanationUrl)
        out.line(`${domain}: the CA asks for renewal now (${state?.decision.reason}); see ${explanationUrl}`);
      due.push({ target, ...(replaces ? { replaces } : {}), ...(explanationUrl ? { explanationUrl } : {}) });
    }
    if (due.length === 0) {
      out.document({ ok: true, certificates: outcomes });
      return exitCodes.ok;
    }
    if (mode === 'renew' && !process.stdout.isTTY && !o.bool('noRandomSleep') && !dryRun) {
      // Spread cron runs over 8 minutes so a whole fleet does not hit the CA at once (as lego and certbot do).
      const ms = Math.floor(Math.random() * 8 * 60_000);
      out.line(`waiting ${Math.round(ms / 1000)} s before renewing (--no-random-sleep skips this)`);
      await clock.sleep(ms);
    }
    const runHooks = !dryRun || o.bool('runHooks');
    const hookTimeoutMs = (o.num('hookTimeout') ?? 300) * 1000;
    const preHook = o.str('preHook');
    if (preHook && runHooks) await runCheckedHook(preHook, 'pre-hook', {}, hookTimeoutMs);

    // An order follows: fetch the directory now, so the TLS set-up (~30 ms of CPU on Node 20) and the
    // round trip overlap the account, lock and key files' disk waits, and then a nonce (GET newNonce,
    // RFC 8555 §7.2; this client is new, so it has none), so newOrder need not wait for a HEAD of its
    // own. Failures surface at first use.
    client
      .directory()
      .then((dir) => client.http.get(dir.newNonce))
      .catch(() => {});
    const account: Account = await accountFor(o, client, store, true);
    // A file for a folder; the key itself in a database, where nothing is on disk.
    const where = (key: string): string => opened.fileOf(key) ?? key;
    const renewed: string[] = [];
    let firstError: unknown;
    for (const { target, replaces, explanationUrl } of due) {
      const domain = target.names[0]!;
      try {
        if (target.record?.acmekit?.csr && !target.csr) {
          throw new UsageError(
            `${domain} was obtained with --csr; renew it with --csr FILE again (acmekit never had its key)`,
          );
        }
        const { solvers, challenge } = chosen ?? (await replay(target.record, out));
        const saved = await obtainAndSave(store, account, {
          names: target.names,
          solvers,
          challenge,
          keyType:
            (target.record?.acmekit?.keyType as typeof keyType | undefined) && !o.sources.keyType
              ? (target.record!.acmekit!.keyType as typeof keyType)
              : keyType,
          ...(target.csr ? { csr: target.csr } : {}),
          reuseKey: o.bool('reuseKey'),
          ...profileOptions(o, target.record),
          ...(replaces ? { replaces } : {}),
          ...(target.record?.acmekit?.serial && !o.bool('force')
            ? { expectedSerial: target.record.acmekit.serial }
            : {}),
          noBundle: o.bool('noBundle'),
          pem: o.bool('pem'),
          ...(o.bool('pfx') ? { pfxPassword: o.str('pfxPass') ?? 'changeit' } : {}),
          server: client.directoryUrl,
          ...(o.str('email') ? { email: o.str('email')! } : {}),
        });
        if (saved.alreadyRenewed) {
          const until = saved.record.acmekit?.notAfter ?? 'unknown';
          out.line(`${domain}: already renewed by another acmekit run meanwhile, valid until ${until}`);
          outcomes.push({
            domain,
            names: target.names,
            status: 'not-due',
            notAfter: until,
            reason: 'renewed by another run',
          });
          continue;
        }
        const files = Object.fromEntries(Object.entries(saved.files).map(([k, v]) => [k, where(v)]));
        const outcome: Outcome = {
          domain,
          names: target.names,
          status: target.record ? 'renewed' : 'obtained',
          notAfter: saved.result.notAfter.toISOString(),
          files: dryRun ? {} : files,
          ...(explanationUrl ? { explanationUrl } : {}),
        };
        out.line(
          `${domain}: ${outcome.status}, valid until ${outcome.notAfter}${dryRun ? ' (dry run, not saved)' : ` → ${files.certificate}${opened.location.kind === 'file' ? '' : ` in ${opened.label}`}`}`,
        );
        renewed.push(domain);
        const deployHook = o.str('deployHook');
        if (deployHook && runHooks) {
          const paths = certificateFileKeys(domain);
          const env = hookEnvironment({
            domain,
            certPath: where(paths.crt),
            keyPath: where(paths.key),
            issuerPath: where(paths.issuer),
            fullchainPath: where(paths.crt),
            ...(o.bool('pem') ? { pemPath: where(paths.pem) } : {}),
            renewedDomains: target.names,
            ...(o.str('email') ? { accountEmail: o.str('email')! } : {}),
            keyType,
            server: client.directoryUrl,
            ...(o.bool('pfx') ? { pfxPath: where(paths.pfx) } : {}),
          });
          // In a database the certificate is no file: a hook gets names, not paths it cannot open.
          if (opened.location.kind !== 'file') {
            for (const name of Object.keys(env)) if (name.endsWith('_PATH')) delete env[name];
          }
          try {
            await runCheckedHook(deployHook, 'deploy hook', env, hookTimeoutMs);
          } catch (err) {
            outcome.hookError = (err as Error).message;
            out.error(`${domain}: the certificate was saved, but ${(err as Error).message}`);
          }
        }
        outcomes.push(outcome);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        firstError ??= err;
        if (!dryRun) await recordFailure(store, domain, err).catch(() => {});
        const message = (err as { describe?: () => string }).describe?.call(err) ?? (err as Error).message;
        out.error(`${domain}: failed: ${message}`);
        const next = nextStep(err);
        if (next) out.log(`  next: ${next}`);
        outcomes.push({
          domain,
          names: target.names,
          status: 'failed',
          error: {
            code: (err as { code?: string }).code ?? 'ERR_UNKNOWN',
            message: (err as Error).message,
            ...(next ? { next } : {}),
          },
        });
      }
    }
    const postHook = o.str('postHook');
    let postHookFailed = false;
    if (postHook && runHooks) {
      await runCheckedHook(
        postHook,
        'post-hook',
        { ACMEKIT_RENEWED_DOMAINS: renewed.join(' ') },
        hookTimeoutMs,
      ).catch((err: Error) => {
        postHookFailed = true;
        out.error(err.message);
      });
    }
    const failures = outcomes.filter((x) => x.status === 'failed');
    const hookFailed = postHookFailed || outcomes.some((x) => x.hookError);
    out.document({ ok: failures.length === 0 && !hookFailed, certificates: outcomes });
    if (failures.length > 0)
      return due.length === 1
        ? firstError
          ? exitCodeFor(firstError)
          : exitCodes.failure
        : exitCodes.someFailed;
    return hookFailed ? exitCodes.hookFailed : exitCodes.ok;
  } finally {
    client.close();
  }
}

/** renew without --server/--email uses what the certificates were obtained with (when they agree). */
function rememberedSettings(o: Options, targets: Target[]): void {
  for (const key of ['server', 'email'] as const) {
    if (o.sources[key] !== undefined) continue;
    const values = new Set(targets.map((t) => t.record?.acmekit?.[key]).filter((v) => v !== undefined));
    if (values.size === 1) o.set(key, [...values][0]!);
  }
}

function profileOptions(o: Options, record: CertificateRecord | undefined) {
  const a = record?.acmekit;
  const profile = o.str('profile') ?? a?.profile;
  const preferredChain = o.str('preferredChain') ?? a?.preferredChain;
  const mustStaple = o.bool('mustStaple') || a?.mustStaple === true;
  return {
    ...(profile ? { profile } : {}),
    ...(preferredChain ? { preferredChain } : {}),
    ...(mustStaple ? { mustStaple } : {}),
  };
}

async function replay(
  record: CertificateRecord | undefined,
  out: Output,
): Promise<{ solvers: Solver[]; challenge: ChallengeRecord }> {
  const challenge = record?.acmekit?.challenge;
  if (!challenge) {
    throw new UsageError(
      `${record?.domain ?? 'this certificate'} has no stored challenge settings (made by lego?); pass --http, --http.webroot DIR, --tls or --dns PROVIDER`,
    );
  }
  return { solvers: await solversFromRecord(challenge, out), challenge };
}

async function runCheckedHook(command: string, what: string, env: Record<string, string>, timeoutMs: number) {
  const result = await runHook({ command, env, timeoutMs });
  if (result.exitCode !== 0 || result.timedOut) {
    const { HookError } = await import('../../lifecycle/hooks.ts');
    throw new HookError(what, command, result, { env });
  }
}
