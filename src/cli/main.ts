import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors/usage.ts';
import { mark } from '../internal/timing.ts';
import { ACMEKIT_VERSION } from '../internal/version.ts';
import { exitCodeFor, exitCodes } from './exit-codes.ts';
import { helpFor } from './help.ts';
import { nextStep } from './next-step.ts';
import { logLevelOption, Output } from './output.ts';
import {
  applyConfig,
  applyDefaults,
  applyEnvironment,
  checkUnsupported,
  notAppliedNotes,
  type ParsedArgs,
  parseArgs,
} from './parse-args.ts';

async function loadConfig(parsed: ParsedArgs): Promise<void> {
  const file = parsed.options.config;
  if (typeof file !== 'string') return;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`config file ${file} must hold a mapping of settings`);
  applyConfig(parsed, doc as Record<string, unknown>, file);
}

/** Where main() prints; process.stdout and process.stderr unless a test gives others. */
export interface MainStreams {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs one command line; returns the exit code. Never calls process.exit so tests can run it in-process. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  streams: MainStreams = {},
): Promise<number> {
  mark('main');
  const stdout = streams.stdout ?? process.stdout;
  let out = new Output({
    json: argv.includes('--json'),
    quiet: argv.includes('--quiet') || argv.includes('-q'),
    ...streams,
  });
  try {
    const parsed = parseArgs(argv);
    if (parsed.options.version || parsed.command[0] === 'version') {
      stdout.write(`acmekit ${ACMEKIT_VERSION}\n`);
      return exitCodes.ok;
    }
    if (parsed.options.help || parsed.command.length === 0 || parsed.command[0] === 'help') {
      stdout.write(helpFor(parsed.command, parsed.positional));
      return parsed.command.length === 0 && !parsed.options.help ? exitCodes.usage : exitCodes.ok;
    }
    applyEnvironment(parsed, env);
    await loadConfig(parsed);
    applyDefaults(parsed);
    checkUnsupported(parsed);
    out = new Output({
      json: parsed.options.json === true,
      quiet: parsed.options.quiet === true,
      logLevel: logLevelOption(parsed.options),
      ...streams,
    });
    for (const note of notAppliedNotes(parsed)) {
      if (note.warn) out.warn(note.text);
      else if (out.logLevel === 'debug') out.log(`debug: ${note.text}`);
    }
    const { runCommand } = await import('./commands/dispatch.ts');
    return await runCommand(parsed, { out, env });
  } catch (err) {
    out.close();
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    const describe = (err as { describe?: () => string }).describe;
    out.error(typeof describe === 'function' ? describe.call(err) : message);
    const next = nextStep(err);
    if (next) out.log(`  next: ${next}`);
    out.document({
      ok: false,
      error: { code: (err as { code?: string }).code ?? 'ERR_UNKNOWN', message, ...(next ? { next } : {}) },
    });
    return code;
  } finally {
    // Nothing of the status line is left on the terminal, whatever happened.
    out.close();
  }
}
