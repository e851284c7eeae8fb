import { randomBytes } from 'node:crypto';
import type { TxtRecord } from '../../dns/provider.ts';
import { DnsPropagationError } from '../../errors/dns.ts';
import { UsageError } from '../../errors/usage.ts';
import type { Dns01Solver } from '../../solvers/dns01.ts';
import { dnsReplayFrom, dnsSolversFrom } from '../dns-solvers.ts';
import { exitCodes } from '../exit-codes.ts';
import { nextStep } from '../next-step.ts';
import { Options } from '../options.ts';
import type { ParsedArgs } from '../parse-args.ts';
import { progressLogger } from '../progress-logger.ts';
import type { CommandEnv } from './command-env.ts';

interface Step {
  step: 'record' | 'present' | 'propagation' | 'cleanup';
  ok: boolean;
  ms: number;
  detail?: string;
  error?: { code: string; message: string; next?: string };
  /** Each nameserver's answer when the record did not show everywhere. */
  nameservers?: { nameserver: string; values: readonly string[]; error?: string }[];
}

const WHAT: Record<Step['step'], string> = {
  record: 'find the zone (CNAME followed)',
  present: 'add a test TXT record',
  propagation: 'see it on every nameserver',
  cleanup: 'remove it',
};

/**
 * `acmekit dns check PROVIDER -d NAME`: what a dns-01 challenge does with the provider, without a CA. A
 * random TXT value goes to `_acme-challenge.NAME`, the check waits until every authoritative nameserver
 * (or the resolvers given) answers it, and the value is removed again; each step is reported with its
 * time and, when it fails, the exact reason. The first thing to run after setting credentials.
 */
export async function dnsCheckCommand(parsed: ParsedArgs, { out }: CommandEnv): Promise<number> {
  const o = new Options(parsed);
  const code = parsed.positional[0] ?? o.list('dns')[0];
  if (!code)
    throw new UsageError('dns check needs a provider, e.g. `acmekit dns check cloudflare -d example.com`');
  if (code.includes('=')) throw new UsageError(`dns check takes one provider name, not ${code}`);
  const names = o.list('domains').map((d) => d.trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, ''));
  if (names.length === 0) throw new UsageError('dns check needs the name to test: -d example.com');
  o.set('dns', [code], 'dns check');
  const replay = dnsReplayFrom(o)!;
  const [solver] = (await dnsSolversFrom(replay, progressLogger(out))) as Dns01Solver[];
  const signal = new AbortController().signal;
  const checks = [];
  let ok = true;
  for (const name of names) {
    const check = await checkOne(solver!, name, signal);
    checks.push(check);
    ok &&= check.steps.every((s) => s.ok);
    out.line(
      `${name}: ${check.fqdn ?? `_acme-challenge.${name}`}${check.zone ? ` in zone ${check.zone}` : ''}`,
    );
    for (const s of check.steps) {
      out.line(
        `  ${s.ok ? 'ok    ' : 'FAILED'} ${WHAT[s.step].padEnd(30)} ${formatMs(s.ms)}${s.detail ? `  ${s.detail}` : ''}`,
      );
      if (s.error) out.line(`         ${s.error.message}`);
      for (const n of s.nameservers ?? [])
        out.line(
          `         ${n.nameserver}: ${n.error ?? (n.values.length ? n.values.join(', ') : 'no TXT value')}`,
        );
      if (s.error?.next) out.line(`         next: ${s.error.next}`);
    }
  }
  out.document({ ok, provider: code, checks });
  return ok ? exitCodes.ok : exitCodes.failure;
}

async function checkOne(solver: Dns01Solver, name: string, signal: AbortSignal) {
  const value = randomBytes(32).toString('base64url');
  const steps: Step[] = [];
  let record: TxtRecord | undefined;
  const timed = async (step: Step['step'], fn: () => Promise<string | undefined>): Promise<boolean> => {
    const started = performance.now();
    try {
      const detail = await fn();
      steps.push({ step, ok: true, ms: performance.now() - started, ...(detail ? { detail } : {}) });
      return true;
    } catch (err) {
      const e = err as Error & { code?: string };
      const next = nextStep(err);
      steps.push({
        step,
        ok: false,
        ms: performance.now() - started,
        error: { code: e.code ?? 'ERR_UNKNOWN', message: e.message, ...(next ? { next } : {}) },
        ...(err instanceof DnsPropagationError ? { nameservers: err.answers.map((a) => ({ ...a })) } : {}),
      });
      return false;
    }
  };
  const found = await timed('record', async () => {
    record = await solver.recordFor(`_acme-challenge.${name}`, value, signal);
    return undefined;
  });
  if (found && record) {
    const r = record;
    const presented = await timed('present', async () =>
      solver.provider.present(r, signal).then(() => undefined),
    );
    if (presented)
      await timed('propagation', async () => solver.waitFor(r, [value], signal).then(() => undefined));
    // Always, as after a challenge: a present that failed halfway may have written the value.
    await timed('cleanup', async () => solver.provider.cleanup(r, signal).then(() => undefined));
  }
  return { name, fqdn: record?.fqdn, zone: record?.zone, steps };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
