import type { KeyObject } from 'node:crypto';
import { BadServerResponseError, InvalidInputError } from '../errors/base.ts';
import { decodePem } from '../internal/pem.ts';
import type { ClientContext } from './session.ts';

/** RFC 5280 §5.3.1 reason codes a CA accepts for revocation. */
export const revocationReasons = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;

export type RevocationReason = keyof typeof revocationReasons | number;

function reasonCode(reason: RevocationReason | undefined): number | undefined {
  if (reason === undefined) return undefined;
  if (typeof reason === 'number') {
    if (!Number.isInteger(reason) || reason < 0 || reason > 10 || reason === 7) {
      throw new InvalidInputError(`revocation reason ${reason} is not an RFC 5280 reason code`, reason);
    }
    return reason;
  }
  if (!Object.hasOwn(revocationReasons, reason)) {
    throw new InvalidInputError(
      `unknown revocation reason ${JSON.stringify(reason)}; use one of ${Object.keys(revocationReasons).join(', ')}`,
      reason,
    );
  }
  return revocationReasons[reason];
}

/** The leaf's DER from a PEM chain or DER bytes. */
function leafDer(certificate: string | Uint8Array): Buffer {
  if (typeof certificate !== 'string') return Buffer.from(certificate);
  const first = decodePem(certificate).find((b) => b.label === 'CERTIFICATE');
  if (!first) throw new InvalidInputError('no CERTIFICATE block found in the certificate to revoke');
  return first.der;
}

/**
 * RFC 8555 §7.6: signed by the account (kid) that holds the certificate, or by the certificate's
 * own key (jwk), which works without any account.
 */
export async function revokeCertificate(
  client: ClientContext,
  certificate: string | Uint8Array,
  signer: { key: KeyObject; kid?: string },
  opts: { reason?: RevocationReason; signal?: AbortSignal } = {},
): Promise<void> {
  const payload: Record<string, unknown> = { certificate: leafDer(certificate).toString('base64url') };
  const reason = reasonCode(opts.reason);
  if (reason !== undefined) payload.reason = reason;
  const dir = await client.http.directory(opts.signal);
  if (!dir.revokeCert)
    throw new BadServerResponseError('this CA has no revokeCert resource in its directory');
  await client.http.post(dir.revokeCert, payload, signer, opts.signal);
}
