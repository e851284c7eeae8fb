import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Account } from '../../acme/account.ts';
import { checkChallengeTypes, identifiersEqual, normalizeIdentifiers } from '../../acme/identifiers.ts';
import type { Identifier } from '../../crypto/identifier.ts';
import { type CertificateKeyType, keyTypeOf } from '../../crypto/keys.ts';
import { AccountUnusableError } from '../../errors/account.ts';
import { InvalidInputError } from '../../errors/base.ts';
import { UsageError } from '../../errors/usage.ts';
import { systemClock } from '../../internal/clock.ts';
import {
  type CertificateFiles,
  certificateFiles,
  listRecordEntries,
  locateCertificate,
  type RecordEntry,
} from '../../lifecycle/certificate-files.ts';
import { hookEnvironment, runHook } from '../../lifecycle/hooks.ts';
import { recordFailure } from '../../lifecycle/obtain-and-save.ts';
import { type PfxFormat, pfxFormats } from '../../lifecycle/pfx.ts';
import {
  carryOutRenewal,
  type DuePlan,
  planRenewal,
  type RenewalOutcome,
  type RenewalTarget,
  trialOf,
} from '../../lifecycle/renew.ts';
import type { Solver } from '../../solvers/solver.ts';
import type { CertificateRecord, ChallengeRecord } from '../../storage/lego/certificate-record.ts';
import type { Store } from '../../storage/store.ts';
import { accountError, accountFor, checkAccountOptions } from '../account.ts';
import { makeClient } from '../client.ts';
import { exitCodeFor, exitCodes } from '../exit-codes.ts';
import type { OptionNameOf } from '../flags.ts';
import { nextStep } from '../next-step.ts';
import { challengeDelayMs, keyTypeOption, secondsOption } from '../option-readers.ts';
import type { Options } from '../options.ts';
import type { Output } from '../output.ts';
import { readPrivateKeyFile } from '../private-key-file.ts';
import { planLine, resultLine } from '../renewal-lines.ts';
import { solversFor, solversFromRecord } from '../solvers.ts';
import { type OpenedStore, openStore } from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

interface Target {
  /** Normalised once, here; carried as they are to the order. */
  identifiers: readonly Identifier[];
  /** Their values, for lines and hooks. */
  names: string[];
  csr?: Uint8Array;
  /** The CSR's public key: a certificate with another key is another certificate. */
  csrKey?: KeyObject;
  record?: CertificateRecord;
  /** Where its files are: the main domain's name, --filename, or the other name it was found under. */
  files: CertificateFiles;
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
    let identifiers = domains.length > 0 ? normalizeIdentifiers(domains) : undefined;
    let csrKey: KeyObject | undefined;
    if (csr) {
      const { parseCsr } = await import('../../crypto/csr.ts');
      const parsed = await parseCsr(csr);
      const csrIdentifiers = normalizeIdentifiers(parsed.identifiers);
      if (identifiers && !identifiersEqual(identifiers, csrIdentifiers)) {
        const list = (ids: readonly Identifier[]) => ids.map((i) => i.value).join(', ');
        throw new UsageError(
          `--csr names (${list(csrIdentifiers)}) differ from --domains (${list(identifiers)})`,
        );
      }
      identifiers ??= csrIdentifiers;
      csrKey = parsed.publicKey;
      if (privateKey && !samePublicKey(privateKey, parsed.publicKey)) {
        throw new UsageError('--private-key is not the key of the --csr; give the key the CSR was made with');
      }
    }
    const names = identifiers!.map((i) => i.value);
    // lego names the files after the first --domains as typed (case kept); a CSR's names as normalised.
    const located = await locateCertificate(store, names[0]!, fileName, domains[0]);
    return [
      {
        identifiers: identifiers!,
        names,
        ...(csr ? { csr } : {}),
        ...(csrKey ? { csrKey } : {}),
        ...(located.record ? { record: located.record } : {}),
        files: located.files,
      },
    ];
  }
  if (mode === 'run')
    throw new UsageError('run needs --domains (or --csr): the names to put in the certificate');
  if (fileName !== undefined) {
    const entry = (await listRecordEntries(store)).find((e) => e.fileName === fileName);
    if (!entry) throw new UsageError(`no certificate is stored as certificates/${fileName}.json`);
    return [targetOf(entry)];
  }
  return (await listRecordEntries(store)).map(targetOf);
}

