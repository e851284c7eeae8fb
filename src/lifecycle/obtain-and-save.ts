import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Account } from '../acme/account.ts';
import { sameSerial } from '../crypto/certificate.ts';
import type { Identifier } from '../crypto/identifier.ts';
import {
  type CertificateKeyType,
  exportPrivateKeyPem,
  generateKeyType,
  importPrivateKey,
} from '../crypto/keys.ts';
import type { Solver } from '../solvers/solver.ts';
import type { CertificateRecord, ChallengeRecord } from '../storage/lego/certificate-record.ts';
import { encodeAccountKeyPem } from '../storage/lego/key-pem.ts';
import type { Store, StoreWrite } from '../storage/store.ts';
import { type CertificateFiles, readRecord, recordWrite, writeRecord } from './certificate-files.ts';
import { type ObtainResult, obtainCertificate } from './obtain.ts';
import type { PfxFormat } from './pfx.ts';
import { putGroups } from './store-writes.ts';

export interface ObtainJob {
  /** Normalised once by the caller (normalizeIdentifiers); the first one names the files. */
  identifiers: readonly Identifier[];
  solvers: Solver[];
  challenge: ChallengeRecord;
  keyType: CertificateKeyType;
  /** A user CSR (PEM or DER); no key is generated or stored then (unless `privateKey` is its key). */
  csr?: string | Uint8Array;
  /** The certificate key to use (lego's --private-key); written to <name>.key like a generated one. */
  privateKey?: KeyObject;
  reuseKey?: boolean;
  /** Where the certificate's files are (main domain, or lego's --filename / --cert.name). */
  files: CertificateFiles;
  /** RFC 3339 times sent as the order's notBefore / notAfter, and remembered in the record. */
  notBefore?: string;
  notAfter?: string;
  /** false: no common name in the CSR (lego's --disable-cn), remembered in the record. */
  commonName?: boolean;
  /** Deactivate the order's authorizations after success too (lego's --always-deactivate-authorizations). */
  alwaysDeactivateAuthorizations?: boolean;
  profile?: string;
  preferredChain?: string;
  mustStaple?: boolean;
  /** ARI id of the certificate being replaced. */
  replaces?: string;
  /** lego's --no-bundle: .crt holds the leaf only. */
  noBundle?: boolean;
  /** Also write <name>.pem (key + chain), as lego's --pem. */
  pem?: boolean;
  /** Also write <name>.pfx (PKCS#12) with this password, as lego's --pfx. */
  pfxPassword?: string;
  /** Encryption of the .pfx (lego's --pfx.format); default openssl's. */
  pfxFormat?: PfxFormat;
  server: string;
  email?: string;
  signal?: AbortSignal;
  /**
   * The serial of the stored certificate when the caller decided to renew it: when another run renewed
   * it meanwhile (the serial changed while we waited for the lock), nothing is ordered.
   */
  expectedSerial?: string;
  /** How long to wait for another run's lock before LockTimeoutError (default 15 min). */
  lockWaitMs?: number;
  /** How long the certificate lock is held without renewal before another run may take it. */
  lockTtlMs?: number;
}

export interface SavedCertificate {
  /** True when another run renewed the certificate while this one waited for the lock; nothing was ordered. */
  alreadyRenewed?: false;
  result: ObtainResult;
  record: CertificateRecord;
  files: { certificate: string; key?: string; issuer: string; record: string; pem?: string; pfx?: string };
}

const DEFAULT_LOCK_TTL_MS = 10 * 60_000;

/**
 * Obtains a certificate and stores it in lego's layout without ever leaving a mix on disk:
 * the new key is saved as <name>.key.pending and the order URL in the record before the first
 * challenge; the old files stay untouched until the new chain is downloaded and verified; the
 * pending marks go last. A run that died anywhere is continued by the next one (same key, same order
 * when the CA still has it). One lock per certificate keeps two runs from ordering it twice.
 */
export interface AlreadyRenewed {
  alreadyRenewed: true;
  record: CertificateRecord;
}

