/**
 * Every command-line option once: canonical name, the spellings of lego v4 and v5 (and ours), the
 * environment variables that can supply it, and its help text. The parser, `--help`, the config
 * file and its JSON Schema are all generated from this table.
 */
export type FlagType = 'boolean' | 'string' | 'number' | 'list';

export interface FlagSpec {
  /** Canonical name, also the config-file key. */
  readonly name: string;
  readonly type: FlagType;
  /** Every accepted spelling without dashes; single letters are short flags (-d). */
  readonly spellings: readonly string[];
  /** Environment variables, first match wins (ours first, then lego's). */
  readonly env?: readonly string[];
  readonly help: string;
  /** Where the flag matters, for help grouping. */
  readonly group: 'global' | 'obtain' | 'renew' | 'revoke' | 'storage' | 'output' | 'challenge';
  readonly default?: string | number | boolean;
  /** Placeholder in help. */
  readonly arg?: string;
}

export const flags: readonly FlagSpec[] = [
  // Where and who
  {
    name: 'server',
    type: 'string',
    spellings: ['server', 's'],
    env: ['ACMEKIT_SERVER', 'LEGO_SERVER'],
    group: 'global',
    arg: 'URL|PRESET',
    default: 'letsencrypt',
    help: 'ACME directory URL or a preset: letsencrypt, letsencrypt-staging, zerossl, google, google-staging, sslcom',
  },
  {
    name: 'path',
    type: 'string',
    spellings: ['path'],
    env: ['ACMEKIT_PATH', 'LEGO_PATH'],
    group: 'global',
    arg: 'DIR',
    default: './.lego',
    help: "Folder for accounts and certificates, in lego's layout",
  },
  {
    name: 'storage',
    type: 'string',
    spellings: ['storage'],
    env: ['ACMEKIT_STORAGE'],
    group: 'storage',
    arg: 'URL',
    help: 'Where accounts and certificates live: file:DIR (as --path DIR), postgres://… or redis://… (needs the pg or @redis/client package); prefer the environment variable when the URL holds a password',
  },
  {
    name: 'email',
    type: 'string',
    spellings: ['email', 'm'],
    env: ['ACMEKIT_EMAIL', 'LEGO_EMAIL'],
    group: 'global',
    arg: 'ADDRESS',
    help: 'Account contact address (also names the account folder)',
  },
  {
    name: 'acceptTos',
    type: 'boolean',
    spellings: ['accept-tos', 'a'],
    env: ['ACMEKIT_ACCEPT_TOS'],
    group: 'global',
    help: "Agree to the CA's terms of service",
  },
  {
    name: 'domains',
    type: 'list',
    spellings: ['domains', 'd'],
    env: ['ACMEKIT_DOMAINS'],
    group: 'global',
    arg: 'NAME',
    help: 'A name for the certificate (repeat for more; wildcards need --dns)',
  },
  {
    name: 'csr',
    type: 'string',
    spellings: ['csr', 'c'],
    env: ['ACMEKIT_CSR'],
    group: 'obtain',
    arg: 'FILE',
    help: 'Use this CSR (PEM or DER) instead of generating a key',
  },
  {
    name: 'keyType',
    type: 'string',
    spellings: ['key-type', 'k'],
    env: ['ACMEKIT_KEY_TYPE'],
    group: 'obtain',
    arg: 'TYPE',
    default: 'ec256',
    help: 'Certificate key type: ec256, ec384, rsa2048, rsa3072, rsa4096',
  },
  {
    name: 'caBundle',
    type: 'string',
    spellings: ['ca-bundle'],
    env: ['ACMEKIT_CA_BUNDLE', 'LEGO_CA_CERTIFICATES'],
    group: 'global',
    arg: 'FILE',
    help: 'Trust this root (PEM) for the CA, for a private or test CA',
  },
  {
    name: 'eab',
    type: 'boolean',
    spellings: ['eab'],
    env: ['ACMEKIT_EAB'],
    group: 'global',
    help: 'Use external account binding (needs --eab.kid and --eab.hmac)',
  },
  {
    name: 'eabKid',
    type: 'string',
    spellings: ['eab.kid', 'kid'],
    env: ['ACMEKIT_EAB_KID', 'LEGO_EAB_KID'],
    group: 'global',
    arg: 'KID',
    help: 'EAB key id from your CA',
  },
  {
    name: 'eabHmac',
    type: 'string',
    spellings: ['eab.hmac', 'hmac'],
    env: ['ACMEKIT_EAB_HMAC', 'LEGO_EAB_HMAC'],
    group: 'global',
    arg: 'KEY',
    help: 'EAB HMAC key (base64url) from your CA; prefer the environment variable',
  },
  {
    name: 'config',
    type: 'string',
    spellings: ['config'],
    env: ['ACMEKIT_CONFIG'],
    group: 'global',
    arg: 'FILE',
    help: 'YAML file with any of these options (keys as in the JSON Schema, docs/config.schema.json)',
  },
  // Challenges
  {
    name: 'http',
    type: 'boolean',
    spellings: ['http'],
    group: 'challenge',
    help: 'Solve http-01 with a built-in listener',
  },
  {
    name: 'httpAddress',
    type: 'string',
    spellings: ['http.address', 'http.port'],
    env: ['ACMEKIT_HTTP_ADDRESS'],
    group: 'challenge',
    arg: '[IFACE]:PORT',
    default: ':80',
    help: 'Where the http-01 listener binds (v4 --http.port, v5 --http.address)',
  },
  {
    name: 'httpWebroot',
    type: 'string',
    spellings: ['http.webroot'],
    env: ['ACMEKIT_HTTP_WEBROOT'],
    group: 'challenge',
    arg: 'DIR',
    help: 'Solve http-01 by writing files under DIR/.well-known/acme-challenge/',
  },
  {
    name: 'tls',
    type: 'boolean',
    spellings: ['tls'],
    group: 'challenge',
    help: 'Solve tls-alpn-01 with a built-in listener',
  },
  {
    name: 'tlsAddress',
    type: 'string',
    spellings: ['tls.address', 'tls.port'],
    env: ['ACMEKIT_TLS_ADDRESS'],
    group: 'challenge',
    arg: '[IFACE]:PORT',
    default: ':443',
    help: 'Where the tls-alpn-01 listener binds',
  },
  {
    name: 'dns',
    type: 'list',
    spellings: ['dns'],
    env: ['ACMEKIT_DNS'],
    group: 'challenge',
    arg: 'PROVIDER|DOMAIN=PROVIDER',
    help: 'Solve dns-01 with a DNS provider (`acmekit dns list`); DOMAIN=PROVIDER sends a domain and its subdomains to one provider',
  },
  {
    name: 'dnsResolvers',
    type: 'list',
    spellings: ['dns.resolvers'],
    group: 'challenge',
    arg: 'HOST[:PORT]',
    help: 'Resolvers for zone lookups; the propagation check then asks them instead of the authoritative nameservers',
  },
  {
    name: 'dnsPropagationWait',
    type: 'string',
    spellings: ['dns.propagation.wait', 'dns.propagation-wait'],
    group: 'challenge',
    arg: 'DURATION',
    help: 'Only wait this long (e.g. 30s, 2m) instead of checking that the record is visible',
  },
  {
    name: 'dnsPropagationDisable',
    type: 'boolean',
    spellings: ['dns.propagation.disable-ans', 'dns.propagation-disable-ans', 'dns.disable-cp'],
    group: 'challenge',
    help: 'Tell the CA at once, without checking the authoritative nameservers',
  },
  {
    name: 'dnsTimeout',
    type: 'number',
    spellings: ['dns.timeout', 'dns-timeout'],
    group: 'challenge',
    arg: 'SECONDS',
    help: 'Deadline of one DNS query during lookups and checks',
  },
  // Obtaining
  {
    name: 'preferredChain',
    type: 'string',
    spellings: ['preferred-chain'],
    group: 'obtain',
    arg: 'ISSUER_CN',
    help: "Prefer the chain whose top certificate's issuer has this common name",
  },
  {
    name: 'profile',
    type: 'string',
    spellings: ['profile'],
    group: 'obtain',
    arg: 'NAME',
    help: 'Certificate profile the CA offers (e.g. shortlived)',
  },
  {
    name: 'mustStaple',
    type: 'boolean',
    spellings: ['must-staple'],
    group: 'obtain',
    help: "Request OCSP must-staple (Let's Encrypt no longer issues it)",
  },
  {
    name: 'noBundle',
    type: 'boolean',
    spellings: ['no-bundle'],
    group: 'obtain',
    help: 'Write only the leaf to .crt, not leaf + intermediates',
  },
  {
    name: 'pem',
    type: 'boolean',
    spellings: ['pem'],
    group: 'obtain',
    help: 'Also write a .pem with key and certificate',
  },
  {
    name: 'pfx',
    type: 'boolean',
    spellings: ['pfx'],
    group: 'obtain',
    help: 'Also write a PKCS#12 .pfx (made with the openssl command)',
  },
  {
    name: 'pfxPass',
    type: 'string',
    spellings: ['pfx.pass'],
    env: ['ACMEKIT_PFX_PASSWORD', 'LEGO_PFX_PASSWORD'],
    group: 'obtain',
    arg: 'PASSWORD',
    default: 'changeit',
    help: 'Password of the .pfx',
  },
  { name: 'force', type: 'boolean', spellings: ['force'], group: 'obtain', help: 'Renew even when not due' },
  // Renewing
  {
    name: 'renewDays',
    type: 'number',
    spellings: ['renew-days', 'days'],
    group: 'renew',
    arg: 'N',
    help: 'Renew when fewer than N days are left (default: ARI window, else a third of the lifetime)',
  },
  {
    name: 'ariDisable',
    type: 'boolean',
    spellings: ['ari-disable'],
    group: 'renew',
    help: 'Ignore the CA renewal information (RFC 9773)',
  },
  {
    name: 'reuseKey',
    type: 'boolean',
    spellings: ['reuse-key'],
    group: 'renew',
    help: 'Keep the certificate key when renewing',
  },
  {
    name: 'preHook',
    type: 'string',
    spellings: ['pre-hook'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run before ordering, only when something is due',
  },
  {
    name: 'deployHook',
    type: 'string',
    spellings: ['deploy-hook', 'renew-hook', 'run-hook'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run after each certificate is written (data in ACMEKIT_CERT_* / LEGO_CERT_* variables)',
  },
  {
    name: 'postHook',
    type: 'string',
    spellings: ['post-hook'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run at the end, when something was attempted',
  },
  {
    name: 'hookTimeout',
    type: 'number',
    spellings: ['hook-timeout'],
    group: 'renew',
    arg: 'SECONDS',
    default: 300,
    help: 'Kill a hook after this long',
  },
  {
    name: 'noRandomSleep',
    type: 'boolean',
    spellings: ['no-random-sleep'],
    group: 'renew',
    help: 'Do not sleep a random 0-8 minutes before renewing from a non-terminal (cron)',
  },
  {
    name: 'dryRun',
    type: 'boolean',
    spellings: ['dry-run'],
    group: 'renew',
    help: 'Do everything against the staging CA (or the given test CA); save nothing, run no hooks',
  },
  {
    name: 'runHooks',
    type: 'boolean',
    spellings: ['run-hooks'],
    group: 'renew',
    help: 'With --dry-run, run the hooks anyway',
  },
  // Revoking
  {
    name: 'reason',
    type: 'number',
    spellings: ['reason'],
    group: 'revoke',
    arg: 'CODE',
    help: 'Revocation reason code (RFC 5280: 0 unspecified, 1 keyCompromise, 3 affiliationChanged, 4 superseded, 5 cessationOfOperation)',
  },
  {
    name: 'keep',
    type: 'boolean',
    spellings: ['keep'],
    group: 'revoke',
    help: 'Keep the files of the revoked certificate',
  },
  // Storage commands
  {
    name: 'copyFrom',
    type: 'string',
    spellings: ['from'],
    group: 'storage',
    arg: 'URL',
    help: '`storage copy`: the storage to read (file:DIR, postgres://…, redis://…)',
  },
  {
    name: 'copyTo',
    type: 'string',
    spellings: ['to'],
    group: 'storage',
    arg: 'URL',
    help: '`storage copy`: the storage to write',
  },
  {
    name: 'overwrite',
    type: 'boolean',
    spellings: ['overwrite'],
    group: 'storage',
    help: '`storage copy`: replace entries the target holds with other bytes (without it, nothing is written then)',
  },
  // Output
  {
    name: 'json',
    type: 'boolean',
    spellings: ['json'],
    group: 'output',
    help: 'Print one JSON document instead of text',
  },
  { name: 'quiet', type: 'boolean', spellings: ['quiet', 'q'], group: 'output', help: 'Print only errors' },
  {
    name: 'logLevel',
    type: 'string',
    spellings: ['log-level'],
    group: 'output',
    arg: 'LEVEL',
    help: 'What to print on stderr besides errors: error, warn, info (progress), debug (also every request: method, URL, status; retries; nonces). Default: warnings, and progress when stderr is a terminal',
  },
  {
    name: 'verbose',
    type: 'boolean',
    spellings: ['verbose'],
    group: 'output',
    help: 'Same as --log-level debug',
  },
  { name: 'help', type: 'boolean', spellings: ['help', 'h'], group: 'output', help: 'Show help' },
  {
    name: 'version',
    type: 'boolean',
    spellings: ['version', 'v'],
    group: 'output',
    help: 'Print the version',
  },
];

const bySpelling = new Map<string, FlagSpec>();
for (const f of flags) for (const s of f.spellings) bySpelling.set(s, f);

export function flagBySpelling(spelling: string): FlagSpec | undefined {
  return bySpelling.get(spelling);
}
