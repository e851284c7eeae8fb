import type { DnsProviderDefinition } from '../../dns/definition.ts';
import { standardEnv } from '../../dns/definition.ts';
import type { EnvVarSpec } from '../../dns/env.ts';
import { dnsProviderCodes, loadDnsProviderDefinition } from '../../dns/registry.ts';
import { UsageError } from '../../errors/usage.ts';
import { exitCodes } from '../exit-codes.ts';
import type { ParsedArgs } from '../parse-args.ts';
import type { CommandEnv } from './command-env.ts';

/** `acmekit dns list` and `acmekit dns help NAME`: what each provider needs, from its definition. */
export async function dnsCommand(
  parsed: ParsedArgs,
  ctx: CommandEnv,
  sub: string | undefined,
): Promise<number> {
  const { out } = ctx;
  if (sub === 'list') {
    const defs = await Promise.all(dnsProviderCodes().map((c) => loadDnsProviderDefinition(c)));
    out.document(defs.map(describe));
    const width = Math.max(...defs.map((d) => d.code.length));
    for (const d of defs) {
      const aliases = d.aliases?.length ? ` (also ${d.aliases.join(', ')})` : '';
      out.line(`${d.code.padEnd(width)}  ${d.title}${aliases}`);
    }
    out.line(
      '\n`acmekit dns help NAME` shows the variables a provider reads; `acmekit dns check NAME -d DOMAIN` tries it.',
    );
    return exitCodes.ok;
  }
  if (sub === 'help') {
    const code = parsed.positional[0];
    if (!code) throw new UsageError('dns help needs a provider name, e.g. `acmekit dns help cloudflare`');
    const def = await loadDnsProviderDefinition(code);
    out.document(describe(def));
    out.line(helpText(def));
    return exitCodes.ok;
  }
  if (sub === 'check') return (await import('./dns-check.ts')).dnsCheckCommand(parsed, ctx);
  throw new UsageError('dns needs a subcommand: list, help NAME, or check NAME -d DOMAIN');
}

function describe(def: DnsProviderDefinition) {
  const variable = (v: EnvVarSpec) => ({
    name: v.name,
    description: v.description,
    required: v.required === true,
    secret: v.secret === true,
    ...(v.default !== undefined ? { default: v.default } : {}),
    ...(v.fallbacks?.length ? { fallbacks: v.fallbacks } : {}),
  });
  return {
    code: def.code,
    aliases: def.aliases ?? [],
    title: def.title,
    description: def.description,
    ...(def.permissions ? { permissions: def.permissions } : {}),
    ...(def.docsUrl ? { docsUrl: def.docsUrl } : {}),
    ...(def.example ? { example: def.example } : {}),
    variables: def.env.map(variable),
    settings: standardEnv(def).map(variable),
  };
}

/** The text of `acmekit dns help NAME`, also used for docs/dns-providers.md. */
export function helpText(def: DnsProviderDefinition): string {
  const row = (v: EnvVarSpec): string => {
    const marks = [
      v.required ? 'required' : '',
      v.secret ? 'secret' : '',
      v.default ? `default ${v.default}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const also = v.fallbacks?.length ? ` (or ${v.fallbacks.join(', ')})` : '';
    return `  ${v.name}${also}\n      ${v.description}${marks ? ` [${marks}]` : ''}`;
  };
  const lines = [
    `${def.title} — --dns ${def.code}${def.aliases?.length ? ` (or ${def.aliases.join(', ')})` : ''}`,
    '',
  ];
  lines.push(def.description, '');
  if (def.env.length > 0) lines.push('Variables:', ...def.env.map(row), '');
  lines.push('Settings:', ...standardEnv(def).map(row), '');
  lines.push('Every variable can instead name a file holding the value: <NAME>_FILE=/path.', '');
  if (def.permissions) lines.push(`Permissions: ${def.permissions}`, '');
  if (def.example) lines.push('Example:', ...def.example.split('\n').map((l) => `  ${l}`), '');
  if (def.docsUrl) lines.push(`More: ${def.docsUrl}`);
  return lines.join('\n').trimEnd();
}
