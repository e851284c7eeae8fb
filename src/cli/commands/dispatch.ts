import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { UsageError } from '../../errors/usage.ts';
import { Options } from '../options.ts';
import type { ParsedArgs } from '../parse-args.ts';
import type { CommandEnv } from './command-env.ts';

/**
 * lego v5's --env-file: KEY=VALUE lines (dotenv) added to the environment before anything reads it
 * (DNS providers read their credentials from it); a variable that is already set keeps its value.
 */
async function loadEnvFile(path: string, ctx: CommandEnv): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read --env-file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (value === undefined) continue;
    for (const env of new Set([process.env, ctx.env])) if (env[name] === undefined) env[name] = value;
  }
}

/** Maps both dialects' command words to one implementation each, loaded only when used. */
export async function runCommand(parsed: ParsedArgs, ctx: CommandEnv): Promise<number> {
  const o = new Options(parsed);
  const envFile = o.str('envFile');
  if (envFile) await loadEnvFile(envFile, ctx);
  const [first, second] = parsed.command;
  switch (first) {
    case 'run':
      return (await import('./obtain.ts')).obtainCommand(o, ctx, 'run');
    case 'renew':
      return (await import('./obtain.ts')).obtainCommand(o, ctx, 'renew');
    case 'revoke':
      return (await import('./revoke.ts')).revokeCommand(o, ctx);
    case 'list':
      return (await import('./list.ts')).listCommand(o, ctx);
    case 'certificates':
      if (second === 'list') return (await import('./list.ts')).listCommand(o, ctx);
      if (second === 'revoke') return (await import('./revoke.ts')).revokeCommand(o, ctx);
      throw new UsageError('certificates needs a subcommand: list or revoke');
    case 'accounts': {
      // `show` is `info` as a certbot user (show_account) would guess it.
      const sub = second === 'show' ? 'info' : second;
      if (
        sub === 'list' ||
        sub === 'register' ||
        sub === 'keyrollover' ||
        sub === 'info' ||
        sub === 'update' ||
        sub === 'deactivate'
      ) {
        return (await import('./accounts.ts')).accountsCommand(o, ctx, sub);
      }
      throw new UsageError(
        'accounts needs a subcommand: list, register, info (or show), update, deactivate or keyrollover',
      );
    }
    case 'dns':
      return (await import('./dns.ts')).dnsCommand(parsed, ctx, second);
    case 'storage':
      if (second === 'migrate' || second === 'copy') {
        return (await import('./storage.ts')).storageCommand(o, ctx, second);
      }
      throw new UsageError('storage needs a subcommand: migrate or copy');
    default:
      throw new UsageError(`unknown command ${String(first)}`);
  }
}
