import { AcmekitError } from './base.ts';

/** The handshake could not get an on-demand certificate; says why, without waiting on anything. */
export class OnDemandRefusedError extends AcmekitError {
  readonly serverName: string;
  constructor(serverName: string, message: string, options?: { cause?: unknown }) {
    super('ERR_ON_DEMAND_REFUSED', `on-demand TLS for ${JSON.stringify(serverName)}: ${message}`, options);
    this.serverName = serverName;
  }
}
