import { AuthorizationFailedError } from '../errors/authorization.ts';
import {
  BadServerResponseError,
  CertificateMismatchError,
  NetworkError,
  SolverError,
  TimeoutError,
} from '../errors/base.ts';
import { AcmeProblemError } from '../errors/problem.ts';
import { isoTime } from '../internal/iso-time.ts';
import { caPresets } from '../protocol/ca-presets.ts';
import { flags } from './flags.ts';
import { envNames } from './parse-args.ts';

const ACME = 'urn:ietf:params:acme:error:';

/**
 * What the user can do about a failure, as one line (RELIABILITY G6: every message says what to do
 * next). Undefined when the error's own message already says it: usage errors name the input,
 * storage and lock errors carry their hint, hook errors show how to run the hook by hand.
 */
export function nextStep(err: unknown): string | undefined {
  if (err instanceof AuthorizationFailedError) {
    return `make sure the CA can reach the proof for ${err.identifier} (DNS pointing at this machine, port open, or the TXT record visible), then run again`;
  }
  if (err instanceof AcmeProblemError) return problemStep(err);
  if (err instanceof SolverError) return 'fix what the challenge solver reports above, then run again';
  if (err instanceof TimeoutError) {
    return 'the CA did not answer in time: check the network and the CA status page, then run again';
  }
  if (err instanceof NetworkError) {
    return 'check the network, the --server URL, --ca-bundle and any HTTPS_PROXY setting, then run again';
  }
  if (err instanceof BadServerResponseError && err.notAcmeDirectory) {
    return `check --server: ${err.url ?? 'the URL'} is not an ACME directory; give the CA's directory URL (e.g. ${caPresets.letsencrypt}) or a preset (${Object.keys(caPresets).join(', ')})`;
  }
  if (err instanceof CertificateMismatchError || err instanceof BadServerResponseError) {
    return 'the CA sent an answer acmekit cannot use, so nothing was saved; run again later, and report it to the CA if it persists';
  }
  return undefined;
}

/** "--eab.kid and --eab.hmac (lego v4: --kid, --hmac; or ACMEKIT_EAB_KID, ACMEKIT_EAB_HMAC)", from the flag table. */
function eabOptions(): string {
  const specs = (['eabKid', 'eabHmac'] as const).map((name) => flags.find((f) => f.name === name)!);
  const main = specs.map((f) => `--${f.spellings[0]}`).join(' and ');
  const v4 = specs.flatMap((f) => f.spellings.slice(1).map((s) => `--${s}`)).join(', ');
  const env = specs.map((f) => envNames(f)[0]).join(', ');
  return `${main} (lego v4: ${v4}; or ${env})`;
}

/** Where a CA shows the key id and HMAC key of an external account binding. */
function eabSource(url: string | undefined): string {
  const host = url && URL.canParse(url) ? new URL(url).hostname : '';
  if (host.endsWith('zerossl.com'))
    return 'ZeroSSL shows them in its dashboard, under Developer: EAB Credentials for ACME Clients';
  if (host.endsWith('pki.goog'))
    return 'Google Trust Services makes a pair with `gcloud publicca external-account-keys create`';
  if (host.endsWith('ssl.com')) return "SSL.com shows them on its account's API credentials page";
  return 'Your CA shows them in its account pages, with its ACME settings';
}

function problemStep(err: AcmeProblemError): string {
  const type = err.type.startsWith(ACME) ? err.type.slice(ACME.length) : err.type;
  if (err.externalAccountBinding) {
    return `the CA refused the external account binding: check ${eabOptions()}; they must be the pair the CA made for your account, copied whole, and some CAs take a pair only once. ${eabSource(err.url)}. Then run again`;
  }
  switch (type) {
    case 'rateLimited':
      return err.retryAfter
        ? `the CA accepts the next attempt after ${isoTime(err.retryAfter)}; run again then`
        : 'the CA is rate limiting these names or this account: wait (the message above may say until when or link to details), then run again';
    case 'userActionRequired':
    case 'agreementRequired':
      return 'open the page named above and do what the CA asks (acmekit never agrees on your behalf), then run again';
    case 'externalAccountRequired':
      return `this CA needs external account binding: pass ${eabOptions()} from your CA account. ${eabSource(err.url)}`;
    case 'unauthorized':
    case 'rejectedIdentifier':
    case 'caa':
      return 'the CA will not issue for these names to this account: check the names, their CAA records and the account, then run again';
    case 'badNonce':
    case 'serverInternal':
      return 'the CA had a problem of its own: run again later';
    default:
      return 'the CA refused for the reason above: fix what it names, then run again';
  }
}