export async function obtainAndSave(
  store: Store,
  account: Account,
  job: ObtainJob,
): Promise<SavedCertificate | AlreadyRenewed> {
  const { files } = job;
  const main = files.mainDomain;
  const ttlMs = job.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  // A new key is made while the lock and the record are read (an RSA key takes up to seconds); it is
  // dropped unused when an earlier run's pending key is found.
  const newKey = job.csr || job.reuseKey || job.privateKey ? undefined : generateKeyType(job.keyType);
  newKey?.catch(() => {});
  const lease = await store.lock(files.lockName, {
    ttlMs,
    // Another run working on this certificate finishes within minutes; past that, say who holds it.
    waitMs: job.lockWaitMs ?? 15 * 60_000,
    ...(job.signal ? { signal: job.signal } : {}),
  });
  const renewTimer = setInterval(() => lease.renew().catch(() => {}), Math.max(1000, ttlMs / 3));
  try {
    const previous = await readRecord(store, files);
    let pending = previous?.acmekit?.pending;
    const serialNow = previous?.acmekit?.serial;
    if (
      job.expectedSerial !== undefined &&
      serialNow !== undefined &&
      !sameSerial(serialNow, job.expectedSerial) &&
      !pending
    ) {
      return { alreadyRenewed: true, record: previous! };
    }
    let key: KeyObject | undefined;
    // The new key is on disk as <name>.key.pending before any challenge. For a new order it is written
    // while the order is created (awaited in onOrderCreated, before the order URL is saved); when an
    // earlier order may be resumed (no onOrderCreated then), before anything else.
    let keyWrite: Promise<void> = Promise.resolve();
    if (!job.csr) {
      const [pendingFound, currentBytes] = await Promise.all([
        pending ? store.get(files.pendingKey) : undefined,
        job.reuseKey && !job.privateKey ? store.get(files.key) : undefined,
      ]);
      let pendingBytes = pendingFound;
      if (
        job.privateKey &&
        pendingBytes &&
        !sameKey(importPrivateKey(Buffer.from(pendingBytes).toString('utf8')), job.privateKey)
      ) {
        // An earlier run's order would be finished with its own key; the key given now wins: start afresh.
        pendingBytes = undefined;
        pending = undefined;
      }
      const reuse = pendingBytes ?? currentBytes;
      key = reuse
        ? importPrivateKey(Buffer.from(reuse).toString('utf8'))
        : (job.privateKey ?? (await (newKey ?? generateKeyType(job.keyType))));
      if (!pendingBytes) {
        keyWrite = store.put(files.pendingKey, exportPrivateKeyPem(key), { private: true, lease });
        keyWrite.catch(() => {}); // awaited below; an early failure must not go unhandled meanwhile
        if (pending) await keyWrite;
      }
    }
    let record: CertificateRecord = previous ?? { domain: main, certUrl: '', certStableUrl: '' };
    const result = await obtainCertificate(account, {
      names: job.identifiers,
      solvers: job.solvers,
      ...(key ? { key } : {}),
      ...(job.csr !== undefined ? { csr: job.csr } : {}),
      ...(job.profile ? { profile: job.profile } : {}),
      ...(job.preferredChain ? { preferredChain: job.preferredChain } : {}),
      ...(job.mustStaple ? { mustStaple: true } : {}),
      ...(job.commonName === false ? { commonName: false } : {}),
      ...(job.notBefore ? { notBefore: new Date(job.notBefore) } : {}),
      ...(job.notAfter ? { notAfter: new Date(job.notAfter) } : {}),
      ...(job.replaces && !pending ? { replaces: job.replaces } : {}),
      ...(pending?.orderUrl ? { resumeOrderUrl: pending.orderUrl } : {}),
      ...(job.signal ? { signal: job.signal } : {}),
      onOrderCreated: async (orderUrl) => {
        await keyWrite;
        record = withAcmekit(record, job, { pending: { orderUrl, since: new Date().toISOString() } });
        await writeRecord(store, files, record, lease);
      },
    });
    await keyWrite;
    // lego writes EC PRIVATE KEY / RSA PRIVATE KEY and its --pfx reads only those.
    // With a CSR there is no key of ours, unless --private-key gave the CSR's own key.
    const keyPem = key
      ? encodeAccountKeyPem(key)
      : job.privateKey
        ? encodeAccountKeyPem(job.privateKey)
        : undefined;
    const certificateText = job.noBundle ? result.certificate : result.chain;
    const certificateFiles: StoreWrite[] = [
      { key: files.issuer, value: result.issuer },
      { key: files.crt, value: certificateText },
    ];
    if (keyPem) certificateFiles.push({ key: files.key, value: keyPem, private: true });
    if (job.pem && keyPem)
      certificateFiles.push({ key: files.pem, value: keyPem + result.chain, private: true });
    if (job.pfxPassword !== undefined && keyPem) {
      const { buildPfx } = await import('./pfx.ts');
      const pfx = await buildPfx({
        keyPem,
        certPem: result.certificate,
        issuerPem: result.issuer,
        password: job.pfxPassword,
        ...(job.pfxFormat ? { format: job.pfxFormat } : {}),
      });
      certificateFiles.push({ key: files.pfx, value: pfx, private: true });
    }
    record = withAcmekit(
      { ...record, domain: main, certUrl: result.certificateUrl, certStableUrl: result.certificateUrl },
      job,
      {
        pending: undefined,
        notBefore: result.notBefore.toISOString(),
        notAfter: result.notAfter.toISOString(),
        serial: result.serial,
        lastRenewalAttempt: undefined,
      },
    );
    // The files first, then the record without its pending mark: a crash in between leaves the mark,
    // and the next run finishes this order with the pending key instead of trusting half-written files.
    await putGroups(store, [certificateFiles, [recordWrite(files, record)]], lease);
    if (key) await store.delete(files.pendingKey);
    if (job.alwaysDeactivateAuthorizations)
      await deactivateAuthorizations(account, result.orderUrl, job.signal);
    return {
      result,
      record,
      files: {
        certificate: files.crt,
        ...(keyPem ? { key: files.key } : {}),
        issuer: files.issuer,
        record: files.json,
        ...(job.pem && keyPem ? { pem: files.pem } : {}),
        ...(job.pfxPassword !== undefined && keyPem ? { pfx: files.pfx } : {}),
      },
    };
  } finally {
    clearInterval(renewTimer);
    await lease.release().catch(() => {});
  }
}

