import type { OptionValue, ParsedArgs } from './parse-args.ts';

/** Typed access to the parsed options. */
export class Options {
  readonly #o: Record<string, OptionValue>;
  readonly sources: Record<string, string>;
  constructor(parsed: ParsedArgs) {
    this.#o = parsed.options;
    this.sources = parsed.sources;
  }
  /** Sets a value found elsewhere (e.g. in a certificate record), marking where it came from. */
  set(name: string, value: OptionValue, from = 'stored certificate settings'): void {
    this.#o[name] = value;
    this.sources[name] = from;
  }
  str(name: string): string | undefined {
    const v = this.#o[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  }
  bool(name: string): boolean {
    return this.#o[name] === true;
  }
  num(name: string): number | undefined {
    const v = this.#o[name];
    return typeof v === 'number' ? v : undefined;
  }
  list(name: string): string[] {
    const v = this.#o[name];
    return Array.isArray(v) ? v : [];
  }
}
