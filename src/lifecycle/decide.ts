import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import type { AcmeClient } from '../acme/client.ts';
import type { RenewalInfo } from '../acme/renewal-info.ts';
import { sanNames } from '../crypto/san-names.ts';
import type { Clock } from '../internal/clock.ts';
import type { CertificateRecord } from '../storage/lego/certificate-record.ts';
import type { Store } from '../storage/store.ts';
import type { CertificateFiles } from './certificate-files.ts';
import { type RenewalDecision, renewalDecision } from './renewal-decision.ts';

/** The facts of a stored certificate, read from its leaf once and carried from there. */
export interface StoredCertificate {
  /** The .crt as stored: leaf first. */
  pem: string;
  /** SAN names: DNS names (lower case) and IP addresses. */
  names: string[];
  /** Hex, as Node prints it (compare with sameSerial). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** The issuer's common name. */
  issuer: string | undefined;
  /** The certificate's public key, when it was read from the store (not kept by the server's cache). */
  publicKey?: KeyObject | undefined;
}

export interface StoredCertificateState extends StoredCertificate {
  ari: RenewalInfo | undefined;
  decision: RenewalDecision;
}

/** Reads and parses the stored certificate of `files`; undefined when there is none. */
export async function readStoredCertificate(
  store: Store,
  files: CertificateFiles,
): Promise<StoredCertificate | undefined> {
  const bytes = await store.get(files.crt);
  if (!bytes) return undefined;
  const pem = Buffer.from(bytes).toString('utf8');
  const leaf = new X509Certificate(pem);
  return {
    pem,
    names: sanNames(leaf),
    serial: leaf.serialNumber,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    issuer: /CN=([^\n]+)/.exec(leaf.issuer)?.[1],
    publicKey: leaf.publicKey,
  };
}

/**
 * Reads the stored certificate and decides when to renew it: ARI when the CA offers it (and it is
 * not disabled), else the lifetime rule; `renewDays` overrides. The certificate file is the truth
 * for its dates, not the record.
 */
export async function decideRenewal(opts: {
  store: Store;
  files: CertificateFiles;
  record: CertificateRecord;
  client?: AcmeClient | undefined;
  renewDays?: number | undefined;
  clock: Clock;
  /** Default: draws fixed by the certificate's serial (and ARI window), so every run and `list` agree. */
  random?: () => number;
  signal?: AbortSignal;
}): Promise<StoredCertificateState | undefined> {
  const certificate = await readStoredCertificate(opts.store, opts.files);
  if (!certificate) return undefined;
  const { ari, decision } = await decideRenewalOf({ ...opts, certificate });
  return { ...certificate, ari, decision };
}

/**
 * The same decision for a certificate the caller has already read and parsed (the server's cache),
 * so it is neither read nor parsed again. `serial` is the leaf's serial in hex, either case.
 */
export async function decideRenewalOf(opts: {
  certificate: { pem: string; notBefore: Date; notAfter: Date; serial: string };
  record: CertificateRecord;
  client?: AcmeClient | undefined;
  renewDays?: number | undefined;
  clock: Clock;
  random?: () => number;
  signal?: AbortSignal;
}): Promise<{ ari: RenewalInfo | undefined; decision: RenewalDecision }> {
  const { pem, notBefore, notAfter, serial } = opts.certificate;
  let ari: RenewalInfo | undefined;
  if (opts.client) {
    try {
      ari = await opts.client.renewalInfo(pem, opts.signal);
    } catch {
      ari = undefined; // RFC 9773 §4.3.3: fall back to the lifetime rule when ARI cannot be read
    }
  }
  const last = opts.record.acmekit?.lastRenewalAttempt;
  const decision = renewalDecision({
    now: new Date(opts.clock.now()),
    notBefore,
    notAfter,
    ...(ari
      ? {
          ari: {
            windowStart: ari.windowStart,
            windowEnd: ari.windowEnd,
            ...(ari.explanationUrl ? { explanationUrl: ari.explanationUrl } : {}),
          },
        }
      : {}),
    ...(opts.renewDays !== undefined ? { renewDays: opts.renewDays } : {}),
    // Node writes serials in upper-case hex: the seed stays the one every earlier run used.
    random: opts.random ?? stableRandom(`${serial.toUpperCase()} ${ari?.windowStart.toISOString() ?? ''}`),
    ...(last ? { lastFailure: { at: new Date(last.at), failures: last.failures } } : {}),
  });
  return { ari, decision };
}

/**
 * Uniform draws in [0, 1) fixed by a seed: each certificate gets its own renewal time (spreading a fleet's
 * renewals), and the time stays put from one run to the next instead of being drawn again each time.
 */
export function stableRandom(seed: string): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}#${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}
