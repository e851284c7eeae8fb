import { UsageError } from '../errors/usage.ts';
import { type CommandName, commandNames, commandsOf, type FlagSpec, flags } from './flags.ts';
import { envNames } from './parse-args.ts';

/**
 * `acmekit --help` (the commands) and `acmekit COMMAND --help` / `acmekit help COMMAND` (one command's
 * options, grouped, with examples). Which options a command takes comes from the flag table
 * (`commandsOf`), so the pages cannot drift from the parser.
 */

const GROUPS: readonly [FlagSpec['group'], string][] = [
  ['global', 'Account and CA'],
  ['challenge', 'Challenges'],
  ['obtain', 'Obtaining'],
  ['renew', 'Renewing and hooks'],
  ['revoke', 'Revoking'],
  ['storage', 'Storage (a folder, or a database a cluster shares)'],
  ['output', 'General and output'],
];

/** Lines are wrapped to this width, with the help text of an option in a column of its own. */
const WIDTH = 100;
const COLUMN = 36;

interface Page {
  /** What `acmekit --help` says of the command, one line. */
  summary: string;
  usage: readonly string[];
  /** A few sentences above the options. */
  about: string;
  /** The commands whose options the page shows (`certificates` is list and revoke). */
  takes: readonly CommandName[];
  examples: readonly string[];
}

