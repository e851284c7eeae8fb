// docs/dns-providers.md and the README provider table, from the provider definitions; written by
// scripts/gen-dns-docs.ts, checked by test/unit/dns/docs.test.ts. No command imports this file.
import { helpText } from '../../src/cli/commands/dns.ts';
import type { DnsProviderDefinition } from '../../src/dns/definition.ts';

/** The provider table for README.md: name, required variables, title. */
export function providerTable(defs: readonly DnsProviderDefinition[]): string {
  const rows = defs.map((d) => {
    const required = d.env.filter((v) => v.required).map((v) => `\`${v.name}\``);
    const secretOnes = d.env.filter((v) => v.secret && !v.required).map((v) => `\`${v.name}\``);
    const vars = [...required, ...secretOnes].join(', ') || '—';
    const names = [d.code, ...(d.aliases ?? [])].map((c) => `\`${c}\``).join(', ');
    return `| ${names} | ${d.title} | ${vars} |`;
  });
  return ['| `--dns` | Provider | Main variables |', '|---|---|---|', ...rows].join('\n');
}

/** docs/dns-providers.md: the table, then every provider's `dns help` text. */
export function providersMarkdown(defs: readonly DnsProviderDefinition[]): string {
  const parts = [
    '# DNS providers',
    '',
    'Generated from the provider definitions by `npx tsx scripts/gen-dns-docs.ts`; `acmekit dns help NAME` prints the same.',
    '',
    providerTable(defs),
    '',
  ];
  for (const d of defs) parts.push(`## ${d.code}`, '', '```text', helpText(d), '```', '');
  return parts.join('\n');
}
