/**
 * Every command-line option once: canonical name, the spellings of lego v4 and v5 (and ours), the
 * environment variables that can supply it, and its help text. The parser, `--help`, the config
 * file and its JSON Schema are all generated from this table.
 */
/** `duration`: seconds as a number, or a Go-style duration as lego takes it ("90", "30s", "2m0s", "1h30m"). */
export type FlagType = 'boolean' | 'string' | 'number' | 'list' | 'duration';

/** The commands that have a help page of their own (`acmekit COMMAND --help`); `certificates` is list + revoke. */
export const commandNames = ['run', 'renew', 'revoke', 'list', 'accounts', 'dns', 'storage'] as const;
export type CommandName = (typeof commandNames)[number];

export interface FlagSpec<Name extends string = OptionName> {
  /** Canonical name, also the config-file key. */
  readonly name: Name;
  readonly type: FlagType;
  /** Every accepted spelling without dashes; single letters are short flags (-d). */
  readonly spellings: readonly string[];
  /** Environment variables, first match wins (ours first, then lego's). */
  readonly env?: readonly string[];
  readonly help: string;
  /** Where the flag matters, for help grouping; `compat`: lego flags acmekit knows but refuses or does not apply. */
  readonly group: 'global' | 'obtain' | 'renew' | 'revoke' | 'storage' | 'output' | 'challenge' | 'compat';
  /** The commands that read it, for their help pages; when absent, the group's (see `commandsOf`). */
  readonly commands?: readonly CommandName[];
  readonly default?: string | number | boolean;
  /** Placeholder in help. */
  readonly arg?: string;
  /**
   * A lego flag acmekit cannot honour and that would change what is issued or how: accepted as a
   * spelling (so the message is not "unknown option"), refused with this advice when set, exit 2.
   */
  readonly unsupported?: string;
  /** With `unsupported`: the value that is fine after all (e.g. --account-id equal to --email). */
  readonly allowedWhen?: (options: Readonly<Record<string, unknown>>) => boolean;
  /**
   * A lego flag accepted but not applied, because acmekit already behaves that way or the setting has
   * no counterpart that changes the result: why, printed as a debug line (a warning when `warn`).
   */
  readonly notApplied?: { readonly why: string; readonly warn?: boolean };
  /** A boolean that may take `true`/`false` as the next word, as lego's string-typed flags of that name do. */
  readonly valueOptional?: boolean;
}

// Who reads what: the commands that talk to the CA, that open the storage, that use the account.
const ALL = commandNames;
const CA: readonly CommandName[] = ['run', 'renew', 'revoke', 'list', 'accounts'];
const STORE: readonly CommandName[] = ['run', 'renew', 'revoke', 'list', 'accounts', 'storage'];
const ISSUE: readonly CommandName[] = ['run', 'renew'];
const REGISTER: readonly CommandName[] = ['run', 'renew', 'accounts'];

/** The commands of a flag whose row names none: by its group. */
const groupCommands: Readonly<Record<FlagSpec['group'], readonly CommandName[]>> = {
  global: ['run', 'renew', 'revoke', 'accounts'],
  challenge: ISSUE,
  obtain: ISSUE,
  renew: ISSUE,
  revoke: ['revoke'],
  storage: ['storage'],
  output: ALL,
  compat: ISSUE,
};

/** The commands that take this flag: its help pages. */
export function commandsOf(flag: FlagSpec): readonly CommandName[] {
  return flag.commands ?? groupCommands[flag.group];
}