const pages: Readonly<Record<CommandName | 'certificates', Page>> = {
  run: {
    summary: 'Obtain a certificate for --domains, or renew it when it is due',
    usage: ['acmekit run [options]', 'acmekit [options] run          (lego v4 order)'],
    about:
      'obtains a certificate for --domains (or the names in --csr), or renews the stored one when it is due; when it is not due, says until when and exits 0. Needs a challenge: --http, --http.webroot DIR, --tls or --dns PROVIDER.',
    takes: ['run'],
    examples: [
      'acmekit run -a -m me@example.com -d example.com -d www.example.com --http',
      "acmekit run -m me@example.com -d example.com --http.webroot /var/www/html --deploy-hook 'systemctl reload nginx'",
      "CLOUDFLARE_DNS_API_TOKEN=... acmekit run -a -m me@example.com -d example.com -d '*.example.com' --dns cloudflare",
    ],
  },
  renew: {
    summary: 'Renew certificates when due (every stored one when no --domains)',
    usage: ['acmekit renew [options]', 'acmekit [options] renew        (lego v4 order)'],
    about:
      'renews the certificate of --domains when it is due, or every stored certificate that is due when no --domains is given. Without challenge options each one is renewed the way it was first obtained. From a non-terminal (cron) it first sleeps a random 0-8 minutes when something is due.',
    takes: ['renew'],
    examples: [
      'acmekit renew -m me@example.com',
      "acmekit -m me@example.com -d example.com --http renew --days 30 --renew-hook 'systemctl reload nginx'",
      'acmekit renew -a -m me@example.com --dry-run',
    ],
  },
  revoke: {
    summary: 'Revoke the certificate of --domains',
    usage: ['acmekit revoke [options]', 'acmekit certificates revoke [options]   (lego v5)'],
    about:
      'revokes the stored certificate of each --domains (its main name), signed with the account key, then moves its files to archives/ unless --keep.',
    takes: ['revoke'],
    examples: [
      'acmekit revoke -m me@example.com -d example.com --reason 4',
      'acmekit certificates revoke -m me@example.com -d example.com --keep',
    ],
  },
  list: {
    summary: 'List stored certificates with their next renewal time',
    usage: ['acmekit list [options]', 'acmekit certificates list [options]     (lego v5)'],
    about:
      'shows each stored certificate: names, expiry, and when and why it renews next. Asks the CA for renewal information (ARI) only when --server is given.',
    takes: ['list'],
    examples: ['acmekit list', 'acmekit list --server letsencrypt --json', 'acmekit list --names'],
  },
  certificates: {
    summary: 'list | revoke, as lego v5 spells them',
    usage: ['acmekit certificates list [options]', 'acmekit certificates revoke [options]'],
    about:
      "lego v5's names for `list` and `revoke`: the same commands, the same options (`acmekit list --help`, `acmekit revoke --help`).",
    takes: ['list', 'revoke'],
    examples: [
      'acmekit certificates list --json',
      'acmekit certificates revoke -m me@example.com -d example.com --reason 4',
    ],
  },
  accounts: {
    summary: 'list | register | info | update | deactivate | keyrollover: the account at the CA',
    usage: [
      'acmekit accounts list [options]',
      'acmekit accounts register [--new] [options]',
      'acmekit accounts info [options]',
      'acmekit accounts update --contact ADDRESS [options]',
      'acmekit accounts deactivate [--yes] [options]',
      'acmekit accounts keyrollover [options]',
    ],
    about:
      '`list` prints every stored account (all servers); `register` registers the account of --server and --email, or asks the CA about the stored key (`--new`: a new key and account replace the stored ones, the old files kept); `info` (or `show`) prints what the CA answers about the account now; `update` replaces its contacts; `deactivate` ends it for good (asks first unless --yes); `keyrollover` replaces its key with a new one (or the key in --private-key FILE).',
    takes: ['accounts'],
    examples: [
      'acmekit accounts list --json',
      'ACMEKIT_EAB_HMAC=... acmekit accounts register -a -m me@example.com --server zerossl --eab.kid KID',
      'acmekit accounts info -m me@example.com --json',
    ],
  },
  dns: {
    summary: 'list | help NAME | check NAME -d DOMAIN: the DNS providers for --dns',
    usage: ['acmekit dns list', 'acmekit dns help NAME', 'acmekit dns check NAME -d DOMAIN [options]'],
    about:
      '`list` prints every DNS provider; `help NAME` the variables it reads (required, secret, defaults), the permissions its credentials need, and an example; `check NAME -d DOMAIN` adds a test TXT record at _acme-challenge.DOMAIN through the provider, waits until every authoritative nameserver (or --dns.resolvers) answers it, removes it, and reports each step with its time: no CA involved.',
    takes: ['dns'],
    examples: [
      'acmekit dns list',
      'acmekit dns help cloudflare',
      'CLOUDFLARE_DNS_API_TOKEN=... acmekit dns check cloudflare -d example.com',
    ],
  },
  storage: {
    summary: 'migrate | copy: the tables of a --storage database; move an installation',
    usage: ['acmekit storage migrate [options]', 'acmekit storage copy --from URL --to URL [options]'],
    about:
      '`migrate` creates or upgrades the tables in the --storage PostgreSQL database and prints the schema version (folders and Redis have none). `copy` copies every account, key and certificate from --from to --to (folder, PostgreSQL, Redis); nothing is written when the target holds other bytes, unless --overwrite.',
    takes: ['storage'],
    examples: [
      'ACMEKIT_STORAGE=postgres://acmekit:PASSWORD@db.internal/acmekit acmekit storage migrate',
      'acmekit storage copy --from file:/etc/acmekit --to postgres://acmekit:PASSWORD@db.internal/acmekit',
      'acmekit storage copy --from redis://:PASSWORD@cache.internal:6379 --to file:/var/backups/acmekit --overwrite',
    ],
  },
};

/** The topics `acmekit help TOPIC` and `acmekit TOPIC --help` know, in the order the global help lists them. */
export const helpTopics = [
  'run',
  'renew',
  'revoke',
  'list',
  'certificates',
  'accounts',
  'dns',
  'storage',
] as const;
export type HelpTopic = (typeof helpTopics)[number];

/** Words wrapped into lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** `text` wrapped to WIDTH, its lines after the first indented by `indent`. */
function paragraph(text: string, indent: number, first = ''): string {
  const pad = ' '.repeat(indent);
  return wrap(text, WIDTH - indent)
    .map((l, i) => (i === 0 ? `${first}${l}` : `${pad}${l}`))
    .join('\n');
}

function spellingsOf(f: FlagSpec): string {
  return f.spellings.map((s) => (s.length === 1 ? `-${s}` : `--${s}`)).join(', ');
}

