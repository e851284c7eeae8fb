import { UsageError } from '../errors/usage.ts';
import type { OptionName } from './flags.ts';

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

/** --log-level, or debug for --verbose; undefined when neither is given (warnings, and progress on a terminal). */
export function logLevelOption(
  options: Readonly<Partial<Record<OptionName, unknown>>>,
): LogLevel | undefined {
  const given = options.logLevel;
  if (given === undefined || given === '') return options.verbose === true ? 'debug' : undefined;
  const level = String(given).toLowerCase();
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level ${String(given)}: expected error, warn, info or debug`);
  }
  return level as LogLevel;
}

/** What the CLI prints: one line per event in text mode, one JSON document with --json, errors only with --quiet. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Set by --log-level/--verbose: library events at this level and above go to stderr, terminal or not. */
  readonly logLevel: LogLevel | undefined;
  readonly #stdout: NodeJS.WritableStream;
  readonly #stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(opts: {
    json: boolean;
    quiet: boolean;
    logLevel?: LogLevel | undefined;
    stdout?: NodeJS.WritableStream;
    stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  }) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.logLevel = opts.logLevel;
    this.#stdout = opts.stdout ?? process.stdout;
    this.#stderr = opts.stderr ?? process.stderr;
  }

  /** A result line ("example.com: renewed, valid until …"); silent with --json or --quiet. */
  line(text: string): void {
    if (!this.json && !this.quiet) this.#stdout.write(`${text}\n`);
  }

  /** Progress for long waits, only when a person watches stderr. */
  progress(text: string): void {
    if (!this.json && !this.quiet && this.#stderr.isTTY) this.#stderr.write(`${text}\n`);
  }

  /** A log line asked for with --log-level: always on stderr, so stdout stays one document with --json. */
  log(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    if (!this.quiet) this.#stderr.write(`warning: ${text}\n`);
  }

  error(text: string): void {
    this.#stderr.write(`error: ${text}\n`);
  }

  /** The machine-readable document (only with --json). */
  document(doc: unknown): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
}
