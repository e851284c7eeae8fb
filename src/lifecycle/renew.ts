import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Account, accountStatusRefused } from '../acme/account.ts';
import type { AcmeClient } from '../acme/client.ts';
import type { RenewalInfo } from '../acme/renewal-info.ts';
import type { Identifier } from '../crypto/identifier.ts';
import { AccountDoesNotExistError } from '../errors/problem.ts';
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
   * What about the stored certificate calls for a new one before it is due. `exact` (the CLI's `run`):
   * names not exactly these (lego orders the new set), another key type, another CSR key or given
   * key, another profile or preferred chain than asked for now. `covered` (the server): one of the
   * names missing (a certificate with more names still serves). `ignore` (the CLI's `renew`): nothing.
   */
  namesRule: 'exact' | 'covered' | 'ignore';
  /** The public key the certificate must carry, when the caller fixed it (a CSR's, or --private-key's). */
  fixedKey?: KeyObject | undefined;
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
export type RenewalTrigger = 'no-certificate' | 'forced' | 'changed' | 'due';

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
  const changed = [
    namesChange(certificate.names, wanted, target.namesRule),
    ...(target.namesRule === 'exact' ? settingsChanges(target, record, certificate) : []),
  ].filter((c) => c !== undefined);
  if (changed.length > 0) return due(base, 'changed', changed.join('; '), certificate.serial);
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

/**
 * The due plan of a trial run (the CLI's --dry-run): the certificate is ordered even when it is not
 * due, so the whole flow is tested; the reason says what a real run would have done.
 */
export function trialOf(plan: IdlePlan): DuePlan {
  const { target, record, certificate, decision } = plan;
  return {
    ...due(
      { target, record, certificate },
      'forced',
      `dry run; a real run would wait until ${decision.renewAt.toISOString()}`,
      certificate?.serial ?? '',
    ),
    decision,
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
    // Another set of names or another key is another certificate: obtained, as lego says.
    const fresh = plan.trigger === 'no-certificate' || plan.trigger === 'changed';
    return { outcome: fresh ? 'obtained' : 'renewed', plan, reason: plan.reason, saved };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (error instanceof FencedWriteError) return { outcome: 'lease-lost', plan, reason: LEASE_LOST, error };
    // A refused account is not this certificate's failure: it must not delay it once the account is fixed.
    if (!opts.signal?.aborted && !accountRefused(error))
      await recordFailure(opts.store, target.files, error).catch(() => {});
    return { outcome: 'failed', plan, reason: plan.reason, error };
  }
}

/** The CA refused the account itself (forgotten after a reset, deactivated, revoked). */
function accountRefused(error: Error): boolean {
  return error instanceof AccountDoesNotExistError || accountStatusRefused(error) !== undefined;
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
  return `names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(', ')})`;
}

/** What else asked for now differs from how the stored certificate was made, for people. */
function settingsChanges(
  target: RenewalTarget,
  record: CertificateRecord | undefined,
  certificate: StoredCertificate,
): string[] {
  const made = record?.acmekit;
  const order = target.order;
  const changes: string[] = [];
  const was = (v: string | undefined) => v ?? 'none';
  if (target.fixedKey && certificate.publicKey && !samePublicKey(target.fixedKey, certificate.publicKey)) {
    changes.push(
      order.csr !== undefined ? 'CSR changed (another key)' : 'key changed (another --private-key)',
    );
  } else if (made && !made.csr && order.csr === undefined && made.keyType !== order.keyType) {
    changes.push(`key type changed (${made.keyType} → ${order.keyType})`);
  }
  // Only what was asked for now: a setting left out keeps what the certificate was made with.
  if (made && order.profile !== undefined && order.profile !== made.profile)
    changes.push(`profile changed (${was(made.profile)} → ${order.profile})`);
  if (made && order.preferredChain !== undefined && order.preferredChain !== made.preferredChain)
    changes.push(`preferred chain changed (${was(made.preferredChain)} → ${order.preferredChain})`);
  return changes;
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (k: KeyObject) =>
    (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
  return spki(a).equals(spki(b));
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
