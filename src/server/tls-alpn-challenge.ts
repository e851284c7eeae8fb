import { createSecureContext, type SecureContext } from 'node:tls';
import type { ChallengeContext, Solver } from '../acme/solver.ts';
import { tlsAlpnServerName } from '../solvers/tls-alpn01.ts';

/**
 * tls-alpn-01 answered on the serving port itself (RFC 8737): `present` builds the challenge
 * certificate and keeps its SecureContext in memory; the server's SNI/ALPN callbacks hand it only to
 * handshakes that offer exactly "acme-tls/1" for a pending name. Nothing listens on its own.
 */
export class TlsAlpnChallengeSolver implements Solver {
  readonly type = 'tls-alpn-01' as const;
  readonly #contexts = new Map<string, SecureContext>();

  async present(ctx: ChallengeContext): Promise<void> {
    const { certPem, keyPem } = await ctx.challenge.tlsAlpnCertificate();
    this.#contexts.set(
      tlsAlpnServerName(ctx.identifier),
      createSecureContext({ cert: certPem, key: keyPem }),
    );
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    this.#contexts.delete(tlsAlpnServerName(ctx.identifier));
  }

  /** The challenge context for a server name, when a challenge is pending for it. */
  context(serverName: string): SecureContext | undefined {
    return this.#contexts.get(serverName.toLowerCase().replace(/\.$/, ''));
  }

  get pending(): number {
    return this.#contexts.size;
  }
}
