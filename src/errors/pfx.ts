import { AcmekitError } from './base.ts';

/** The .pfx (PKCS#12) bundle asked for (`--pfx`) could not be made: no openssl command, or openssl refused. */
export class PfxError extends AcmekitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PFX', message, options);
  }
}
