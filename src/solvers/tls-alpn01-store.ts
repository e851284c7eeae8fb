import { createSecureContext, type SecureContext } from 'node:tls';
import type { Store } from '../storage/store.ts';
import {
  isWellFormedServerName,
  SharedLookup,
  type SharedLookupOptions,
  tlsAlpnChallengeKey,
} from './shared-challenges.ts';
import type { ChallengeContext, Solver } from './solver.ts';
import { tlsAlpnServerName } from './tls-alpn01.ts';

export interface TlsAlpnChallengeOptions {
  /**
   * Share challenge certificates through this store (a cluster): `present` writes them there (private),
   * `cleanup` deletes them, and a handshake offering exactly "acme-tls/1" for a name not in memory is
   * answered from it, so any process behind the load balancer answers the CA.
   */
  store?: Store;
  /** Bounds on those lookups: miss cache, lookups in flight. */
  lookup?: SharedLookupOptions;
}

interface StoredChallenge {
  cert: string;
  key: string;
}

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * tls-alpn-01 answered on the serving port itself (RFC 8737): `present` builds the challenge
 * certificate and keeps its SecureContext in memory; the server's SNI/ALPN callbacks hand it only to
 * handshakes that offer exactly "acme-tls/1" for a pending name. Nothing listens on its own.
 */
export class TlsAlpnChallengeSolver implements Solver {
  readonly type = 'tls-alpn-01' as const;
  readonly #contexts = new Map<string, SecureContext>();
  /** The certificate this process stored per name, so cleanup removes only its own. */
  readonly #stored = new Map<string, string>();
  readonly #store: Store | undefined;
  readonly #shared: SharedLookup<SecureContext> | undefined;

  constructor(options: TlsAlpnChallengeOptions = {}) {
    this.#store = options.store;
    this.#shared = options.store
      ? new SharedLookup(options.store, decodeChallenge, options.lookup)
      : undefined;
  }

  async present(ctx: ChallengeContext, signal?: AbortSignal): Promise<void> {
    const { certPem, keyPem } = await ctx.challenge.tlsAlpnCertificate();
    const name = tlsAlpnServerName(ctx.identifier);
    this.#contexts.set(name, createSecureContext({ cert: certPem, key: keyPem }));
    this.#shared?.forget(name);
    if (this.#store && isWellFormedServerName(name)) {
      this.#stored.set(name, certPem);
      const value: StoredChallenge = { cert: certPem, key: keyPem };
      await this.#store.put(tlsAlpnChallengeKey(name), JSON.stringify(value), {
        private: true,
        ...(signal ? { signal } : {}),
      });
    }
  }

  async cleanup(ctx: ChallengeContext, signal?: AbortSignal): Promise<void> {
    const name = tlsAlpnServerName(ctx.identifier);
    this.#contexts.delete(name);
    const mine = this.#stored.get(name);
    if (!this.#store || mine === undefined) return;
    this.#stored.delete(name);
    // Another process may have presented a newer challenge for the same name meanwhile: keep that one.
    const key = tlsAlpnChallengeKey(name);
    const now = await this.#store.get(key, signal);
    if (now === undefined || parseStored(now)?.cert === mine) await this.#store.delete(key, signal);
  }

  /** The challenge context for a server name, when this process presented one (memory only). */
  context(serverName: string): SecureContext | undefined {
    return this.#contexts.get(normalize(serverName));
  }

  /**
   * Whether a handshake offering only "acme-tls/1" for this name may be answered from the shared
   * store: a store is set, the name is well-formed, and there is room for another lookup.
   */
  canLookup(serverName: string): boolean {
    const name = normalize(serverName);
    if (!this.#shared || !isWellFormedServerName(name)) return false;
    const cached = this.#shared.peek(name);
    if (cached) return cached.value !== undefined;
    return this.#shared.hasRoom(name);
  }

  /** The challenge context another process stored for this name, if any (cached briefly, hits and misses). */
  async lookup(serverName: string): Promise<SecureContext | undefined> {
    const name = normalize(serverName);
    if (!this.#shared || !isWellFormedServerName(name)) return undefined;
    const result = await this.#shared.lookup(name, tlsAlpnChallengeKey(name));
    return 'found' in result ? result.found : undefined;
  }

  get pending(): number {
    return this.#contexts.size;
  }

  /** Store lookups made for names not in memory (status and tests). */
  get sharedLookups(): number {
    return this.#shared?.reads ?? 0;
  }
}

function parseStored(bytes: Uint8Array): StoredChallenge | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<StoredChallenge>;
    return typeof value.cert === 'string' && typeof value.key === 'string'
      ? { cert: value.cert, key: value.key }
      : undefined;
  } catch {
    return undefined;
  }
}

function decodeChallenge(bytes: Uint8Array): SecureContext | undefined {
  const stored = parseStored(bytes);
  if (!stored) return undefined;
  try {
    return createSecureContext({ cert: stored.cert, key: stored.key });
  } catch {
    return undefined;
  }
}
