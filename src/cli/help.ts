import { type FlagSpec, flags } from './flags.ts';
import { envNames } from './parse-args.ts';

const GROUPS: readonly [FlagSpec['group'], string][] = [
  ['global', 'Account and CA'],
  ['challenge', 'Challenges'],
  ['obtain', 'Obtaining'],
  ['renew', 'Renewing and hooks'],
  ['revoke', 'Revoking'],
  ['storage', 'Storage (a cluster shares one database)'],
  ['output', 'Output'],
  ['compat', 'lego options acmekit refuses (exit 2, saying what to use instead) or accepts without applying'],
];

function flagLine(f: FlagSpec): string {
  const names = f.spellings.map((s) => (s.length === 1 ? `-${s}` : `--${s}`)).join(', ');
  const left = `  ${names}${f.arg ? ` ${f.arg}` : ''}`;
  const extras = [
    f.default !== undefined ? `default ${String(f.default)}` : '',
    f.name === 'help' || f.name === 'version' ? '' : `env ${envNames(f).join(', ')}`,
  ].filter(Boolean);
  return `${left.padEnd(38)} ${f.help}${extras.length ? ` [${extras.join('; ')}]` : ''}`;
}

export function helpText(): string {
  const sections = GROUPS.map(([group, title]) =>
    [`${title}:`, ...flags.filter((f) => f.group === group).map(flagLine)].join('\n'),
  );
  return `acmekit: get and renew TLS certificates over ACME; speaks lego's v4 and v5 command lines.

Usage:
  acmekit [options] COMMAND [options]

Commands:
  run                      Obtain certificates for --domains, or renew them when due
  renew                    Renew certificates when due (all stored ones when no --domains)
  revoke                   Revoke the certificate for --domains
  list                     List stored certificates with their next renewal time
  certificates list|revoke The same, as lego v5 spells them
  accounts list            The stored accounts, all servers
  accounts register        Register the account of --email, or ask the CA about its stored key;
                           --new: a new key and account replace the stored ones (old files kept)
  accounts info|show       What the CA answers about the account now: status, contacts, orders, its own fields
  accounts update          Replace the account's contacts with --contact ADDRESS (--contact '' removes them)
  accounts deactivate      End the account at the CA for good; asks first (--yes to skip); files kept, marked
  accounts keyrollover     Move the account to a new key (--private-key FILE, or a new ES256 key)
  dns list                 DNS providers for --dns
  dns help NAME            The variables a DNS provider reads, and an example
  storage migrate          Create or upgrade the tables in the --storage database; prints the schema version
  storage copy             Copy every account and certificate from --from to --to (folder, PostgreSQL, Redis)

${sections.join('\n\n')}

Examples:
  acmekit --server letsencrypt-staging -a --email me@example.com --domains example.com --http run
  acmekit --email me@example.com --domains example.com --http.webroot /var/www/html run
  acmekit --email me@example.com --domains example.com --http renew --days 30 --renew-hook 'systemctl reload nginx'
  acmekit run --email me@example.com -d example.com -d www.example.com --tls --renew-days 30 --deploy-hook ./reload.sh
  CLOUDFLARE_DNS_API_TOKEN=... acmekit -a -m me@example.com -d example.com -d '*.example.com' --dns cloudflare run
  acmekit list --json
  acmekit accounts info -m me@example.com --json
  ACMEKIT_STORAGE=postgres://acmekit:PASSWORD@db.internal/acmekit acmekit run -a -m me@example.com -d example.com --http
  acmekit storage migrate --storage postgres://acmekit:PASSWORD@db.internal/acmekit
  acmekit storage copy --from file:/etc/acmekit --to postgres://acmekit:PASSWORD@db.internal/acmekit
  acmekit storage copy --from redis://:PASSWORD@cache.internal:6379 --to file:/var/backups/acmekit --overwrite

Exit codes: 0 ok (also when nothing was due), 1 failure, 2 bad usage, 3 CA refused, 4 some failed,
5 hook failed (certificate kept), 6 locked by another acmekit. Details: docs/cli.md.
`;
}
