import type { OptionName, OptionNameOf } from './flags.ts';
import type { OptionValue, ParsedArgs } from './parse-args.ts';

/**
 * Typed access to the parsed options. Names come from the flag table (src/cli/flags.ts), and each
 * reader takes only the options of its type: `o.str('emial')` or `o.bool('email')` does not compile.
 */
export class Options {
  readonly #o: Partial<Record<OptionName, OptionValue>>;
  /** Where each given option came from ("--days", "environment variable LEGO_EMAIL", …). */
  readonly sources: Partial<Record<OptionName, string>>;
  constructor(parsed: ParsedArgs) {
    this.#o = parsed.options;
    this.sources = parsed.sources;
  }
  /** Sets a value found elsewhere (e.g. in a certificate record), marking where it came from. */
  set(name: OptionName, value: OptionValue, from = 'stored certificate settings'): void {
    this.#o[name] = value;
    this.sources[name] = from;
  }
  str(name: OptionNameOf<'string'>): string | undefined {
    const v = this.#o[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  }
  bool(name: OptionNameOf<'boolean'>): boolean {
    return this.#o[name] === true;
  }
  num(name: OptionNameOf<'number' | 'duration'>): number | undefined {
    const v = this.#o[name];
    return typeof v === 'number' ? v : undefined;
  }
  list(name: OptionNameOf<'list'>): string[] {
    const v = this.#o[name];
    return Array.isArray(v) ? v : [];
  }
}
