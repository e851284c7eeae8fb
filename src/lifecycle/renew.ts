import type { Account } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import type { RenewalInfo } from '../acme/renewal-info.ts';
import type { Identifier } from '../crypto/identifier.ts';
import { FencedWriteError } from '../errors/storage.ts';
import type { Clock } from '../internal/clock.ts';
import type { Solver } from '../solvers/solver.ts';
import type { CertificateRecord } from '../storage/lego/certificate-record.ts';
import type { Store } from '../storage/store.ts';
import { type CertificateFiles, readRecord } from './certificate-files.ts';
import { decideRenewalOf, readStoredCertificate, type StoredCertificate } from './decide.ts';
import { type ObtainJob, obtainAndSave, recordFailure, type SavedCertificate } from './obtain-and-save.ts';
import type { RenewalDecision } from './renewal-decision.ts';

/**
 * The one renewal job, shared by the CLI and the server: decide (no certificate yet, forced, names
 * changed, due, backoff), obtain under the store's lease, save all or nothing, record the outcome, and
 * say what happened and why in one result. The CLI turns the result into lines, hooks and exit codes;
 * the server into events, metrics and status(). Neither decides on its own.
 *
 * It runs in two steps, `planRenewal` and `carryOutRenewal`, because the CLI decides for every
 * certificate before it runs a pre-hook and sleeps once; `renewCertificate` does both.
 */

/** What to keep fresh: the files, the names, and how to order it (everything obtainAndSave needs but the solvers). */
export interface RenewalTarget {
  files: CertificateFiles;
  /** The names, normalised once (normalizeIdentifiers); the first is the main domain. */
  identifiers: readonly Identifier[];
  /**
   * When the stored certificate's names call for a new one: `exact` when they are not exactly `names`
   * (the CLI's `run`: lego orders the new set), `covered` when one of `names` is missing (the server:
   * a certificate with more names still serves), `ignore` (the CLI's `renew`: renews what it has).
   */
  namesRule: 'exact' | 'covered' | 'ignore';
  order: Omit<ObtainJob, 'identifiers' | 'solvers' | 'files' | 'signal' | 'expectedSerial' | 'replaces'>;
}

export interface PlanOptions {
  /** Where the current certificate and record are read (the CLI's dry run decides from the real files). */
  store: Store;
  /** The record, when the caller has read it already; read from the store otherwise. */
  record?: CertificateRecord | undefined;
  /** The certificate as the caller already parsed it (the server's cache), so it is not read again. */
  current?: StoredCertificate | undefined;
  /** Ask the CA for renewal information (RFC 9773); undefined: the lifetime rule only. */
  client?: AcmeClient | undefined;
  renewDays?: number | undefined;
  /** Renew whatever the decision says. */
  force?: boolean;
  /** Leave out the persisted backoff (the server backs off in memory while it runs). */
  ignorePersistedBackoff?: boolean;
  /** lego's --ari-wait-to-renew-duration: when the CA's time comes within this many ms, wait for it. */
  ariWaitMs?: number | undefined;
  /** Called before such a wait. */
  onWait?: (ms: number) => void;
  clock: Clock;
  random?: () => number;
  signal?: AbortSignal;
}

/** Why a certificate is ordered now. */
export type RenewalTrigger = 'no-certificate' | 'forced' | 'names-changed' | 'due';

interface PlanBase {
  target: RenewalTarget;
  /** For people, the same words for the CLI's line, the server's status() and its log. */
  reason: string;
  /** The stored certificate decided from, if any. */
  certificate: StoredCertificate | undefined;
  record: CertificateRecord | undefined;
}

export interface IdlePlan extends PlanBase {
  due: false;
  status: 'not-due' | 'backoff';
  decision: RenewalDecision;
  /** The CA's renewal information, when it was asked (its Retry-After says when to ask again). */
  ari: RenewalInfo | undefined;
}

export interface DuePlan extends PlanBase {
  due: true;
  trigger: RenewalTrigger;
  decision: RenewalDecision | undefined;
  /** ARI id of the certificate being replaced (RFC 9773 §5). */
  replaces: string | undefined;
  /** The CA's explanation, when ARI asked for this renewal. */
  explanationUrl: string | undefined;
  /**
   * The serial the job expects to find once it holds the lock ('' for none): when another process
   * stored another certificate meanwhile, nothing is ordered.
   */
  expectedSerial: string;
}

export type RenewalPlan = IdlePlan | DuePlan;

export type RenewalOutcome =
  | (IdlePlan & { outcome: 'not-due' | 'backoff' })
  | {
      outcome: 'obtained' | 'renewed';
      plan: DuePlan;
      reason: string;
      saved: SavedCertificate;
    }
  | {
      /** Another process stored a new certificate while this one waited for the lock; nothing was ordered. */
      outcome: 'renewed-elsewhere';
      plan: DuePlan;
      reason: string;
      record: CertificateRecord;
    }
  | {
      outcome: 'failed';
      plan: DuePlan;
      /** Why it was attempted; the error says why it failed. */
      reason: string;
      error: Error;
    }
  | {
      /** Another process took the lease over while this one was stalled; its certificate stands. */
      outcome: 'lease-lost';
      plan: DuePlan;
      reason: string;
      error: FencedWriteError;
    };

export const RENEWED_ELSEWHERE = 'already renewed by another process meanwhile';
export const LEASE_LOST = 'another process took over this renewal; its certificate is kept';