// `as const`: the canonical names stay literal types, so OptionName below is the union of them.
const flagTable = [
  // Where and who
  {
    name: 'server',
    type: 'string',
    spellings: ['server', 's'],
    env: ['ACMEKIT_SERVER', 'LEGO_SERVER'],
    group: 'global',
    commands: CA,
    arg: 'URL|PRESET',
    default: 'letsencrypt',
    help: 'ACME directory URL or a preset: letsencrypt, letsencrypt-staging, zerossl, google, google-staging, sslcom',
  },
  {
    name: 'path',
    type: 'string',
    spellings: ['path'],
    env: ['ACMEKIT_PATH', 'LEGO_PATH'],
    group: 'storage',
    commands: STORE,
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
    commands: STORE,
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
    env: ['ACMEKIT_ACCEPT_TOS', 'LEGO_ACCEPT_TOS'],
    group: 'global',
    commands: REGISTER,
    help: "Agree to the CA's terms of service",
  },
  {
    name: 'domains',
    type: 'list',
    spellings: ['domains', 'd'],
    env: ['ACMEKIT_DOMAINS', 'LEGO_DOMAINS'],
    group: 'global',
    commands: ['run', 'renew', 'revoke', 'dns'],
    arg: 'NAME',
    help: 'A name for the certificate (repeat for more; wildcards need --dns)',
  },
  {
    name: 'csr',
    type: 'string',
    spellings: ['csr', 'c'],
    env: ['ACMEKIT_CSR', 'LEGO_CSR'],
    group: 'obtain',
    arg: 'FILE',
    help: 'Use this CSR (PEM or DER) instead of generating a key',
  },
  {
    name: 'keyType',
    type: 'string',
    spellings: ['key-type', 'k'],
    env: ['ACMEKIT_KEY_TYPE', 'LEGO_KEY_TYPE'],
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
    commands: CA,
    arg: 'FILE',
    help: 'Trust this root (PEM) for the CA, for a private or test CA',
  },
  {
    name: 'eab',
    type: 'boolean',
    spellings: ['eab'],
    env: ['ACMEKIT_EAB', 'LEGO_EAB'],
    group: 'global',
    commands: REGISTER,
    help: 'Use external account binding (needs --eab.kid and --eab.hmac)',
  },
  {
    name: 'eabKid',
    type: 'string',
    spellings: ['eab.kid', 'kid'],
    env: ['ACMEKIT_EAB_KID', 'LEGO_EAB_KID'],
    group: 'global',
    commands: REGISTER,
    arg: 'KID',
    help: 'EAB key id from your CA',
  },
  {
    name: 'eabHmac',
    type: 'string',
    spellings: ['eab.hmac', 'hmac'],
    env: ['ACMEKIT_EAB_HMAC', 'LEGO_EAB_HMAC'],
    group: 'global',
    commands: REGISTER,
    arg: 'KEY',
    help: 'EAB HMAC key (base64url) from your CA; prefer the environment variable',
  },
  {
    name: 'config',
    type: 'string',
    spellings: ['config'],
    env: ['ACMEKIT_CONFIG', 'LEGO_CONFIG'],
    group: 'output',
    arg: 'FILE',
    help: 'YAML file with any of these options (keys as in the JSON Schema, docs/config.schema.json)',
  },
  {
    name: 'httpTimeout',
    type: 'number',
    spellings: ['http-timeout'],
    env: ['ACMEKIT_HTTP_TIMEOUT', 'LEGO_HTTP_TIMEOUT'],
    group: 'global',
    commands: CA,
    arg: 'SECONDS',
    help: 'Deadline of each request to the CA, from connecting to the last byte of the answer (default 30)',
  },
  {
    name: 'certTimeout',
    type: 'number',
    spellings: ['cert.timeout'],
    env: ['ACMEKIT_CERT_TIMEOUT', 'LEGO_CERT_TIMEOUT'],
    group: 'global',
    commands: ISSUE,
    arg: 'SECONDS',
    help: "Give up when the CA takes longer than this to validate the names, and again to issue the certificate (default 300; lego's 30 is not imposed)",
  },
  {
    name: 'userAgent',
    type: 'string',
    spellings: ['user-agent'],
    env: ['ACMEKIT_USER_AGENT', 'LEGO_USER_AGENT'],
    group: 'global',
    commands: CA,
    arg: 'TEXT',
    help: "Put TEXT (e.g. myapp/1.2) in front of acmekit's User-Agent on every request to the CA",
  },
  // Challenges
  {
    name: 'http',
    type: 'boolean',
    spellings: ['http'],
    env: ['ACMEKIT_HTTP', 'LEGO_HTTP'],
    group: 'challenge',
    help: 'Solve http-01 with a built-in listener',
  },
  {
    name: 'httpAddress',
    type: 'string',
    spellings: ['http.address', 'http.port'],
    env: ['ACMEKIT_HTTP_ADDRESS', 'LEGO_HTTP_ADDRESS'],
    group: 'challenge',
    arg: '[IFACE]:PORT',
    default: ':80',
    help: 'Where the http-01 listener binds (v4 --http.port, v5 --http.address)',
  },
  {
    name: 'httpWebroot',
    type: 'string',
    spellings: ['http.webroot'],
    env: ['ACMEKIT_HTTP_WEBROOT', 'LEGO_HTTP_WEBROOT'],
    group: 'challenge',
    arg: 'DIR',
    help: 'Solve http-01 by writing files under DIR/.well-known/acme-challenge/',
  },
  {
    name: 'httpDelay',
    type: 'duration',
    spellings: ['http.delay'],
    env: ['ACMEKIT_HTTP_DELAY', 'LEGO_HTTP_DELAY'],
    group: 'challenge',
    arg: 'DURATION',
    help: 'Wait this long (e.g. 5s) after the http-01 answer is in place before asking the CA to check it (remembered for renewals)',
  },
  {
    name: 'tls',
    type: 'boolean',
    spellings: ['tls'],
    env: ['ACMEKIT_TLS', 'LEGO_TLS'],
    group: 'challenge',
    help: 'Solve tls-alpn-01 with a built-in listener',
  },
  {
    name: 'tlsAddress',
    type: 'string',
    spellings: ['tls.address', 'tls.port'],
    env: ['ACMEKIT_TLS_ADDRESS', 'LEGO_TLS_ADDRESS'],
    group: 'challenge',
    arg: '[IFACE]:PORT',
    default: ':443',
    help: 'Where the tls-alpn-01 listener binds',
  },
  {
    name: 'tlsDelay',
    type: 'duration',
    spellings: ['tls.delay'],
    env: ['ACMEKIT_TLS_DELAY', 'LEGO_TLS_DELAY'],
    group: 'challenge',
    arg: 'DURATION',
    help: 'Wait this long after the tls-alpn-01 listener is ready before asking the CA to check it (remembered for renewals)',
  },
  {
    name: 'dns',
    type: 'list',
    spellings: ['dns'],
    env: ['ACMEKIT_DNS', 'LEGO_DNS'],
    group: 'challenge',
    arg: 'PROVIDER|DOMAIN=PROVIDER',
    help: 'Solve dns-01 with a DNS provider (`acmekit dns list`); DOMAIN=PROVIDER sends a domain and its subdomains to one provider',
  },
  {
    name: 'dnsResolvers',
    type: 'list',
    spellings: ['dns.resolvers'],
    env: ['ACMEKIT_DNS_RESOLVERS', 'LEGO_DNS_RESOLVERS'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    arg: 'HOST[:PORT]',
    help: 'Resolvers for zone lookups; the propagation check then asks them instead of the authoritative nameservers',
  },
  {
    name: 'dnsZone',
    type: 'string',
    spellings: ['dns.zone'],
    env: ['ACMEKIT_DNS_ZONE'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    arg: 'ZONE',
    help: 'The zone the TXT records go in, for a private or split-horizon zone public DNS cannot find',
  },
  {
    name: 'dnsPropagationWait',
    type: 'duration',
    spellings: ['dns.propagation.wait', 'dns.propagation-wait'],
    env: ['ACMEKIT_DNS_PROPAGATION_WAIT', 'LEGO_DNS_PROPAGATION_WAIT'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    arg: 'DURATION',
    help: 'Only wait this long (e.g. 30s, 2m) instead of checking that the record is visible',
  },
  {
    name: 'dnsPropagationDisable',
    type: 'boolean',
    spellings: ['dns.propagation.disable-ans', 'dns.propagation-disable-ans', 'dns.disable-cp'],
    env: ['ACMEKIT_DNS_PROPAGATION_DISABLE', 'LEGO_DNS_PROPAGATION_DISABLE_ANS'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    help: 'Tell the CA at once, without checking the authoritative nameservers',
  },
  {
    name: 'dnsPropagationDisableRns',
    type: 'boolean',
    spellings: ['dns.propagation.disable-rns'],
    env: ['ACMEKIT_DNS_PROPAGATION_DISABLE_RNS', 'LEGO_DNS_PROPAGATION_DISABLE_RNS'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    help: 'With --dns.resolvers: check the authoritative nameservers instead of those resolvers (without it acmekit never checks recursive resolvers)',
  },
  {
    name: 'dnsTimeout',
    type: 'number',
    spellings: ['dns.timeout', 'dns-timeout'],
    env: ['ACMEKIT_DNS_TIMEOUT', 'LEGO_DNS_TIMEOUT'],
    commands: ['run', 'renew', 'dns'],
    group: 'challenge',
    arg: 'SECONDS',
    help: 'Deadline of one DNS query during lookups and checks',
  },
  {
    name: 'envFile',
    type: 'string',
    spellings: ['env-file'],
    env: ['ACMEKIT_ENV_FILE', 'LEGO_ENV_FILE'],
    group: 'challenge',
    arg: 'FILE',
    help: 'Read KEY=VALUE lines (a dotenv file) into the environment first, e.g. DNS provider credentials; variables already set win',
  },
  // Obtaining
  {
    name: 'privateKey',
    type: 'string',
    spellings: ['private-key'],
    env: ['ACMEKIT_PRIVATE_KEY', 'LEGO_PRIVATE_KEY'],
    group: 'obtain',
    commands: ['run', 'renew', 'accounts'],
    arg: 'FILE',
    help: 'Use this PEM private key for the certificate instead of generating one (written to the .key file as well); with `accounts keyrollover`, the new account key',
  },
  {
    name: 'filename',
    type: 'string',
    spellings: ['filename', 'cert.name'],
    env: ['ACMEKIT_FILENAME', 'LEGO_CERT_NAME'],
    group: 'obtain',
    commands: ['run', 'renew', 'revoke'],
    arg: 'NAME',
    help: "Base name of the certificate's files (NAME.crt, NAME.key, NAME.json…) instead of the first domain; renew, revoke and list find them there",
  },
  {
    name: 'notBefore',
    type: 'string',
    spellings: ['not-before'],
    env: ['ACMEKIT_NOT_BEFORE', 'LEGO_NOT_BEFORE'],
    group: 'obtain',
    arg: 'RFC3339',
    help: 'Ask the CA for a certificate valid from this time, e.g. 2030-01-01T00:00:00Z (remembered for renewals; --not-before= forgets it). Many public CAs refuse it',
  },
  {
    name: 'notAfter',
    type: 'string',
    spellings: ['not-after'],
    env: ['ACMEKIT_NOT_AFTER', 'LEGO_NOT_AFTER'],
    group: 'obtain',
    arg: 'RFC3339',
    help: 'Ask the CA for a certificate valid until this time (remembered for renewals; --not-after= forgets it). Many public CAs refuse it',
  },
  {
    name: 'disableCn',
    type: 'boolean',
    spellings: ['disable-cn'],
    group: 'obtain',
    help: 'Leave the common name out of the CSR; the names go in the subject alternative names only (remembered for renewals)',
  },
  {
    name: 'enableCn',
    type: 'boolean',
    spellings: ['enable-cn'],
    env: ['ACMEKIT_ENABLE_CN', 'LEGO_ENABLE_CN'],
    group: 'obtain',
    help: 'Put the first name in the common name (the default, lego v5 spelling); overrides a remembered --disable-cn',
  },
  {
    name: 'alwaysDeactivateAuthorizations',
    type: 'boolean',
    spellings: ['always-deactivate-authorizations'],
    env: ['ACMEKIT_ALWAYS_DEACTIVATE_AUTHORIZATIONS', 'LEGO_ALWAYS_DEACTIVATE_AUTHORIZATIONS'],
    group: 'obtain',
    valueOptional: true,
    help: 'Also deactivate the authorizations after a certificate is issued, so the CA does not reuse them for the next order',
  },
  {
    name: 'preferredChain',
    type: 'string',
    spellings: ['preferred-chain'],
    env: ['ACMEKIT_PREFERRED_CHAIN', 'LEGO_PREFERRED_CHAIN'],
    group: 'obtain',
    arg: 'ISSUER_CN',
    help: "Prefer the chain whose top certificate's issuer has this common name",
  },
  {
    name: 'profile',
    type: 'string',
    spellings: ['profile'],
    env: ['ACMEKIT_PROFILE', 'LEGO_PROFILE'],
    group: 'obtain',
    arg: 'NAME',
    help: 'Certificate profile the CA offers (e.g. shortlived)',
  },
  {
    name: 'mustStaple',
    type: 'boolean',
    spellings: ['must-staple'],
    env: ['ACMEKIT_MUST_STAPLE', 'LEGO_MUST_STAPLE'],
    group: 'obtain',
    help: "Request OCSP must-staple (Let's Encrypt no longer issues it)",
  },
  {
    name: 'noBundle',
    type: 'boolean',
    spellings: ['no-bundle'],
    env: ['ACMEKIT_NO_BUNDLE', 'LEGO_NO_BUNDLE'],
    group: 'obtain',
    help: 'Write only the leaf to .crt, not leaf + intermediates',
  },
  {
    name: 'pem',
    type: 'boolean',
    spellings: ['pem'],
    env: ['ACMEKIT_PEM', 'LEGO_PEM'],
    group: 'obtain',
    help: 'Also write a .pem with key and certificate',
  },
  {
    name: 'pfx',
    type: 'boolean',
    spellings: ['pfx'],
    env: ['ACMEKIT_PFX', 'LEGO_PFX'],
    group: 'obtain',
    help: 'Also write a PKCS#12 .pfx (made with the openssl command)',
  },
  {
    name: 'pfxPass',
    type: 'string',
    spellings: ['pfx.pass', 'pfx.password'],
    env: ['ACMEKIT_PFX_PASSWORD', 'LEGO_PFX_PASSWORD'],
    group: 'obtain',
    arg: 'PASSWORD',
    default: 'changeit',
    help: 'Password of the .pfx',
  },
  {
    name: 'pfxFormat',
    type: 'string',
    spellings: ['pfx.format'],
    env: ['ACMEKIT_PFX_FORMAT', 'LEGO_PFX_FORMAT'],
    group: 'obtain',
    arg: 'RC2|DES|SHA256',
    help: "Encryption of the .pfx: SHA256 (AES-256 with PBKDF2-SHA256), or DES / RC2 (legacy, for old Windows and Java). Default: openssl's own (SHA256 with OpenSSL 3)",
  },
  {
    name: 'force',
    type: 'boolean',
    spellings: ['force', 'renew-force'],
    env: ['ACMEKIT_FORCE', 'LEGO_RENEW_FORCE'],
    group: 'obtain',
    help: 'Renew even when not due',
  },
  // Renewing
  {
    name: 'renewDays',
    type: 'number',
    spellings: ['renew-days', 'days'],
    env: ['ACMEKIT_RENEW_DAYS', 'LEGO_RENEW_DAYS'],
    group: 'renew',
    commands: ['run', 'renew', 'list'],
    arg: 'N',
    help: 'Renew when fewer than N days are left (default: ARI window, else a third of the lifetime)',
  },
  {
    name: 'dynamic',
    type: 'boolean',
    spellings: ['dynamic'],
    group: 'renew',
    commands: ['run', 'renew', 'list'],
    help: "lego v4's lifetime-based renewal time: acmekit's default already; given with --days, --days is ignored (as lego does)",
  },
  {
    name: 'ariDisable',
    type: 'boolean',
    spellings: ['ari-disable'],
    env: ['ACMEKIT_ARI_DISABLE', 'LEGO_ARI_DISABLE'],
    group: 'renew',
    commands: ['run', 'renew', 'list'],
    help: 'Ignore the CA renewal information (RFC 9773)',
  },
  {
    name: 'ariWaitToRenew',
    type: 'duration',
    spellings: ['ari-wait-to-renew-duration'],
    env: ['ACMEKIT_ARI_WAIT_TO_RENEW', 'LEGO_ARI_WAIT_TO_RENEW_DURATION'],
    group: 'renew',
    arg: 'DURATION',
    help: "When the CA's renewal window (ARI) sets the renewal time less than DURATION away, sleep until then and renew in this run",
  },
  {
    name: 'forceCertDomains',
    type: 'boolean',
    spellings: ['force-cert-domains'],
    env: ['ACMEKIT_FORCE_CERT_DOMAINS', 'LEGO_FORCE_CERT_DOMAINS'],
    group: 'renew',
    help: "Renew now when the stored certificate's names differ from --domains (acmekit always orders exactly --domains)",
  },
  {
    name: 'reuseKey',
    type: 'boolean',
    spellings: ['reuse-key'],
    env: ['ACMEKIT_REUSE_KEY', 'LEGO_REUSE_KEY'],
    group: 'renew',
    help: 'Keep the certificate key when renewing',
  },
  {
    name: 'preHook',
    type: 'string',
    spellings: ['pre-hook'],
    env: ['ACMEKIT_PRE_HOOK', 'LEGO_PRE_HOOK'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run before ordering, only when something is due',
  },
  {
    name: 'deployHook',
    type: 'string',
    spellings: ['deploy-hook', 'renew-hook', 'run-hook'],
    env: ['ACMEKIT_DEPLOY_HOOK', 'LEGO_DEPLOY_HOOK'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run after each certificate is written (data in ACMEKIT_CERT_* / LEGO_CERT_* variables)',
  },
  {
    name: 'postHook',
    type: 'string',
    spellings: ['post-hook'],
    env: ['ACMEKIT_POST_HOOK', 'LEGO_POST_HOOK'],
    group: 'renew',
    arg: 'CMD',
    help: 'Run at the end, when something was attempted',
  },
  {
    name: 'hookTimeout',
    type: 'duration',
    spellings: ['hook-timeout'],
    group: 'renew',
    arg: 'DURATION',
    default: 300,
    help: 'Kill a hook after this long (seconds, or 2m, 1m30s)',
  },
  {
    name: 'preHookTimeout',
    type: 'duration',
    spellings: ['pre-hook-timeout'],
    env: ['ACMEKIT_PRE_HOOK_TIMEOUT', 'LEGO_PRE_HOOK_TIMEOUT'],
    group: 'renew',
    arg: 'DURATION',
    help: 'Kill the pre-hook after this long (default: --hook-timeout)',
  },
  {
    name: 'deployHookTimeout',
    type: 'duration',
    spellings: ['deploy-hook-timeout', 'renew-hook-timeout', 'run-hook-timeout'],
    env: ['ACMEKIT_DEPLOY_HOOK_TIMEOUT', 'LEGO_DEPLOY_HOOK_TIMEOUT'],
    group: 'renew',
    arg: 'DURATION',
    help: 'Kill the deploy hook after this long (default: --hook-timeout)',
  },
  {
    name: 'postHookTimeout',
    type: 'duration',
    spellings: ['post-hook-timeout'],
    env: ['ACMEKIT_POST_HOOK_TIMEOUT', 'LEGO_POST_HOOK_TIMEOUT'],
    group: 'renew',
    arg: 'DURATION',
    help: 'Kill the post-hook after this long (default: --hook-timeout)',
  },
  {
    name: 'noRandomSleep',
    type: 'boolean',
    spellings: ['no-random-sleep'],
    env: ['ACMEKIT_NO_RANDOM_SLEEP', 'LEGO_NO_RANDOM_SLEEP'],
    group: 'renew',
    commands: ['renew'],
    help: 'Do not sleep a random 0-8 minutes before renewing from a non-terminal (cron)',
  },
  {
    name: 'dryRun',
    type: 'boolean',
    spellings: ['dry-run'],
    group: 'renew',
    help: 'A full trial: order every selected certificate, due or not, at the staging CA (or the given CA); save nothing, run no hooks',
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
    env: ['ACMEKIT_REASON', 'LEGO_REASON'],
    group: 'revoke',
    arg: 'CODE',
    help: 'Revocation reason code (RFC 5280: 0 unspecified, 1 keyCompromise, 3 affiliationChanged, 4 superseded, 5 cessationOfOperation)',
  },
  {
    name: 'keep',
    type: 'boolean',
    spellings: ['keep'],
    env: ['ACMEKIT_KEEP', 'LEGO_KEEP'],
    group: 'revoke',
    help: 'Keep the files of the revoked certificate (lego v4: also -k after `revoke`)',
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
  // Account commands
  {
    name: 'contact',
    type: 'list',
    spellings: ['contact'],
    commands: ['accounts'],
    group: 'global',
    arg: 'ADDRESS',
    help: "`accounts update`: the account's new contact addresses (repeat or separate by commas; --contact '' removes them all); --email still names the account",
  },
  {
    name: 'newAccount',
    type: 'boolean',
    spellings: ['new'],
    commands: ['accounts'],
    group: 'global',
    help: '`accounts register`: a new key and account replace the stored ones (the old files are kept as <file>.replaced-<unix seconds>)',
  },
  {
    name: 'yes',
    type: 'boolean',
    spellings: ['yes'],
    commands: ['accounts'],
    group: 'global',
    help: '`accounts deactivate`: do not ask for confirmation (needed when no terminal is attached)',
  },
  // Output
  {
    name: 'json',
    type: 'boolean',
    spellings: ['json'],
    group: 'output',
    help: 'Print one JSON document instead of text',
  },
  {
    name: 'listNames',
    type: 'boolean',
    spellings: ['names', 'n'],
    group: 'output',
    commands: ['list'],
    help: '`list`: print only the main name of each certificate, one per line',
  },
  {
    name: 'listAccounts',
    type: 'boolean',
    spellings: ['accounts'],
    group: 'output',
    commands: ['list'],
    help: '`list`: print the accounts too, as `accounts list` does (lego v4: also -a after `list`)',
  },
  { name: 'quiet', type: 'boolean', spellings: ['quiet', 'q'], group: 'output', help: 'Print only errors' },
  {
    name: 'logLevel',
    type: 'string',
    spellings: ['log-level', 'log.level'],
    env: ['ACMEKIT_LOG_LEVEL', 'LEGO_LOG_LEVEL'],
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
  // lego flags acmekit knows, but refuses (what they ask for cannot be done here) or does not apply.
  {
    name: 'httpMemcachedHost',
    type: 'list',
    spellings: ['http.memcached-host'],
    env: ['ACMEKIT_HTTP_MEMCACHED_HOST', 'LEGO_HTTP_MEMCACHED_HOST'],
    group: 'compat',
    arg: 'HOST:PORT',
    help: 'Refused: acmekit cannot write http-01 answers to memcached',
    unsupported:
      'acmekit cannot write http-01 answers to memcached; use --http.webroot DIR on a folder every web server serves, --dns PROVIDER, or acmekit/server autoHttps with a shared --storage database (every node answers the challenge)',
  },
  {
    name: 'httpS3Bucket',
    type: 'string',
    spellings: ['http.s3-bucket'],
    env: ['ACMEKIT_HTTP_S3_BUCKET', 'LEGO_HTTP_S3_BUCKET'],
    group: 'compat',
    arg: 'BUCKET',
    help: 'Refused: acmekit cannot write http-01 answers to an S3 bucket',
    unsupported:
      'acmekit cannot write http-01 answers to an S3 bucket; use --http.webroot DIR on the folder your web server serves (a mounted bucket works) or --dns PROVIDER',
  },
  {
    name: 'tlsSkipVerify',
    type: 'boolean',
    spellings: ['tls-skip-verify'],
    env: ['ACMEKIT_TLS_SKIP_VERIFY', 'LEGO_TLS_SKIP_VERIFY'],
    group: 'compat',
    commands: CA,
    help: "Refused: acmekit always verifies the CA's TLS certificate",
    unsupported:
      "acmekit always verifies the CA's TLS certificate; for a private or test CA trust its root with --ca-bundle FILE (or LEGO_CA_CERTIFICATES=FILE)",
  },
  {
    name: 'accountId',
    type: 'string',
    spellings: ['account-id'],
    env: ['ACMEKIT_ACCOUNT_ID', 'LEGO_ACCOUNT_ID'],
    group: 'compat',
    commands: REGISTER,
    arg: 'ID',
    help: 'Accepted only when equal to --email: acmekit names the account folder after the email',
    unsupported:
      'acmekit names the account folder after --email and cannot use another account ID; drop --account-id (or give it the same value as --email)',
    allowedWhen: (o) => o.accountId === (o.email ?? ''),
  },
  {
    name: 'dnsPersist',
    type: 'boolean',
    spellings: ['dns-persist', 'dns-persist.propagation.disable-ans', 'dns-persist.propagation.disable-rns'],
    env: ['ACMEKIT_DNS_PERSIST', 'LEGO_DNS_PERSIST'],
    group: 'compat',
    help: 'Refused: dns-persist-01 is not supported',
    unsupported: 'dns-persist-01 is not supported; use --dns PROVIDER (dns-01), --http or --tls',
  },
  {
    name: 'dnsPersistSettings',
    type: 'list',
    spellings: [
      'dns-persist.issuer-domain-name',
      'dns-persist.persist-until',
      'dns-persist.propagation.wait',
      'dns-persist.resolvers',
      'dns-persist.timeout',
    ],
    env: [
      'ACMEKIT_DNS_PERSIST_SETTINGS',
      'LEGO_DNS_PERSIST_ISSUER_DOMAIN_NAME',
      'LEGO_DNS_PERSIST_PERSIST_UNTIL',
      'LEGO_DNS_PERSIST_PROPAGATION_WAIT',
      'LEGO_DNS_PERSIST_RESOLVERS',
      'LEGO_DNS_PERSIST_TIMEOUT',
    ],
    group: 'compat',
    arg: 'VALUE',
    help: 'Refused: settings of dns-persist-01, which is not supported',
    unsupported: 'dns-persist-01 is not supported; use --dns PROVIDER (dns-01), --http or --tls',
  },
  {
    name: 'httpProxyHeader',
    type: 'string',
    spellings: ['http.proxy-header'],
    env: ['ACMEKIT_HTTP_PROXY_HEADER', 'LEGO_HTTP_PROXY_HEADER'],
    group: 'compat',
    arg: 'HEADER',
    help: 'Not needed: the --http listener answers its tokens whatever the Host (or any other) header says',
    notApplied: {
      why: 'the --http listener answers its tokens whatever the Host (or any other) header says, so nothing needs to match behind a proxy',
    },
  },
  {
    name: 'dnsPropagationRns',
    type: 'boolean',
    spellings: ['dns.propagation-rns'],
    env: ['ACMEKIT_DNS_PROPAGATION_RNS'],
    group: 'compat',
    help: 'Not applied: acmekit checks every authoritative nameserver (or the --dns.resolvers), not the recursive ones as well',
    notApplied: {
      why: 'acmekit checks the record on every authoritative nameserver (or on the --dns.resolvers you name) and makes no extra check through recursive resolvers',
    },
  },
  {
    name: 'overallRequestLimit',
    type: 'number',
    spellings: ['overall-request-limit'],
    env: ['ACMEKIT_OVERALL_REQUEST_LIMIT', 'LEGO_OVERALL_REQUEST_LIMIT'],
    group: 'compat',
    arg: 'N',
    help: 'Not applied: acmekit keeps at most 8 requests to the CA in flight and follows its Retry-After',
    notApplied: {
      why: "acmekit keeps at most 8 requests to the CA in flight and follows the CA's Retry-After instead of a requests-per-second limit",
    },
  },
  {
    name: 'ipv4Only',
    type: 'boolean',
    spellings: ['ipv4only', '4'],
    env: ['ACMEKIT_IPV4_ONLY', 'LEGO_IPV4ONLY'],
    group: 'compat',
    help: 'Not applied (warns): acmekit uses whichever of IPv4 and IPv6 connects first',
    notApplied: {
      why: 'acmekit connects to the CA over whichever of IPv4 and IPv6 answers first; to bind the challenge listener to IPv4 give --http.address 0.0.0.0:80',
      warn: true,
    },
  },
  {
    name: 'ipv6Only',
    type: 'boolean',
    spellings: ['ipv6only', '6'],
    env: ['ACMEKIT_IPV6_ONLY', 'LEGO_IPV6ONLY'],
    group: 'compat',
    help: 'Not applied (warns): acmekit uses whichever of IPv4 and IPv6 connects first',
    notApplied: {
      why: 'acmekit connects to the CA over whichever of IPv4 and IPv6 answers first; to bind the challenge listener to IPv6 give --http.address [::]:80',
      warn: true,
    },
  },
  {
    name: 'logFormat',
    type: 'string',
    spellings: ['log.format'],
    env: ['ACMEKIT_LOG_FORMAT', 'LEGO_LOG_FORMAT'],
    group: 'compat',
    commands: ALL,
    arg: 'FORMAT',
    help: 'Not applied: log lines are plain text (use --json for one JSON document on stdout)',
    notApplied: { why: 'log lines are plain text; --json prints one JSON document on stdout instead' },
  },
  { name: 'help', type: 'boolean', spellings: ['help', 'h'], group: 'output', help: 'Show help' },
  {
    name: 'version',
    type: 'boolean',
    spellings: ['version', 'v'],
    group: 'output',
    help: 'Print the version',
  },
] as const satisfies readonly FlagSpec<string>[];

/** Every option's canonical name, from the table: `o.str('emial')` does not compile. */
export type OptionName = (typeof flagTable)[number]['name'];

/** The names of the options of one type, e.g. `OptionNameOf<'boolean'>` for what `Options.bool` reads. */
export type OptionNameOf<T extends FlagType> = Extract<
  (typeof flagTable)[number],
  { readonly type: T }
>['name'];

export const flags: readonly FlagSpec[] = flagTable;

const bySpelling = new Map<string, FlagSpec>();
for (const f of flags) for (const s of f.spellings) bySpelling.set(s, f);

export function flagBySpelling(spelling: string): FlagSpec | undefined {
  return bySpelling.get(spelling);
}
