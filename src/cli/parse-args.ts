import { UsageError } from '../errors/usage.ts';
import { type FlagSpec, flagBySpelling, flags, type OptionName } from './flags.ts';

/** Commands and their subcommands; lego v4 (`run renew revoke list`) and v5 (`certificates …`, `accounts …`). */
export const commandTree: Readonly<Record<string, readonly string[]>> = {
  run: [],
  renew: [],
  revoke: [],
  list: [],
  certificates: ['list', 'revoke'],
  accounts: ['list', 'register', 'keyrollover', 'info', 'show', 'update', 'deactivate'],
  dns: ['list', 'help', 'check'],
  storage: ['migrate', 'copy'],
  help: [],
  version: [],
};

export type OptionValue = string | number | boolean | string[];

/**
 * lego v4's short flags of one command, which mean another option there than globally: after
 * `revoke`, -k is --keep (globally --key-type); after `list`, -a is --accounts (globally --accept-tos).
 */
const commandShortFlags: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  revoke: { k: 'keep' },
  list: { a: 'accounts' },
};

/**
 * Options whose value is a domain name. A name never starts with "-", but one given that way is a
 * mistake in the name, not a missing value: `-d -lead.example.com` takes "-lead.example.com" as the
 * name (refused then as an invalid name) unless it is an option acmekit knows (`-d --http`).
 */
const NAME_VALUED: ReadonlySet<OptionName> = new Set<OptionName>(['domains']);

/** Whether `raw`, which starts with "-", is the value of `spec` after all (see NAME_VALUED). */
function dashedValue(spec: FlagSpec, raw: string, command: string | undefined): boolean {
  return NAME_VALUED.has(spec.name) && raw !== '--' && optionSpelledBy(raw, command) === undefined;
}

/** The option a command-line word spells (`--days`, `-d`, `--days=30`, a command's own short flag), if any. */
function optionSpelledBy(token: string, command: string | undefined): FlagSpec | undefined {
  const long = token.startsWith('--');
  const body = token.slice(long ? 2 : 1);
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  if ((!long && name.length !== 1) || (long && name.length === 1)) return undefined;
  const local = long ? undefined : commandShortFlags[command ?? '']?.[name];
  return flagBySpelling(local ?? name);
}

export interface ParsedArgs {
  /** e.g. ['run'] or ['certificates', 'list']; empty when none was given. */
  command: string[];
  /** Words after the command (e.g. `dns help cloudflare`). */
  positional: string[];
  options: Partial<Record<OptionName, OptionValue>>;
  /** Where each option came from, for error messages: "--days", "env LEGO_EMAIL", "config". */
  sources: Partial<Record<OptionName, string>>;
}

function convert(spec: FlagSpec, raw: string, from: string): OptionValue {
  switch (spec.type) {
    case 'boolean':
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      throw new UsageError(`${from} takes true or false, not ${JSON.stringify(raw)}`);
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new UsageError(`${from} needs a number, not ${JSON.stringify(raw)}`);
      return n;
    }
    case 'list':
      // lego (urfave/cli string slices) splits a value on commas: -d a.com,b.com is two names.
      return raw.split(',').map((s) => s.trim());
    case 'duration': {
      const seconds = parseDurationSeconds(raw);
      if (seconds === undefined)
        throw new UsageError(
          `${from} needs a duration such as 90 (seconds), 30s, 2m or 1m30s, not ${JSON.stringify(raw)}`,
        );
      return seconds;
    }
    default:
      return raw;
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * Seconds from a plain number ("90") or a Go duration as lego's flags take them ("30s", "2m0s",
 * "1h30m", "1.5h", "500ms"); undefined when it is neither, or negative.
 */
export function parseDurationSeconds(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  return Math.round(total * 1e6) / 1e6;
}

