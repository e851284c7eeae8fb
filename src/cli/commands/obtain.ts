import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Account } from '../../acme/account.ts';
import { checkChallengeTypes, normalizeIdentifiers } from '../../acme/identifiers.ts';
import { keyTypeOf } from '../../crypto/keys.ts';
import { InvalidInputError } from '../../errors/base.ts';
import { systemClock } from '../../internal/clock.ts';
import {
  certificateFileKeys,
  listRecordEntries,
  locateCertificate,
} from '../../lifecycle/certificate-files.ts';
import type { CertificateRecord, ChallengeRecord } from '../../lifecycle/certificate-record.ts';
import { decideRenewal } from '../../lifecycle/decide.ts';
import { hookEnvironment, runHook } from '../../lifecycle/hooks.ts';
import { obtainAndSave, recordFailure } from '../../lifecycle/obtain-and-save.ts';
import { type PfxFormat, pfxFormats } from '../../lifecycle/pfx.ts';
import type { Solver } from '../../solvers/solver.ts';
import type { Store } from '../../storage/store.ts';
import {
  accountFor,
  type CommandEnv,
  challengeDelayMs,
  keyTypeOption,
  makeClient,
  type Options,
  secondsOption,
  solversFor,
  solversFromRecord,
} from '../context.ts';
import { exitCodeFor, exitCodes } from '../exit-codes.ts';
import { nextStep } from '../next-step.ts';
import type { Output } from '../output.ts';
import { readPrivateKeyFile } from '../private-key-file.ts';
import { type OpenedStore, openStore } from '../storage-url.ts';
import { UsageError } from '../usage-error.ts';

interface Target {
  names: string[];
  csr?: Uint8Array;
  record?: CertificateRecord;
  /** Base name of the files when not the main domain's (--filename, or found under another name). */
  fileName?: string;
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

async function targetsFrom(
  o: Options,
  store: Store,
  mode: 'run' | 'renew',
  privateKey: KeyObject | undefined,
): Promise<Target[]> {
  const domains = o.list('domains');
  const csrPath = o.str('csr');
  const fileName = o.str('filename');
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
      if (privateKey && !samePublicKey(privateKey, parsed.publicKey)) {
        throw new UsageError('--private-key is not the key of the --csr; give the key the CSR was made with');
      }
    }
    const located = await locateCertificate(store, names[0]!, fileName);
    return [
      {
        names,
        ...(csr ? { csr } : {}),
        ...(located.record ? { record: located.record } : {}),
        ...(located.fileName !== undefined ? { fileName: located.fileName } : {}),
      },
    ];
  }
  if (mode === 'run')
    throw new UsageError('run needs --domains (or --csr): the names to put in the certificate');
  if (fileName !== undefined) {
    const entry = (await listRecordEntries(store)).find((e) => e.fileName === fileName);
    if (!entry) throw new UsageError(`no certificate is stored as certificates/${fileName}.json`);
    return [{ names: entry.record.acmekit?.identifiers ?? [entry.record.domain], ...entry }];
  }
  const entries = await listRecordEntries(store);
  return entries.map(({ record, fileName: name }) => ({
    names: record.acmekit?.identifiers ?? [record.domain],
    record,
    fileName: name,
  }));
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (k: KeyObject) =>
    (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
  return spki(a).equals(spki(b));
}

// time.RFC3339 as lego parses --not-before/--not-after: date, T, time, optional fraction, Z or offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** --not-before / --not-after as given: a time, '' (given empty: forget the remembered one), or not given. */
function orderDateOption(o: Options, name: 'notBefore' | 'notAfter'): string | null | undefined {
  if (o.sources[name] === undefined) return undefined;
  const value = o.str(name);
  if (value === undefined) return null;
  const flag = name === 'notBefore' ? '--not-before' : '--not-after';
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new UsageError(`${flag} ${value}: expected an RFC 3339 time such as 2030-01-31T00:00:00Z`);
  }
  return value;
}

