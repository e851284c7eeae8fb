import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { sanNames } from '../crypto/san-names.ts';

/** One certificate as the server hands it out: PEM chain and key, plus what handshakes and status need. */
export interface CachedCertificate {
  /** The id of the managed certificate (its main name); a later `set` with the same id replaces it. */
  readonly id: string;
  /** Names from the leaf's SANs: DNS names (lower case, wildcards as "*.example.com") and IP addresses. */
  readonly names: readonly string[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Leaf first, then intermediates. */
  readonly chainPem: string;
  readonly keyPem: string;
}

/** Told after a certificate is put into service (`cert`) or taken out (`undefined`). */
export type SniCacheListener = (id: string, cert: CachedCertificate | undefined) => void;

interface Entry {
  readonly cert: CachedCertificate;
  context: SecureContext | undefined;
}

/** Reads names, serial and validity from the leaf (the first certificate of the chain). */
export function describeChain(id: string, chainPem: string, keyPem: string): CachedCertificate {
  return describeLeaf(id, new X509Certificate(chainPem), chainPem, keyPem);
}

/**
 * describeChain for a pair read from the store, parsing the leaf once for both: undefined when the key
 * is not the leaf's (or no key at all), as when another process's renewal has written the new .crt but
 * not yet its .key. A chain that holds no certificate still throws.
 */
export function describeStoredPair(
  id: string,
  chainPem: string,
  keyPem: string,
): CachedCertificate | undefined {
  const leaf = new X509Certificate(chainPem);
  let fits: boolean;
  try {
    fits = leaf.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    fits = false;
  }
  return fits ? describeLeaf(id, leaf, chainPem, keyPem) : undefined;
}

function describeLeaf(
  id: string,
  leaf: X509Certificate,
  chainPem: string,
  keyPem: string,
): CachedCertificate {
  return {
    id,
    names: sanNames(leaf),
    serial: leaf.serialNumber.toLowerCase(),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    chainPem,
    keyPem,
  };
}

/** SNI as a map key: lower case, no trailing dot. */
export function normalizeServerName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Certificates by server name, answered from memory during handshakes. Exact names win over a wildcard
 * ("*.example.com" covers one label only). Each SecureContext is built on first use and kept, so 10,000
 * stored certificates cost only their PEM until someone connects. Replacing a certificate swaps the map
 * entries in one synchronous step: new handshakes get the new context at once, while connections that
 * already completed their handshake keep the old one (OpenSSL holds it per connection).
 */
export class SniCache {
  readonly #byId = new Map<string, Entry>();
  readonly #exact = new Map<string, Entry>();
  /** "example.com" → the entry holding "*.example.com". */
  readonly #wildcard = new Map<string, Entry>();
  #defaultId: string | undefined;
  readonly #listeners = new Set<SniCacheListener>();

  constructor(defaultId?: string) {
    this.#defaultId = defaultId;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Adds or replaces the certificate with this id. */
  set(cert: CachedCertificate): void {
    const entry: Entry = { cert, context: undefined };
    const old = this.#byId.get(cert.id);
    this.#byId.set(cert.id, entry);
    if (old) this.#unmap(old);
    for (const name of cert.names) {
      if (name.startsWith('*.')) this.#wildcard.set(name.slice(2), entry);
      else this.#exact.set(name, entry);
    }
    this.#defaultId ??= cert.id;
    this.#tell(cert.id, cert);
  }

  delete(id: string): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#byId.delete(id);
    this.#unmap(old);
    this.#tell(id, undefined);
  }

  /**
   * Calls `listener` after every `set` and `delete`, once the swap is done; returns the unsubscribe.
   * A listener runs on the swap's path, so it must be quick; what it throws is dropped.
   */
  observe(listener: SniCacheListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(id: string): CachedCertificate | undefined {
    return this.#byId.get(id)?.cert;
  }

  /** The certificate for a server name: exact match, else a wildcard one label up. */
  lookup(serverName: string): CachedCertificate | undefined {
    return this.#find(normalizeServerName(serverName))?.cert;
  }

  /** The SecureContext for a server name, built on first use. */
  context(serverName: string): SecureContext | undefined {
    const entry = this.#find(normalizeServerName(serverName));
    return entry ? this.#contextOf(entry) : undefined;
  }

  /** The certificate for clients that send no SNI (or a name nobody manages). */
  get defaultCertificate(): CachedCertificate | undefined {
    return this.#defaultId === undefined ? undefined : this.#byId.get(this.#defaultId)?.cert;
  }

  defaultContext(): SecureContext | undefined {
    const entry = this.#defaultId === undefined ? undefined : this.#byId.get(this.#defaultId);
    return entry ? this.#contextOf(entry) : undefined;
  }

  setDefault(id: string): void {
    this.#defaultId = id;
  }

  #tell(id: string, cert: CachedCertificate | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(id, cert);
      } catch {
        // An observer (metrics) never stops a certificate from going into service.
      }
    }
  }

  #find(name: string): Entry | undefined {
    const exact = this.#exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }

  #contextOf(entry: Entry): SecureContext {
    entry.context ??= createSecureContext({ cert: entry.cert.chainPem, key: entry.cert.keyPem });
    return entry.context;
  }

  // Removes only the names that still point at `old` (a newer entry may already own them).
  #unmap(old: Entry): void {
    for (const name of old.cert.names) {
      const map = name.startsWith('*.') ? this.#wildcard : this.#exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      const current = map.get(key);
      if (current === old) map.delete(key);
    }
  }
}