function closest(word: string): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const f of flags) {
    for (const s of f.spellings) {
      if (s.length < 2) continue;
      const score = editDistance(word, s);
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
  }
  return bestScore <= 3 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * Reads argv in either lego dialect: options may come before the command (v4) or after it (v5).
 * The same option given by two spellings with different values (--days 30 --renew-days 7) is an error.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: [], positional: [], options: {}, sources: {} };
  const set = (spec: FlagSpec, value: OptionValue, from: string): void => {
    const prev = out.sources[spec.name];
    // A refused flag keeps its first spelling: the refusal names it, not a conflict between spellings.
    if (spec.unsupported && prev !== undefined && spec.type !== 'list') return;
    if (spec.type === 'list') {
      const list = (out.options[spec.name] as string[] | undefined) ?? [];
      out.options[spec.name] = [...list, ...(value as string[])];
      out.sources[spec.name] = prev ?? from;
      return;
    }
    if (prev !== undefined && prev !== from && out.options[spec.name] !== value) {
      throw new UsageError(
        `${prev} ${String(out.options[spec.name])} and ${from} ${String(value)} set the same option differently; keep one`,
      );
    }
    out.options[spec.name] = value;
    out.sources[spec.name] = from;
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith('-') && token !== '-') {
      const long = token.startsWith('--');
      const body = token.slice(long ? 2 : 1);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const local = long ? undefined : commandShortFlags[out.command[0] ?? '']?.[name];
      const spec = flagBySpelling(local ?? name);
      const from = `${long ? '--' : '-'}${name}`;
      if (!spec || (!long && name.length !== 1) || (long && name.length === 1)) {
        const hint = closest(name);
        const help = out.command[0] ? `acmekit ${out.command[0]} --help` : 'acmekit COMMAND --help';
        throw new UsageError(
          `unknown option ${from}${hint ? `; did you mean --${hint}?` : ''} (${help} lists the options)`,
        );
      }
      if (spec.type === 'boolean') {
        const next = argv[i + 1];
        if (eq < 0 && spec.valueOptional && next !== undefined && /^(true|false)$/i.test(next)) {
          // lego declares this one as a string flag: `--always-deactivate-authorizations true` is its spelling.
          set(spec, convert(spec, next, from), from);
          i++;
          continue;
        }
        set(spec, eq >= 0 ? convert(spec, body.slice(eq + 1), from) : true, from);
        continue;
      }
      let raw: string | undefined = eq >= 0 ? body.slice(eq + 1) : argv[i + 1];
      if (eq < 0) {
        if (
          raw === undefined ||
          (raw.startsWith('-') &&
            raw.length > 1 &&
            spec.type !== 'number' &&
            !dashedValue(spec, raw, out.command[0]))
        ) {
          throw new UsageError(`${from} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
        }
        i++;
      }
      raw ??= '';
      set(spec, convert(spec, raw, from), from);
      continue;
    }
    const parent = out.command[0];
    if (parent === undefined && Object.hasOwn(commandTree, token)) out.command.push(token);
    else if (
      parent !== undefined &&
      out.command.length === 1 &&
      (commandTree[parent] ?? []).includes(token)
    ) {
      out.command.push(token);
    } else if (parent === undefined) {
      throw new UsageError(
        `unknown command ${JSON.stringify(token)}; commands: ${Object.keys(commandTree).join(', ')}`,
      );
    } else out.positional.push(token);
  }
  return out;
}

/** Every option has ACMEKIT_<NAME> (renewDays → ACMEKIT_RENEW_DAYS), plus the lego names the table lists. */
export function envNames(spec: FlagSpec): string[] {
  const own = `ACMEKIT_${spec.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
  const listed = spec.env ?? [];
  return listed.includes(own) ? [...listed] : [own, ...listed];
}

/** Fills options not given on the command line from environment variables (ours first, then lego's). */
export function applyEnvironment(parsed: ParsedArgs, env: NodeJS.ProcessEnv): void {
  for (const spec of flags) {
    if (Object.hasOwn(parsed.options, spec.name) || spec.name === 'help' || spec.name === 'version') continue;
    for (const name of envNames(spec)) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      parsed.options[spec.name] = convert(spec, raw.trim(), `environment variable ${name}`);
      parsed.sources[spec.name] = `environment variable ${name}`;
      break;
    }
  }
}

/** Fills what is still unset from a config object (already parsed YAML); unknown keys are errors. */
export function applyConfig(parsed: ParsedArgs, config: Record<string, unknown>, file: string): void {
  for (const [key, value] of Object.entries(config)) {
    const spec = flags.find((f) => f.name === key);
    if (!spec || spec.name === 'config') {
      throw new UsageError(`${file}: unknown setting ${JSON.stringify(key)} (see docs/config.schema.json)`);
    }
    if (Object.hasOwn(parsed.options, key)) continue;
    const from = `${file}: ${key}`;
    if (spec.type === 'list') {
      const list = Array.isArray(value) ? value : [value];
      if (!list.every((v) => typeof v === 'string'))
        throw new UsageError(`${from} must be a list of strings`);
      parsed.options[spec.name] = list as string[];
    } else if (typeof value === spec.type) {
      parsed.options[spec.name] = value as OptionValue;
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      parsed.options[spec.name] = convert(spec, String(value), from);
    } else {
      throw new UsageError(`${from} must be a ${spec.type}`);
    }
    parsed.sources[spec.name] = from;
  }
}

/** Whether an option holds something: true, a non-empty string or list, any number. */
function isSet(value: OptionValue | undefined): boolean {
  if (value === undefined || value === false || value === '') return false;
  return !Array.isArray(value) || value.some((v) => v !== '');
}

/**
 * Refuses lego flags acmekit knows but cannot honour (exit 2, with what to use instead), from any
 * source: command line, environment or config file. Run after the environment and config are applied.
 */
export function checkUnsupported(parsed: ParsedArgs): void {
  for (const spec of flags) {
    if (!spec.unsupported || !isSet(parsed.options[spec.name])) continue;
    if (spec.allowedWhen?.(parsed.options)) continue;
    const from = parsed.sources[spec.name] ?? spec.name;
    throw new UsageError(`${from} is not supported: ${spec.unsupported}`);
  }
}

/** Lego flags that were given but are not applied, and why (for a debug line, or a warning). */
export function notAppliedNotes(parsed: ParsedArgs): { text: string; warn: boolean }[] {
  return flags
    .filter((spec) => spec.notApplied && isSet(parsed.options[spec.name]))
    .map((spec) => ({
      text: `${parsed.sources[spec.name] ?? spec.name} is accepted but not applied: ${spec.notApplied!.why}`,
      warn: spec.notApplied!.warn === true,
    }));
}

/** Defaults for what nobody set. */
export function applyDefaults(parsed: ParsedArgs): void {
  for (const spec of flags) {
    if (!Object.hasOwn(parsed.options, spec.name) && spec.default !== undefined) {
      parsed.options[spec.name] = spec.default;
    }
  }
}
