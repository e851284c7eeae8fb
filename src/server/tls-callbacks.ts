import type { SecureContext, TLSSocket } from 'node:tls';
import { ACME_TLS_ALPN } from '../solvers/tls-alpn01.ts';
import type { TlsAlpnChallengeSolver } from '../solvers/tls-alpn01-store.ts';
import { normalizeServerName, type SniCache } from './sni-cache.ts';

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
type AlpnCallback = (arg: { servername: string; protocols: string[] }) => string | undefined;

/** What one handshake has shown so far: ALPN and certificate selection run in either order. */
interface HandshakeState {
  /** 'shared': acme-tls/1 accepted for a name whose challenge another process may have stored. */
  alpn?: 'challenge' | 'shared' | 'other';
  served?: 'challenge' | 'normal';
}

export interface TlsCallbackDeps {
  cache: SniCache;
  tlsAlpn: TlsAlpnChallengeSolver | undefined;
  /** For a name not in the cache: resolves once it is (on-demand), rejects to fail the handshake. */
  onMiss: ((name: string) => Promise<void>) | undefined;
}

/**
 * The SNI and ALPN callbacks of a server. Certificates come from memory; a name with a pending
 * tls-alpn-01 challenge gets the challenge certificate only in a handshake that offers exactly
 * "acme-tls/1" (RFC 8737 §3), every other client the real one. In a cluster such a handshake for a
 * challenge this process did not present is answered from the shared store (SNICallback may wait);
 * no other handshake ever touches the store.
 *
 * Node runs both callbacks with the handshake's TLSSocket as `this`; with TLS 1.3 OpenSSL asks ALPN
 * first, with TLS 1.2 it picks the certificate first. So the ALPN answer is remembered per socket for the
 * certificate choice. In the TLS 1.2 order the certificate is chosen before ALPN is known, so such a
 * validation attempt gets the real certificate and is then refused (CAs validate with TLS 1.3 clients).
 */
export function tlsCallbacks(deps: TlsCallbackDeps): {
  SNICallback: SniCallback;
  ALPNCallback: (protocols: readonly string[]) => AlpnCallback;
} {
  const states = new WeakMap<object, HandshakeState>();
  const stateOf = (socket: unknown): HandshakeState | undefined => {
    if (typeof socket !== 'object' || socket === null) return undefined;
    let state = states.get(socket);
    if (!state) {
      state = {};
      states.set(socket, state);
    }
    return state;
  };

  const SNICallback: SniCallback = function (this: unknown, servername, cb) {
    const state = stateOf(this);
    const name = normalizeServerName(servername);
    // Only a handshake that offered exactly acme-tls/1 (ALPN decided first, TLS 1.3) gets the challenge
    // certificate: a client without ALPN also leaves `alpn` unset, and must never be served it. Once
    // acme-tls/1 was chosen only a challenge certificate may follow: from memory, else from the store
    // (another process presented it). Every other handshake is answered from memory alone.
    if ((state?.alpn === 'challenge' || state?.alpn === 'shared') && deps.tlsAlpn) {
      const challenge = deps.tlsAlpn.context(name);
      if (challenge) {
        state.served = 'challenge';
        cb(null, challenge);
        return;
      }
      deps.tlsAlpn.lookup(name).then(
        (found) => {
          if (!found) return cb(new Error('no tls-alpn-01 challenge pending for this name'));
          state.served = 'challenge';
          cb(null, found);
        },
        (err: Error) => cb(err),
      );
      return;
    }
    if (state) state.served = 'normal';
    const context = deps.cache.context(name);
    if (context) {
      cb(null, context);
      return;
    }
    if (deps.onMiss) {
      deps.onMiss(name).then(
        () => cb(null, deps.cache.context(name) ?? deps.cache.defaultContext()),
        (err: Error) => cb(err),
      );
      return;
    }
    // A name nobody manages gets the default certificate, as when the client sends no SNI.
    cb(null, deps.cache.defaultContext());
  };

  const ALPNCallback = (appProtocols: readonly string[]): AlpnCallback =>
    function (this: unknown, { servername, protocols }) {
      const state = stateOf(this);
      if (protocols.length === 1 && protocols[0] === ACME_TLS_ALPN) {
        if (!servername || !state || state.served === 'normal') return undefined;
        if (deps.tlsAlpn?.context(servername)) state.alpn = 'challenge';
        // Perhaps another process presented it: SNICallback (asked next, TLS 1.3) looks in the store.
        else if (deps.tlsAlpn?.canLookup(servername)) state.alpn = 'shared';
        else return undefined;
        // The CA only needs the handshake; never hand this connection to the application.
        const socket = this as TLSSocket;
        socket.once('secure', () => socket.end());
        return ACME_TLS_ALPN;
      }
      if (state) {
        state.alpn = 'other';
        if (state.served === 'challenge') return undefined;
      }
      return appProtocols.find((p) => protocols.includes(p));
    };

  return { SNICallback, ALPNCallback };
}