function flagLine(f: FlagSpec): string {
  const left = `  ${spellingsOf(f)}${f.arg ? ` ${f.arg}` : ''}`;
  const extras = [
    f.default !== undefined ? `default ${String(f.default)}` : '',
    f.name === 'help' || f.name === 'version' ? '' : `env ${envNames(f).join(', ')}`,
  ].filter(Boolean);
  const text = `${f.help}${extras.length ? ` [${extras.join('; ')}]` : ''}`;
  // A long name gets its text on the next line, in the column.
  const head = left.length < COLUMN ? left.padEnd(COLUMN) : `${left}\n${' '.repeat(COLUMN)}`;
  return paragraph(text, COLUMN, head);
}

/** The flags a page shows: those of its commands, in table order. */
function flagsOf(takes: readonly CommandName[]): FlagSpec[] {
  return flags.filter((f) => commandsOf(f).some((c) => takes.includes(c)));
}

/** The options every command takes (output, config, help): the global help lists them once. */
function commonFlags(): FlagSpec[] {
  return flags.filter((f) => f.group !== 'compat' && commandNames.every((c) => commandsOf(f).includes(c)));
}

function compatLine(shown: readonly FlagSpec[]): string[] {
  const compat = shown.filter((f) => f.group === 'compat');
  if (compat.length === 0) return [];
  const names = compat.map(spellingsOf).join(', ');
  return [
    paragraph(
      `Also accepted for lego compatibility (refused with advice, or accepted without effect; docs/cli.md): ${names}`,
      2,
    ),
  ];
}

const footer = `Exit codes: 0 ok (also when nothing was due), 1 failure, 2 bad usage, 3 CA refused, 4 some failed,
5 hook failed (certificate kept), 6 locked by another acmekit. Details: docs/cli.md.
`;

/** `acmekit --help`: the commands, the options they all take, and where each command's options are. */
export function helpText(): string {
  const commands = helpTopics.map((t) => `  ${t.padEnd(14)} ${pages[t].summary}`);
  return `acmekit: get and renew TLS certificates over ACME; speaks lego's v4 and v5 command lines.

Usage:
  acmekit COMMAND [options]       (options may also come before COMMAND, as lego v4 has them)
  acmekit COMMAND --help          the options of COMMAND, grouped, with examples (also: acmekit help COMMAND)

Commands:
${commands.join('\n')}

\`acmekit COMMAND --help\` shows the options each command takes.

Options of every command:
${commonFlags().map(flagLine).join('\n')}

Examples:
  acmekit run --server letsencrypt-staging -a -m me@example.com -d example.com --http
  acmekit renew -m me@example.com --deploy-hook 'systemctl reload nginx'
  acmekit list --json
  acmekit run --help

${footer}`;
}

/** `acmekit TOPIC --help`: what the command does, its options by group, lego's extra spellings, examples. */
export function commandHelpText(topic: HelpTopic): string {
  const page = pages[topic];
  const shown = flagsOf(page.takes);
  const sections = GROUPS.map(([group, title]) => {
    const rows = shown.filter((f) => f.group === group);
    return rows.length === 0 ? undefined : [`${title}:`, ...rows.map(flagLine)].join('\n');
  }).filter((s) => s !== undefined);
  return `${paragraph(`acmekit ${topic}: ${page.about}`, 0)}

Usage:
${page.usage.map((u) => `  ${u}`).join('\n')}

${sections.join('\n\n')}

${compatLine(shown).join('\n')}

Examples:
${page.examples.map((e) => `  ${e}`).join('\n')}

${footer}`.replace(/\n{3,}/g, '\n\n');
}

/** The help a command line asks for: `acmekit --help`, `acmekit COMMAND --help`, `acmekit help COMMAND`. */
export function helpFor(command: readonly string[], positional: readonly string[]): string {
  const topic = command[0] === 'help' ? positional[0] : command[0];
  if (topic === undefined || topic === 'help' || topic === 'version') return helpText();
  if (!(helpTopics as readonly string[]).includes(topic)) {
    throw new UsageError(`no help for ${JSON.stringify(topic)}; commands: ${helpTopics.join(', ')}`);
  }
  return commandHelpText(topic as HelpTopic);
}
