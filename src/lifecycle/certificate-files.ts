import { InvalidInputError } from '../errors/base.ts';
import {
  type CertificateRecord,
  decodeCertificateRecord,
  encodeCertificateRecord,
} from '../storage/lego/certificate-record.ts';
import { type CertificateKeys, certificateKeys, certificateKeysNamed } from '../storage/lego/layout.ts';
import type { Lease, Store, StoreWrite } from '../storage/store.ts';

/**
 * The files of one certificate in lego's layout, plus acmekit's pending key for an unfinished renewal:
 * one object that says which certificate it is (its main domain, and the file base name when the user
 * chose one) and where each of its files is, built once and passed around instead of the pair.
 * The files are named after the main domain (sanitized as lego does), or, with `fileName` (lego v4's
 * --filename, v5's --cert.name), after that name verbatim: certificates/<fileName>.crt, .key, .json…
 */
export interface CertificateFiles extends CertificateKeys {
  /** The certificate's main (first) name. */
  readonly mainDomain: string;
  /** The base name the user chose, when it is not the main domain's. */
  readonly fileName: string | undefined;
  /** The new key of an unfinished renewal, kept until its certificate is saved. */
  readonly pendingKey: string;
  /** The name of the lock that keeps two processes from ordering this certificate at once. */
  readonly lockName: string;
}

export function certificateFiles(mainDomain: string, fileName?: string): CertificateFiles {
  const keys = fileName === undefined ? certificateKeys(mainDomain) : namedCertificateKeys(fileName);
  return {
    ...keys,
    mainDomain,
    fileName,
    pendingKey: `${keys.key}.pending`,
    lockName: `certificate-${keys.json.replaceAll('/', '_')}`,
  };
}

/** The keys for a file base name given by the user: taken as it is, as lego does, but never a path. */
function namedCertificateKeys(fileName: string): CertificateKeys {
  if (fileName === '' || fileName === '.' || fileName === '..' || /[/\\\x00-\x1f]/.test(fileName)) {
    throw new InvalidInputError(
      `${JSON.stringify(fileName)} cannot name certificate files: give a plain file name without / or \\`,
      fileName,
    );
  }
  return certificateKeysNamed(fileName);
}

export async function readRecord(
  store: Store,
  files: CertificateFiles,
): Promise<CertificateRecord | undefined> {
  const bytes = await store.get(files.json);
  return bytes ? decodeCertificateRecord(bytes, files.json) : undefined;
}

export async function writeRecord(
  store: Store,
  files: CertificateFiles,
  record: CertificateRecord,
  lease?: Lease,
): Promise<void> {
  const w = recordWrite(files, record);
  await store.put(w.key, w.value, { private: true, ...(lease ? { lease } : {}) });
}

/** The record as one write for putGroups(); private: it may hold DNS provider settings. */
export function recordWrite(files: CertificateFiles, record: CertificateRecord): StoreWrite {
  return { key: files.json, value: encodeCertificateRecord(record), private: true };
}

/** A stored record and the base name of its files (certificates/<fileName>.json). */
export interface RecordEntry {
  record: CertificateRecord;
  fileName: string;
}

/** The keys of the certificate records: lego .json files directly under certificates/. */
async function recordKeys(store: Store): Promise<string[]> {
  return (await store.list('certificates/')).filter(
    (k) => k.endsWith('.json') && !k.slice('certificates/'.length).includes('/'),
  );
}

const recordFileName = (key: string): string => key.slice('certificates/'.length, -'.json'.length);

/** Every stored certificate record (lego .json files directly under certificates/), with its file name. */
export async function listRecordEntries(store: Store): Promise<RecordEntry[]> {
  const keys = await recordKeys(store);
  const entries: RecordEntry[] = [];
  for (const key of keys) {
    const bytes = await store.get(key);
    if (bytes)
      entries.push({
        record: decodeCertificateRecord(bytes, key),
        fileName: recordFileName(key),
      });
  }
  return entries;
}

/** Every stored certificate record (lego .json files directly under certificates/). */
export async function listRecords(store: Store): Promise<CertificateRecord[]> {
  return (await listRecordEntries(store)).map((e) => e.record);
}

/**
 * Where the certificate of `mainDomain` lives: under `fileName` when given; else under the domain's
 * own name when a record is there; else under the name lego gives the domain as the user typed it
 * (`typed`: lego's `run` keeps its case, so `-d Example.com` is certificates/Example.com.crt) when a
 * record is there; else under the one other name whose record has this main domain in any case
 * (obtained with --filename, or by lego v5 with --cert.name), so a renewal without the name finds it
 * instead of ordering a second certificate. Several such names are ambiguous: InvalidInputError.
 * A certificate found nowhere goes under the domain's own name (lower case), where lego's `renew` puts
 * a certificate whose names are in lower case.
 */
export async function locateCertificate(
  store: Store,
  mainDomain: string,
  fileName?: string,
  typed?: string,
): Promise<{ files: CertificateFiles; record: CertificateRecord | undefined }> {
  if (fileName !== undefined) {
    const files = certificateFiles(mainDomain, fileName);
    return { files, record: await readRecord(store, files) };
  }
  const ownFiles = certificateFiles(mainDomain);
  const own = await readRecord(store, ownFiles);
  if (own) return { files: ownFiles, record: own };
  const typedName = typed === undefined ? ownFiles.name : certificateKeys(typed).name;
  if (typedName !== ownFiles.name) {
    const typedFiles = certificateFiles(mainDomain, typedName);
    const asTyped = await readRecord(store, typedFiles);
    if (asTyped) return { files: typedFiles, record: asTyped };
  }
  const others = await recordEntriesOf(store, mainDomain);
  if (others.length > 1) {
    throw new InvalidInputError(
      `${mainDomain} has certificates under several file names (${others
        .map((e) => e.fileName)
        .sort()
        .join(', ')}); choose one with --filename`,
      mainDomain,
    );
  }
  const found = others[0];
  return found
    ? { files: certificateFiles(mainDomain, found.fileName), record: found.record }
    : { files: ownFiles, record: undefined };
}

/** Records read at once while looking for one: bounded, so a large folder cannot exhaust file handles. */
const READ_AHEAD = 16;

/**
 * The records whose main domain is `mainDomain`, whatever their file names and letter case (lego keeps
 * the domain as typed: `-d Example.com` records "Example.com"). Read a few at a time and decoded only
 * when the text names the domain: a new name in a folder of many certificates costs reads, not a parse
 * of each, and an unrelated unreadable record does not stop it.
 */
async function recordEntriesOf(store: Store, mainDomain: string): Promise<RecordEntry[]> {
  const keys = await recordKeys(store);
  const domain = mainDomain.toLowerCase();
  const needle = JSON.stringify(domain);
  const found: RecordEntry[] = [];
  for (let i = 0; i < keys.length; i += READ_AHEAD) {
    const batch = keys.slice(i, i + READ_AHEAD);
    const texts = await Promise.all(batch.map((key) => store.get(key)));
    texts.forEach((bytes, j) => {
      if (
        !bytes ||
        !Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
          .toString()
          .toLowerCase()
          .includes(needle)
      )
        return;
      const key = batch[j]!;
      const record = decodeCertificateRecord(bytes, key);
      if (record.domain.toLowerCase() === domain) found.push({ record, fileName: recordFileName(key) });
    });
  }
  return found;
}
