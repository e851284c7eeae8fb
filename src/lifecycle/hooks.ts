import { basename } from 'node:path';
import { InvalidInputError } from '../errors/base.ts';
import { type ProcessResult, type RunProcessOptions, runProcess } from '../internal/run-process.ts';

/** What a hook run produced. */
export type HookResult = ProcessResult;

export interface RunHookOptions extends Omit<RunProcessOptions, 'file' | 'args'> {
  /** The user's command line, e.g. `docker exec nginx nginx -s reload`; run by `/bin/sh -c`. */
  command: string;
  /** false: split on whitespace and run without a shell (as lego does); default true. */
  shell?: boolean;
}

/**
 * Runs one hook. Certificate names and paths reach it only through `env`; nothing is ever spliced
 * into `command`.
 */
export async function runHook(opts: RunHookOptions): Promise<HookResult> {
  const command = opts.command.trim();
  if (!command) throw new InvalidInputError('a hook command must not be empty', opts.command);
  const [file, ...args] = opts.shell === false ? command.split(/\s+/) : ['/bin/sh', '-c', command];
  return runProcess({ ...opts, file: file!, args, label: 'the hook' });
}

export interface HookEnvironmentOptions {
  /** The certificate's main name, as stored (e.g. `*.example.com`). */
  domain: string;
  certPath: string;
  keyPath: string;
  issuerPath: string;
  fullchainPath?: string;
  pemPath?: string;
  pfxPath?: string;
  /** Every name on the renewed certificate (certbot's RENEWED_DOMAINS); default `[domain]`. */
  renewedDomains?: string[];
  accountEmail?: string;
  keyType?: string;
  server?: string; // the ACME directory URL
  extra?: Record<string, string>;
}

/**
 * The variables a deploy hook gets: acmekit's names, lego v4's (`LEGO_CERT_*`, `LEGO_ISSUER_CERT_PATH`,
 * `LEGO_ACCOUNT_EMAIL`) and lego v5's (`LEGO_HOOK_*`), so hook scripts written for lego keep working.
 */
export function hookEnvironment(o: HookEnvironmentOptions): Record<string, string> {
  const names = o.renewedDomains?.length ? o.renewedDomains : [o.domain];
  const env: Record<string, string | undefined> = {
    ACMEKIT_CERT_DOMAIN: o.domain,
    ACMEKIT_CERT_PATH: o.certPath,
    ACMEKIT_CERT_KEY_PATH: o.keyPath,
    ACMEKIT_CERT_FULLCHAIN_PATH: o.fullchainPath ?? o.certPath,
    ACMEKIT_CERT_ISSUER_PATH: o.issuerPath,
    ACMEKIT_CERT_PEM_PATH: o.pemPath,
    ACMEKIT_CERT_PFX_PATH: o.pfxPath,
    ACMEKIT_RENEWED_DOMAINS: names.join(' '),
    // lego v4 (cmd/hook.go)
    LEGO_CERT_DOMAIN: o.domain,
    LEGO_CERT_PATH: o.certPath,
    LEGO_CERT_KEY_PATH: o.keyPath,
    LEGO_ISSUER_CERT_PATH: o.issuerPath,
    LEGO_CERT_PEM_PATH: o.pemPath,
    LEGO_CERT_PFX_PATH: o.pfxPath,
    LEGO_ACCOUNT_EMAIL: o.accountEmail,
    // lego v5 (cmd/internal/hook/metadata.go)
    LEGO_HOOK_CERT_NAME: o.domain,
    LEGO_HOOK_CERT_NAME_SANITIZED: basename(o.certPath).replace(/\.crt$/, ''),
    LEGO_HOOK_CERT_DOMAINS: names.join(','),
    LEGO_HOOK_CERT_KEY_TYPE: o.keyType,
    LEGO_HOOK_CERT_PATH: o.certPath,
    LEGO_HOOK_CERT_KEY_PATH: o.keyPath,
    LEGO_HOOK_ISSUER_CERT_PATH: o.issuerPath,
    LEGO_HOOK_CERT_PEM_PATH: o.pemPath,
    LEGO_HOOK_CERT_PFX_PATH: o.pfxPath,
    LEGO_HOOK_ACCOUNT_EMAIL: o.accountEmail,
    LEGO_HOOK_ACCOUNT_SERVER: o.server,
    ...o.extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