/** The order dates for one certificate: given now, else remembered; a remembered end that has passed is refused. */
function orderDates(
  given: { notBefore: string | null | undefined; notAfter: string | null | undefined },
  record: CertificateRecord | undefined,
  now: number,
): { notBefore?: string; notAfter?: string } {
  const notBefore =
    given.notBefore === undefined ? record?.acmekit?.orderNotBefore : (given.notBefore ?? undefined);
  const notAfter =
    given.notAfter === undefined ? record?.acmekit?.orderNotAfter : (given.notAfter ?? undefined);
  if (notAfter !== undefined && Date.parse(notAfter) <= now) {
    const how = given.notAfter === undefined ? 'the remembered --not-after' : '--not-after';
    throw new InvalidInputError(
      `${how} ${notAfter} has passed; give a later --not-after, or --not-after= to order without one`,
      notAfter,
    );
  }
  if (notBefore !== undefined && notAfter !== undefined && Date.parse(notBefore) >= Date.parse(notAfter)) {
    throw new InvalidInputError(`--not-before ${notBefore} is not before --not-after ${notAfter}`, notBefore);
  }
  return { ...(notBefore ? { notBefore } : {}), ...(notAfter ? { notAfter } : {}) };
}

function pfxFormatOption(o: Options): PfxFormat | undefined {
  const given = o.str('pfxFormat');
  if (given === undefined) return undefined;
  const format = given.toUpperCase();
  if (!(pfxFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--pfx.format ${given}: expected ${pfxFormats.join(', ')}`);
  }
  return format as PfxFormat;
}

/** Whether the stored certificate's names are another set than the ones asked for (--force-cert-domains). */
function namesDiffer(stored: string[], wanted: string[]): boolean {
  const norm = (names: string[]) => [...new Set(names.map((n) => n.toLowerCase()))].sort().join(',');
  return norm(stored) !== norm(wanted);
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
  // lego v4's --dynamic supersedes --days.
  if (o.bool('dynamic') && o.num('renewDays') !== undefined && out.logLevel === 'debug')
    out.log('debug: --dynamic given: --days is ignored, the renewal time follows ARI or the lifetime');
  const renewDays = o.bool('dynamic') ? undefined : o.num('renewDays');
  if (renewDays !== undefined && (!Number.isInteger(renewDays) || renewDays < 1)) {
    throw new UsageError(
      `--days/--renew-days must be a whole number of days of at least 1, not ${renewDays}`,
    );
  }
  // Checked before anything is sent: flags that change what is ordered.
  const privateKeyPath = o.str('privateKey');
  const privateKey = privateKeyPath ? await readPrivateKeyFile(privateKeyPath) : undefined;
  if (privateKey && o.bool('reuseKey'))
    throw new UsageError('--private-key and --reuse-key both choose the certificate key; keep one');
  if (o.bool('disableCn') && o.bool('enableCn'))
    throw new UsageError('--disable-cn and --enable-cn contradict each other; keep one');
  if (o.bool('forceCertDomains') && o.str('csr'))
    throw new UsageError('--force-cert-domains needs --domains; it cannot be used with --csr');
  const givenDates = { notBefore: orderDateOption(o, 'notBefore'), notAfter: orderDateOption(o, 'notAfter') };
  const pfxFormat = pfxFormatOption(o);
  const ariWaitSeconds = secondsOption(o, 'ariWaitToRenew', '--ari-wait-to-renew-duration');
  const chosen = await solversFor(o, out);
  // A dry run decides from the real files but writes only to memory.
  const readStore = opened.store;
  const store = dryRun ? new (await import('../../storage/memory-store.ts')).MemoryStore() : readStore;
  const targets = await targetsFrom(o, readStore, mode, privateKey);
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
              fileName: target.fileName,
              client: o.bool('ariDisable') ? undefined : client,
              renewDays,
              clock,
            }).catch((err: unknown) => {
              if (err instanceof InvalidInputError) throw new UsageError(err.message);
              throw err;
            })
          : undefined;
      if (
        state &&
        !state.decision.due &&
        o.bool('forceCertDomains') &&
        namesDiffer(state.names, target.names)
      ) {
        // lego's --force-cert-domains: a certificate whose names are not exactly --domains is renewed now.
        out.line(
          `${domain}: the certificate names ${state.names.join(', ')}; renewing for ${target.names.join(', ')}`,
        );
      } else if (
        state &&
        !state.decision.due &&
        state.decision.source === 'ari' &&
        ariWaitSeconds !== undefined &&
        state.decision.renewAt.getTime() - clock.now() <= ariWaitSeconds * 1000
      ) {
        // lego's --ari-wait-to-renew-duration: the CA's time is close enough to wait for it in this run.
        const ms = Math.max(0, state.decision.renewAt.getTime() - clock.now());
        out.line(`${domain}: the CA's renewal time is in ${Math.ceil(ms / 1000)} s; waiting for it`);
        await clock.sleep(ms);
      } else if (state && !state.decision.due) {
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
    const hookTimeoutMs = (name: string): number =>
      Math.round((o.num(name) ?? o.num('hookTimeout') ?? 300) * 1000);
    const preHook = o.str('preHook');
    if (preHook && runHooks) await runCheckedHook(preHook, 'pre-hook', {}, hookTimeoutMs('preHookTimeout'));

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
        const { solvers, challenge } = chosen ?? (await replay(target.record, out, o));
        const dates = orderDates(givenDates, target.record, clock.now());
        const remembered = target.record?.acmekit;
        const noCommonName =
          o.bool('disableCn') || (remembered?.noCommonName === true && !o.bool('enableCn'));
        const saved = await obtainAndSave(store, account, {
          names: target.names,
          solvers,
          challenge,
          keyType:
            (privateKey && keyTypeOf(privateKey)) ||
            ((target.record?.acmekit?.keyType as typeof keyType | undefined) && !o.sources.keyType
              ? (target.record!.acmekit!.keyType as typeof keyType)
              : keyType),
          ...(target.csr ? { csr: target.csr } : {}),
          ...(privateKey ? { privateKey } : {}),
          ...(target.fileName !== undefined ? { fileName: target.fileName } : {}),
          ...dates,
          ...(noCommonName ? { commonName: false } : {}),
          ...(o.bool('alwaysDeactivateAuthorizations') ? { alwaysDeactivateAuthorizations: true } : {}),
          reuseKey: o.bool('reuseKey'),
          ...profileOptions(o, target.record),
          ...(replaces ? { replaces } : {}),
          ...(target.record?.acmekit?.serial && !o.bool('force')
            ? { expectedSerial: target.record.acmekit.serial }
            : {}),
          noBundle: o.bool('noBundle'),
          pem: o.bool('pem'),
          ...(o.bool('pfx') ? { pfxPassword: o.str('pfxPass') ?? 'changeit' } : {}),
          ...(pfxFormat ? { pfxFormat } : {}),
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
          const paths = certificateFileKeys(domain, target.fileName);
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
            await runCheckedHook(deployHook, 'deploy hook', env, hookTimeoutMs('deployHookTimeout'));
          } catch (err) {
            outcome.hookError = (err as Error).message;
            out.error(`${domain}: the certificate was saved, but ${(err as Error).message}`);
          }
        }
        outcomes.push(outcome);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        firstError ??= err;
        if (!dryRun) await recordFailure(store, domain, err, target.fileName).catch(() => {});
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
        hookTimeoutMs('postHookTimeout'),
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
  o: Options,
): Promise<{ solvers: Solver[]; challenge: ChallengeRecord }> {
  const stored = record?.acmekit?.challenge;
  if (!stored) {
    throw new UsageError(
      `${record?.domain ?? 'this certificate'} has no stored challenge settings (made by lego?); pass --http, --http.webroot DIR, --tls or --dns PROVIDER`,
    );
  }
  // --http.delay / --tls.delay given now win over the remembered delay (0 removes it).
  const given = stored.type === 'dns-01' ? undefined : challengeDelayMs(o, stored.type);
  const challenge: ChallengeRecord =
    given === undefined
      ? stored
      : { ...stored, ...(given > 0 ? { delayMs: given } : { delayMs: undefined }) };
  if (challenge.delayMs === undefined) delete challenge.delayMs;
  return { solvers: await solversFromRecord(challenge, out), challenge };
}

async function runCheckedHook(command: string, what: string, env: Record<string, string>, timeoutMs: number) {
  const result = await runHook({ command, env, timeoutMs });
  if (result.exitCode !== 0 || result.timedOut) {
    const { HookError } = await import('../../lifecycle/hooks.ts');
    throw new HookError(what, command, result, { env });
  }
}
