import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors/base.ts';
import { parseDurationMs } from '../internal/duration.ts';
import { Secret } from '../internal/secret.ts';

/** One environment variable a provider reads, in lego's spelling. */
export interface EnvVarSpec {
  readonly name: string;
  /** Older or alternative names read when `name` is unset (lego's env.GetWithFallback), in order. */
  readonly fallbacks?: readonly string[];
  readonly description: string;
  readonly required?: boolean;
  /** Never printed; `<NAME>_FILE` is also accepted (as for every variable). */
  readonly secret?: boolean;
  /** Shown in `acmekit dns help`; applied by the provider's configure(). */
  readonly default?: string;
}

export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * A provider's view of its environment: only the variables it declared, each also readable from a file
 * named by `<NAME>_FILE` (secrets mounted by Docker or systemd credentials). Missing required values fail
 * here, before any request, with the variable's name and never its value.
 */
export class ProviderEnv {
  readonly provider: string;
  readonly #specs: Map<string, EnvVarSpec>;
  readonly #source: EnvSource;

  constructor(provider: string, specs: readonly EnvVarSpec[], source: EnvSource) {
    this.provider = provider;
    this.#specs = new Map(specs.map((s) => [s.name, s]));
    this.#source = source;
  }

  /** The trimmed value, or undefined when unset or empty. */
  string(name: string): string | undefined {
    const spec = this.#spec(name);
    for (const candidate of [spec.name, ...(spec.fallbacks ?? [])]) {
      const direct = this.#source[candidate];
      if (direct !== undefined && direct.trim() !== '') return direct.trim();
      const file = this.#source[`${candidate}_FILE`];
      if (file !== undefined && file.trim() !== '') return this.#readFile(candidate, file.trim());
    }
    return undefined;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw this.#missing(name);
    return value;
  }

  secret(name: string): Secret | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : new Secret(value);
  }

  requiredSecret(name: string): Secret {
    return new Secret(this.required(name));
  }

  /** A duration in lego's form (whole seconds, "120") or with a unit ("90s", "2m", "1h", "500ms"); milliseconds. */
  durationMs(name: string, fallbackMs: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallbackMs;
    const ms = parseDurationMs(raw);
    if (ms === undefined)
      throw this.#invalid(name, raw, 'a number of seconds or a duration such as 90s or 2m');
    return ms;
  }

  int(name: string, fallback: number, min = 0): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw this.#invalid(name, raw, `a whole number ≥ ${min}`);
    return Number(raw);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    throw this.#invalid(name, raw, 'true or false');
  }

  #spec(name: string): EnvVarSpec {
    const spec = this.#specs.get(name);
    // A provider reading a variable it did not declare would be missing from `acmekit dns help`.
    if (!spec)
      throw new Error(`${this.provider}: variable ${name} is not declared in the provider's env list`);
    return spec;
  }

  #readFile(name: string, path: string): string {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidInputError(
        `${this.provider}: ${name}_FILE names ${path}, which cannot be read (${code})`,
        path,
        {
          cause: err,
        },
      );
    }
    const value = text.trim();
    if (value === '')
      throw new InvalidInputError(`${this.provider}: ${name}_FILE names ${path}, which is empty`, path);
    return value;
  }

  #missing(name: string): InvalidInputError {
    const spec = this.#spec(name);
    const names = [spec.name, ...(spec.fallbacks ?? [])];
    return new InvalidInputError(
      `${this.provider}: ${names.join(' or ')} is not set (set it, or ${spec.name}_FILE to a file holding it); ` +
        `\`acmekit dns help ${this.provider}\` lists every variable`,
      spec.name,
    );
  }

  #invalid(name: string, raw: string, expected: string): InvalidInputError {
    const secret = this.#spec(name).secret === true;
    return new InvalidInputError(
      `${this.provider}: ${name} must be ${expected}${secret ? '' : `, got ${JSON.stringify(raw)}`}`,
      secret ? name : raw,
    );
  }
}
