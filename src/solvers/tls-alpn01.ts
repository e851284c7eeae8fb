import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import { type Identifier, ipToBytes } from '../crypto/identifier.ts';
import { close, listen, SharedListener } from './listener.ts';
import type { ChallengeContext, Solver } from './solver.ts';

export interface TlsAlpn01Options {
  /** Port the CA connects to; 443 in production. */
  port?: number;
  host?: string;
}

export const ACME_TLS_ALPN = 'acme-tls/1';

/** The SNI a CA sends for an identifier: the name, or the reverse-DNS name of an IP (RFC 8738 §6). */
export function tlsAlpnServerName(id: Identifier): string {
  if (id.type === 'dns') return id.value.toLowerCase();
  if (id.value.includes(':')) {
    const bytes = ipToBytes(id.value) ?? Buffer.alloc(16);
    const nibbles = bytes.toString('hex');
    return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
  }
  return `${id.value.split('.').reverse().join('.')}.in-addr.arpa`;
}

/**
 * tls-alpn-01 with its own TLS listener (RFC 8737), like lego's --tls: it only completes handshakes
 * that ask for ALPN "acme-tls/1" with the SNI of a pending identifier, and presents the challenge
 * certificate for it.
 */
export class TlsAlpn01ListenerSolver implements Solver {
  readonly type = 'tls-alpn-01' as const;
  readonly port: number;
  readonly host: string | undefined;
  readonly #contexts = new Map<string, SecureContext>();
  readonly #server = createServer({
    ALPNProtocols: [ACME_TLS_ALPN],
    SNICallback: (name, cb) => {
      const ctx = this.#contexts.get(name.toLowerCase());
      if (ctx) cb(null, ctx);
      else cb(new Error(`no tls-alpn-01 challenge pending for ${name}`));
    },
    handshakeTimeout: 10_000,
  });
  readonly #listener: SharedListener;

  constructor(opts: TlsAlpn01Options = {}) {
    this.port = opts.port ?? 443;
    this.host = opts.host;
    // The validation handshake is all the CA needs; close the connection right after it.
    this.#server.on('secureConnection', (socket) => socket.end());
    this.#server.on('tlsClientError', () => {});
    this.#listener = new SharedListener(
      () => listen(this.#server, this.type, this.port, this.host),
      () => close(this.#server),
    );
  }

  async present(ctx: ChallengeContext, _signal?: AbortSignal): Promise<void> {
    const { certPem, keyPem } = await ctx.challenge.tlsAlpnCertificate();
    const name = tlsAlpnServerName(ctx.identifier);
    this.#contexts.set(name, createSecureContext({ cert: certPem, key: keyPem }));
    await this.#listener.acquire().catch((err: unknown) => {
      this.#contexts.delete(name);
      throw err;
    });
  }

  async cleanup(ctx: ChallengeContext, _signal?: AbortSignal): Promise<void> {
    if (!this.#contexts.delete(tlsAlpnServerName(ctx.identifier))) return;
    await this.#listener.release();
  }

  get listening(): boolean {
    return this.#server.listening;
  }
}