/** Records a failed attempt so the next run backs off (RELIABILITY G4). */
export async function recordFailure(store: Store, files: CertificateFiles, error: unknown): Promise<void> {
  const record = await readRecord(store, files).catch(() => undefined);
  if (!record?.acmekit) return;
  const failures = (record.acmekit.lastRenewalAttempt?.failures ?? 0) + 1;
  const message = error instanceof Error ? error.message : String(error);
  await writeRecord(store, files, {
    ...record,
    acmekit: {
      ...record.acmekit,
      lastRenewalAttempt: { at: new Date().toISOString(), error: message, failures },
    },
  });
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (k: KeyObject) => createPublicKey(k).export({ type: 'spki', format: 'der' });
  return spki(a).equals(spki(b));
}

/**
 * lego's --always-deactivate-authorizations: after success, the order's authorizations are deactivated
 * too (RFC 8555 §7.5.2), so the CA validates the names again for the next order. The certificate is
 * already saved: a failure here is a warning, not a failed issuance.
 */
async function deactivateAuthorizations(
  account: Account,
  orderUrl: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const logger = account.client.logger;
  try {
    const authorizations = await (await account.order(orderUrl, signal)).authorizations(signal);
    await Promise.all(
      authorizations.map(async (a) => {
        if (a.status !== 'valid' && a.status !== 'pending') return;
        try {
          await a.deactivate(signal);
          logger.info({ authorization: a.url }, `authorization for ${a.identifier.value} deactivated`);
        } catch (err) {
          logger.warn(
            { authorization: a.url, error: String(err) },
            `could not deactivate the authorization for ${a.identifier.value}`,
          );
        }
      }),
    );
  } catch (err) {
    logger.warn({ order: orderUrl, error: String(err) }, 'could not deactivate the authorizations');
  }
}

function withAcmekit(
  record: CertificateRecord,
  job: ObtainJob,
  changes: Partial<NonNullable<CertificateRecord['acmekit']>>,
): CertificateRecord {
  const base = record.acmekit;
  const merged = {
    ...base,
    version: 1 as const,
    identifiers: job.identifiers.map((i) => i.value),
    server: job.server,
    ...(job.email ? { email: job.email } : {}),
    keyType: job.keyType,
    challenge: job.challenge,
    ...(job.profile ? { profile: job.profile } : {}),
    ...(job.preferredChain ? { preferredChain: job.preferredChain } : {}),
    ...(job.mustStaple ? { mustStaple: true } : {}),
    ...(job.csr !== undefined ? { csr: true } : {}),
    // Set or cleared on every order: the caller passes the remembered value when none was given.
    noCommonName: job.commonName === false ? true : undefined,
    orderNotBefore: job.notBefore,
    orderNotAfter: job.notAfter,
    ...changes,
  };
  for (const k of Object.keys(merged) as (keyof typeof merged)[])
    if (merged[k] === undefined) delete merged[k];
  return { ...record, acmekit: merged as NonNullable<CertificateRecord['acmekit']> };
}
