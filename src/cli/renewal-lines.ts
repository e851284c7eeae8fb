import { isoTime } from '../internal/iso-time.ts';
import type { RenewalOutcome, RenewalPlan } from '../lifecycle/renew.ts';

/**
 * The lines `run` and `renew` print for the renewal job's plans and outcomes. The reasons are the job's
 * words, the same the server shows in status() and its events, so both faces explain a renewal alike.
 */

/** Why the certificate is ordered now, or until when it is left alone. */
export function planLine(plan: RenewalPlan): string {
  const domain = plan.target.files.mainDomain;
  if (!plan.due) return `${domain}: not due until ${isoTime(plan.decision.renewAt)} (${plan.reason})`;
  // RFC 9773 §4.2: the CA may say why it wants an early renewal; show it (B9).
  if (plan.explanationUrl)
    return `${domain}: the CA asks for renewal now (${plan.reason}); see ${plan.explanationUrl}`;
  return `${domain}: ${plan.reason}; ${plan.certificate ? 'renewing' : 'obtaining'}`;
}

/**
 * What came of a due plan. `destination` follows the validity of a new certificate (" → path", or
 * " (dry run, not saved)"). A failure's line is an error line: the caller prints it on stderr.
 */
export function resultLine(outcome: RenewalOutcome, destination = ''): string {
  switch (outcome.outcome) {
    case 'not-due':
    case 'backoff':
      return planLine(outcome);
    case 'obtained':
    case 'renewed': {
      const domain = outcome.plan.target.files.mainDomain;
      return `${domain}: ${outcome.outcome}, valid until ${isoTime(outcome.saved.result.notAfter)}${destination}`;
    }
    case 'renewed-elsewhere': {
      const domain = outcome.plan.target.files.mainDomain;
      return `${domain}: ${outcome.reason}, valid until ${outcome.record.acmekit?.notAfter ? isoTime(outcome.record.acmekit.notAfter) : 'unknown'}`;
    }
    case 'lease-lost':
      return `${outcome.plan.target.files.mainDomain}: ${outcome.reason}`;
    case 'failed': {
      const err = outcome.error as Error & { describe?: () => string };
      return `${outcome.plan.target.files.mainDomain}: failed: ${err.describe?.() ?? err.message}`;
    }
  }
}