/** Decides whether the target needs a certificate now, and why. Reads, never writes. */
export async function planRenewal(target: RenewalTarget, opts: PlanOptions): Promise<RenewalPlan> {
  const record = opts.record ?? (await readRecord(opts.store, target.files));
  const certificate = opts.current ?? (await readStoredCertificate(opts.store, target.files));
  const base = { target, record, certificate };
  if (!certificate) {
    // What the record names, if anything: a certificate stored meanwhile is then never taken for ours.
    return due(base, 'no-certificate', 'no certificate yet', record?.acmekit?.serial ?? '');
  }
  if (opts.force) return due(base, 'forced', 'renewal forced', certificate.serial);
  const wanted = target.identifiers.map((i) => i.value);
  const changed = namesChange(certificate.names, wanted, target.namesRule);
  if (changed) return due(base, 'names-changed', changed, certificate.serial);
  const decideRecord =
    record && opts.ignorePersistedBackoff ? withoutBackoff(record) : (record ?? emptyRecord(target));
  const { ari, decision } = await decideRenewalOf({
    certificate,
    record: decideRecord,
    client: opts.client,
    renewDays: opts.renewDays,
    clock: opts.clock,
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let { due: isDue, reason } = decision;
  if (!isDue && decision.source === 'ari' && opts.ariWaitMs !== undefined) {
    const ms = decision.renewAt.getTime() - opts.clock.now();
    if (ms <= opts.ariWaitMs) {
      opts.onWait?.(Math.max(0, ms));
      await opts.clock.sleep(Math.max(0, ms));
      isDue = true;
      reason = `${reason}; waited for the CA's renewal time`;
    }
  }
  if (!isDue) {
    const status = decision.source === 'backoff' ? 'backoff' : 'not-due';
    return { ...base, due: false, status, decision, ari, reason };
  }
  const explanationUrl = decision.source === 'ari' ? decision.explanationUrl : undefined;
  return {
    ...due(base, 'due', reason, certificate.serial),
    decision,
    replaces: ari?.certId,
    explanationUrl,
  };
}

export interface CarryOutOptions {
  /** Where the certificate is written (and locked). */
  store: Store;
  account: Account;
  solvers: Solver[];
  signal?: AbortSignal;
}

/** Orders the certificate a due plan calls for, saves it, and records the outcome. */
export async function carryOutRenewal(plan: DuePlan, opts: CarryOutOptions): Promise<RenewalOutcome> {
  const { target } = plan;
  try {
    const saved = await obtainAndSave(opts.store, opts.account, {
      ...target.order,
      identifiers: target.identifiers,
      files: target.files,
      solvers: opts.solvers,
      expectedSerial: plan.expectedSerial,
      ...(plan.replaces ? { replaces: plan.replaces } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (saved.alreadyRenewed) {
      return { outcome: 'renewed-elsewhere', plan, reason: RENEWED_ELSEWHERE, record: saved.record };
    }
    return { outcome: plan.certificate ? 'renewed' : 'obtained', plan, reason: plan.reason, saved };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (error instanceof FencedWriteError) return { outcome: 'lease-lost', plan, reason: LEASE_LOST, error };
    if (!opts.signal?.aborted) await recordFailure(opts.store, target.files, error).catch(() => {});
    return { outcome: 'failed', plan, reason: plan.reason, error };
  }
}

/** Plans, and carries out when due; `begin` is called only then (account, solvers, the attempt's store). */
export async function renewCertificate(
  target: RenewalTarget,
  opts: PlanOptions & {
    begin: (plan: DuePlan) => Promise<{ account: Account; solvers: Solver[]; store?: Store }>;
  },
): Promise<RenewalOutcome> {
  const plan = await planRenewal(target, opts);
  if (!plan.due) return { ...plan, outcome: plan.status };
  let attempt: Awaited<ReturnType<typeof opts.begin>>;
  try {
    attempt = await opts.begin(plan);
  } catch (err) {
    // No account (CA down, registration refused): a failed attempt like any other.
    const error = err instanceof Error ? err : new Error(String(err));
    if (!opts.signal?.aborted) await recordFailure(opts.store, target.files, error).catch(() => {});
    return { outcome: 'failed', plan, reason: plan.reason, error };
  }
  return carryOutRenewal(plan, {
    store: attempt.store ?? opts.store,
    account: attempt.account,
    solvers: attempt.solvers,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * How the stored certificate's names differ from the wanted ones, for people; undefined when they do
 * not call for a new certificate under `rule`.
 */
export function namesChange(
  stored: readonly string[],
  wanted: readonly string[],
  rule: RenewalTarget['namesRule'],
): string | undefined {
  if (rule === 'ignore') return undefined;
  const have = new Set(stored.map((n) => n.toLowerCase()));
  const want = new Set(wanted.map((n) => n.toLowerCase()));
  const added = [...want].filter((n) => !have.has(n));
  const removed = rule === 'exact' ? [...have].filter((n) => !want.has(n)) : [];
  if (added.length === 0 && removed.length === 0) return undefined;
  const parts = [
    ...(added.length ? [`adds ${added.join(', ')}`] : []),
    ...(removed.length ? [`drops ${removed.join(', ')}`] : []),
  ];
  return `the names changed: ${parts.join('; ')}`;
}

function due(
  base: Omit<PlanBase, 'reason'>,
  trigger: RenewalTrigger,
  reason: string,
  expectedSerial: string,
): DuePlan {
  return {
    ...base,
    due: true,
    trigger,
    reason,
    decision: undefined,
    replaces: undefined,
    explanationUrl: undefined,
    expectedSerial,
  };
}

function emptyRecord(target: RenewalTarget): CertificateRecord {
  return { domain: target.files.mainDomain, certUrl: '', certStableUrl: '' };
}

function withoutBackoff(record: CertificateRecord): CertificateRecord {
  if (!record.acmekit?.lastRenewalAttempt) return record;
  const { lastRenewalAttempt: _dropped, ...rest } = record.acmekit;
  return { ...record, acmekit: rest };
}
