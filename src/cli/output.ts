import { UsageError } from '../errors/usage.ts';
import type { OptionName } from './flags.ts';
import { StatusLine } from './status-line.ts';

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

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** What the CLI prints: one line per event in text mode, one JSON document with --json, errors only with --quiet. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Set by --log-level/--verbose: library events at this level and above go to stderr, terminal or not. */
  readonly logLevel: LogLevel | undefined;
  readonly #stdout: Stream;
  readonly #stderr: Stream;
  /** The line that shows what is awaited: stderr is a terminal, no --json, no --quiet, no --log-level warn/error. */
  readonly #status: StatusLine | undefined;

  constructor(opts: {
    json: boolean;
    quiet: boolean;
    logLevel?: LogLevel | undefined;
    stdout?: Stream;
    stderr?: Stream;
    /** Options of the status line (tests). */
    status?: ConstructorParameters<typeof StatusLine>[1];
  }) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.logLevel = opts.logLevel;
    this.#stdout = opts.stdout ?? process.stdout;
    this.#stderr = opts.stderr ?? process.stderr;
    const stderr = this.#stderr;
    // --log-level warn or error asks for no progress: no status line either.
    const progress = this.logLevel === undefined || this.logLevel === 'info' || this.logLevel === 'debug';
    this.#status =
      stderr.isTTY && !this.json && !this.quiet && progress
        ? new StatusLine(
            {
              write: (text) => stderr.write(text),
              get columns() {
                return stderr.columns;
              },
            },
            opts.status,
          )
        : undefined;
  }

  /** Whether waits show on the status line (stderr is a terminal; no --json, --quiet, --log-level warn/error). */
  get live(): boolean {
    return this.#status !== undefined;
  }

  /** A wait begins: shown on the status line until `waitEnded(key)`; nothing when not `live`. */
  waitStarted(key: string, what: string, waitFor: string, delayMs?: number): void {
    this.#status?.begin(key, what, waitFor, delayMs);
  }

  waitEnded(key: string): void {
    this.#status?.end(key);
  }

  /** Takes the status line away for good (the command is over, or failed). */
  close(): void {
    this.#status?.close();
  }

  /** A result line ("example.com: renewed, valid until …"); silent with --json or --quiet. */
  line(text: string): void {
    if (!this.json && !this.quiet) this.#write(this.#stdout, `${text}\n`);
  }

  /** Progress for long waits, only when a person watches stderr. */
  progress(text: string): void {
    if (!this.json && !this.quiet && this.#stderr.isTTY) this.#write(this.#stderr, `${text}\n`);
  }

  /** A log line asked for with --log-level: always on stderr, so stdout stays one document with --json. */
  log(text: string): void {
    this.#write(this.#stderr, `${text}\n`);
  }

  warn(text: string): void {
    if (!this.quiet) this.#write(this.#stderr, `warning: ${text}\n`);
  }

  error(text: string): void {
    this.#write(this.#stderr, `error: ${text}\n`);
  }

  /** The machine-readable document (only with --json). */
  document(doc: unknown): void {
    if (this.json) this.#write(this.#stdout, `${JSON.stringify(doc, null, 2)}\n`);
  }

  // The status line leaves the terminal while another line is written (stdout may be that terminal
  // too), and comes back under it.
  #write(stream: Stream, text: string): void {
    const status = stream === this.#stderr || stream.isTTY ? this.#status : undefined;
    status?.hide();
    try {
      stream.write(text);
    } finally {
      status?.show();
    }
  }
}
