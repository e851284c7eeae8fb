/** What the CLI prints: one line per event in text mode, one JSON document with --json, errors only with --quiet. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly #stdout: NodeJS.WritableStream;
  readonly #stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(opts: {
    json: boolean;
    quiet: boolean;
    stdout?: NodeJS.WritableStream;
    stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  }) {
    this.json = opts.json;
    this.quiet = opts.quiet;
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
