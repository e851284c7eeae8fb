import { redactEnvironmentSecrets as redact } from '../internal/redact.ts';
import type { ProcessResult } from '../internal/run-process.ts';
import { AcmekitError } from './base.ts';

const TAIL_CHARS = 2_000;

type HookErrorOptions = { cause?: unknown; env?: Record<string, string> };

/** A hook failed, timed out or could not start; the certificate it was for is kept. */
export class HookError extends AcmekitError {
  readonly hook: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The end of the hook's stderr (or stdout when stderr was empty), secrets from the environment redacted. */
  readonly outputTail: string;
  /** `options.env`: the variables the hook got, so the message can show a command line that reproduces the run. */
  constructor(hook: string, command: string, result: ProcessResult, options: HookErrorOptions = {}) {
    const how = result.timedOut
      ? `timed out after ${seconds(result.durationMs)} and was killed`
      : result.signal
        ? `was killed by ${result.signal}`
        : result.exitCode === null
          ? 'could not start'
          : `exited with code ${result.exitCode}`;
    const raw = result.stderr.trim() || result.stdout.trim();
    const tail = redact(raw.length > TAIL_CHARS ? `…${raw.slice(-TAIL_CHARS)}` : raw);
    const vars = Object.entries(options.env ?? { ACMEKIT_CERT_DOMAIN: 'example.com' })
      .filter(([k]) => k.startsWith('ACMEKIT_'))
      .map(([k, v]) => `${k}=${quote(v)} `)
      .join('');
    super(
      'ERR_HOOK',
      `${hook} ${how}: ${redact(command)}${tail ? `\n--- last output ---\n${tail}\n---` : ' (no output)'}` +
        `\nTo test it, run it as acmekit does: env ${redact(vars)}/bin/sh -c ${quote(redact(command))}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.hook = hook;
    this.command = redact(command);
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.timedOut = result.timedOut;
    this.outputTail = tail;
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