function targetOf({ record, fileName }: RecordEntry): Target {
  const identifiers = normalizeIdentifiers(record.acmekit?.identifiers ?? [record.domain]);
  return {
    identifiers,
    names: identifiers.map((i) => i.value),
    record,
    files: certificateFiles(record.domain, fileName),
  };
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
  // A dry run reads the real folder or database and writes nothing there: accounts it registers, keys,
  // certificates and locks stay in memory.
  const store = dryRun
    ? new (await import('../../storage/overlay-store.ts')).OverlayStore(opened.store)
    : opened.store;
  const targets = await targetsFrom(o, store, mode, privateKey);
  if (chosen)
    for (const t of targets)
      checkChallengeTypes(
        t.identifiers,
        chosen.solvers.map((s) => s.type),
      );
  if (mode === 'run' && !chosen) {
    throw new UsageError(
      'choose how to prove control of the names: --http, --http.webroot DIR, --tls or --dns PROVIDER',
    );
  }
  if (o.bool('mustStaple'))
    out.warn("Let's Encrypt no longer issues must-staple certificates; other CAs may");

  rememberedSettings(o, targets);
  checkAccountOptions(o);
  const client = await makeClient(o, out);
  const clock = systemClock;
  const outcomes: Outcome[] = [];
  const due: DuePlan[] = [];
  try {
    for (const target of targets) {
      const domain = target.names[0]!;
      const renewal = renewalTarget(o, target, mode, { keyType, privateKey, pfxFormat }, client.directoryUrl);
      const plan = await planRenewal(renewal, {
        store,
        record: target.record,
        client: o.bool('ariDisable') ? undefined : client,
        renewDays,
        force: o.bool('force'),
        ariWaitMs: ariWaitSeconds === undefined ? undefined : ariWaitSeconds * 1000,
        // lego's --ari-wait-to-renew-duration: the CA's time is close enough to wait for it in this run.
        onWait: (ms) =>
          out.line(`${domain}: the CA's renewal time is in ${Math.ceil(ms / 1000)} s; waiting for it`),
        clock,
      }).catch((err: unknown) => {
        if (err instanceof InvalidInputError) throw new UsageError(err.message);
        throw err;
      });
      if (!plan.due && dryRun) {
        // A trial orders every selected certificate, and says what a real run would have done.
        out.line(`${planLine(plan)}; dry run: ordering it anyway`);
        due.push(trialOf(plan));
        continue;
      }
      if (!plan.due) {
        outcomes.push({
          domain,
          names: target.names,
          status: plan.status,
          notAfter: plan.certificate?.notAfter.toISOString(),
          renewAt: plan.decision.renewAt.toISOString(),
          reason: plan.reason,
        });
        out.line(planLine(plan));
        continue;
      }
      out.line(planLine(plan));
      due.push(plan);
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
    const hookTimeoutMs = (name: OptionNameOf<'duration'>): number =>
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
    // An account from the files is asked about first: one the CA forgot or deactivated stops the run here,
    // with the command that registers again, before any certificate's order fails (and backs off) for it.
    // Not asked about first (one round trip to the CA per run): an account the CA forgot or deactivated
    // fails the first order, which says so in one line (below) and leaves the certificates' backoff alone.
    const account: Account = await accountFor(o, client, store, true);
    // A file for a folder; the key itself in a database, where nothing is on disk.
    const where = (key: string): string => opened.fileOf(key) ?? key;
    const renewed: string[] = [];
    let firstError: unknown;
    for (const plan of due) {
      const { target } = plan;
      const domain = target.files.mainDomain;
      const record = plan.record;
      let outcome: RenewalOutcome;
      try {
        if (record?.acmekit?.csr && !target.order.csr) {
          throw new UsageError(
            `${domain} was obtained with --csr; renew it with --csr FILE again (acmekit never had its key)`,
          );
        }
        const { solvers, challenge } = chosen ?? (await replay(record, out, o));
        const dates = orderDates(givenDates, record, clock.now());
        const order = { ...target.order, challenge, ...dates };
        outcome = await carryOutRenewal(
          { ...plan, target: { ...target, order } },
          { store, account, solvers },
        );
      } catch (err) {
        if (err instanceof UsageError) throw err;
        outcome = { outcome: 'failed', plan, reason: plan.reason, error: err as Error };
        await recordFailure(store, target.files, err).catch(() => {});
      }
      if (outcome.outcome === 'renewed-elsewhere' || outcome.outcome === 'lease-lost') {
        // Another process holds the newer certificate: nothing of this run's is missing.
        const until =
          outcome.outcome === 'renewed-elsewhere'
            ? (outcome.record.acmekit?.notAfter ?? 'unknown')
            : undefined;
        out.line(resultLine(outcome));
        outcomes.push({
          domain,
          names: target.identifiers.map((i) => i.value),
          status: 'not-due',
          notAfter: until,
          reason: outcome.reason,
        });
        continue;
      }
      if (outcome.outcome === 'failed') {
        const err = outcome.error;
        // The CA refused the account itself: every other order would fail the same way.
        const refused = await accountError(err, o, { store, client, url: account.url });
        if (refused instanceof AccountUnusableError) throw refused;
        firstError ??= err;
        out.error(resultLine(outcome));
        const next = nextStep(err);
        if (next) out.log(`  next: ${next}`);
        outcomes.push({
          domain,
          names: target.identifiers.map((i) => i.value),
          status: 'failed',
          reason: outcome.reason,
          error: {
            code: (err as { code?: string }).code ?? 'ERR_UNKNOWN',
            message: err.message,
            ...(next ? { next } : {}),
          },
        });
        continue;
      }
      if (outcome.outcome !== 'obtained' && outcome.outcome !== 'renewed') continue;
      const saved = outcome.saved;
      const files = Object.fromEntries(Object.entries(saved.files).map(([k, v]) => [k, where(v)]));
      const result: Outcome = {
        domain,
        names: target.identifiers.map((i) => i.value),
        status: outcome.outcome,
        reason: outcome.reason,
        notAfter: saved.result.notAfter.toISOString(),
        files: dryRun ? {} : files,
        ...(plan.explanationUrl ? { explanationUrl: plan.explanationUrl } : {}),
      };
      out.line(
        resultLine(
          outcome,
          dryRun
            ? ' (dry run, not saved)'
            : ` → ${files.certificate}${opened.location.kind === 'file' ? '' : ` in ${opened.label}`}`,
        ),
      );
      renewed.push(domain);
      const deployHook = o.str('deployHook');
      if (deployHook && runHooks) {
        const paths = target.files;
        const env = hookEnvironment({
          domain,
          certPath: where(paths.crt),
          keyPath: where(paths.key),
          issuerPath: where(paths.issuer),
          fullchainPath: where(paths.crt),
          ...(o.bool('pem') ? { pemPath: where(paths.pem) } : {}),
          renewedDomains: target.identifiers.map((i) => i.value),
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
          result.hookError = (err as Error).message;
          out.error(`${domain}: the certificate was saved, but ${(err as Error).message}`);
        }
      }
      outcomes.push(result);
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

/** What the renewal job needs to know about one target: its files, names, and how to order it. */
function renewalTarget(
  o: Options,
  target: Target,
  mode: 'run' | 'renew',
  given: { keyType: CertificateKeyType; privateKey: KeyObject | undefined; pfxFormat: PfxFormat | undefined },
  server: string,
): RenewalTarget {
  const remembered = target.record?.acmekit;
  const noCommonName = o.bool('disableCn') || (remembered?.noCommonName === true && !o.bool('enableCn'));
  const rememberedKeyType = remembered?.keyType && !o.sources.keyType ? remembered.keyType : undefined;
  return {
    files: target.files,
    identifiers: target.identifiers,
    // lego's run orders the names asked for; its renew keeps the certificate's own unless --force-cert-domains.
    namesRule: mode === 'run' || o.bool('forceCertDomains') ? 'exact' : 'ignore',
    fixedKey: target.csrKey ?? given.privateKey,
    order: {
      // Set when the order is placed: the flags' challenge, or the remembered one replayed.
      challenge: remembered?.challenge ?? { type: 'http-01' },
      keyType: (given.privateKey && keyTypeOf(given.privateKey)) || rememberedKeyType || given.keyType,
      ...(target.csr ? { csr: target.csr } : {}),
      ...(given.privateKey ? { privateKey: given.privateKey } : {}),
      ...(noCommonName ? { commonName: false } : {}),
      ...(o.bool('alwaysDeactivateAuthorizations') ? { alwaysDeactivateAuthorizations: true } : {}),
      reuseKey: o.bool('reuseKey'),
      ...profileOptions(o, target.record),
      noBundle: o.bool('noBundle'),
      pem: o.bool('pem'),
      ...(o.bool('pfx') ? { pfxPassword: o.str('pfxPass') ?? 'changeit' } : {}),
      ...(given.pfxFormat ? { pfxFormat: given.pfxFormat } : {}),
      server,
      ...(o.str('email') ? { email: o.str('email')! } : {}),
    },
  };
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
    const { HookError } = await import('../../errors/hook.ts');
    throw new HookError(what, command, result, { env });
  }
}
