import { type CertificateKeyType, certificateKeyTypes } from '../crypto/keys.ts';
import { UsageError } from '../errors/usage.ts';
import type { OptionNameOf } from './flags.ts';
import type { Options } from './options.ts';

/** A number of seconds > 0 from the option `name`, or undefined when not given. */
export function secondsOption(
  o: Options,
  name: OptionNameOf<'number' | 'duration'>,
  flag: string,
): number | undefined {
  const v = o.num(name);
  if (v === undefined) return undefined;
  if (!(v > 0) || !Number.isFinite(v)) throw new UsageError(`${flag} ${v}: give a number of seconds > 0`);
  return v;
}

/** --key-type, checked: the certificate key types acmekit generates. */
export function keyTypeOption(o: Options): CertificateKeyType {
  const t = (o.str('keyType') ?? 'ec256').toLowerCase();
  // lego spells them EC256/RSA2048 too.
  if (!(certificateKeyTypes as readonly string[]).includes(t) || t === 'ed25519') {
    throw new UsageError(`--key-type ${t} is not supported; use ec256, ec384, rsa2048, rsa3072 or rsa4096`);
  }
  return t as CertificateKeyType;
}

/** --http.delay / --tls.delay in ms for the challenge type, when given. */
export function challengeDelayMs(o: Options, type: 'http-01' | 'tls-alpn-01'): number | undefined {
  const seconds = o.num(type === 'http-01' ? 'httpDelay' : 'tlsDelay');
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
