import { certificateKeys } from '../storage/key-layout.ts';
import type { Lease, Store } from '../storage/store.ts';
import {
  type CertificateRecord,
  decodeCertificateRecord,
  encodeCertificateRecord,
} from './certificate-record.ts';
import type { StoreWrite } from './store-writes.ts';

/** The files of one certificate in lego's layout, plus acmekit's pending key for an unfinished renewal. */
export function certificateFileKeys(mainDomain: string) {
  const keys = certificateKeys(mainDomain);
  return { ...keys, pendingKey: `${keys.key}.pending` };
}

export async function readRecord(store: Store, mainDomain: string): Promise<CertificateRecord | undefined> {
  const { json } = certificateFileKeys(mainDomain);
  const bytes = await store.get(json);
  return bytes ? decodeCertificateRecord(bytes, json) : undefined;
}

export async function writeRecord(
  store: Store,
  mainDomain: string,
  record: CertificateRecord,
  lease?: Lease,
): Promise<void> {
  const w = recordWrite(mainDomain, record);
  await store.put(w.key, w.value, { private: true, ...(lease ? { lease } : {}) });
}

/** The record as one write for putGroups(); private: it may hold DNS provider settings. */
export function recordWrite(mainDomain: string, record: CertificateRecord): StoreWrite {
  return { key: certificateFileKeys(mainDomain).json, value: encodeCertificateRecord(record), private: true };
}

/** Every stored certificate record (lego .json files directly under certificates/). */
export async function listRecords(store: Store): Promise<CertificateRecord[]> {
  const keys = (await store.list('certificates/')).filter(
    (k) => k.endsWith('.json') && !k.slice('certificates/'.length).includes('/'),
  );
  const records: CertificateRecord[] = [];
  for (const key of keys) {
    const bytes = await store.get(key);
    if (bytes) records.push(decodeCertificateRecord(bytes, key));
  }
  return records;
}
