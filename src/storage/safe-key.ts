import { InvalidInputError } from '../errors/base.ts';

/** Longest key accepted; well under PATH_MAX (4096) once joined to a storage folder. */
export const MAX_KEY_LENGTH = 1024;
/** NAME_MAX is 255 bytes; the file store's temp name adds "." + ".<12 hex>.tmp" and lock files ".guard". */
export const MAX_SEGMENT_BYTES = 200;
/** Top folder of the file store's lock files; refused as a key so no Store accepts what another hides. */
export const LOCK_FOLDER = '.locks';

// C0 and C1 controls and DEL: they break terminals, logs and some file systems.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// writeFileAtomic's temp files are ".<name>.<hex>.tmp"; list() skips them, so such keys are reserved.
const TEMP_NAME = /^\..*\.tmp$/;

/** True for a name the file store uses for its temp files (never listed, cleaned when old). */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'has an empty segment ("//", or a leading or trailing "/")';
  if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
    return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  if (isTempFileName(segment)) return 'names a temp file (".*.tmp" is reserved)';
  return undefined;
}

/** Why `key` is not a usable store key, or undefined when it is (the rules of store.ts). */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'is not a string';
  if (key === '') return 'is empty';
  if (key.length > MAX_KEY_LENGTH) return `is longer than ${MAX_KEY_LENGTH} characters`;
  if (key.startsWith('/')) return 'starts with "/" (keys are relative)';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.includes('\0')) return 'contains NUL';
  if (CONTROL.test(key)) return 'contains a control character';
  const segments = key.split('/');
  if (segments[0] === LOCK_FOLDER) return `starts with "${LOCK_FOLDER}/", reserved for locks`;
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

export function isSafeKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** Returns the key, or throws InvalidInputError naming it and what is wrong. */
export function assertSafeKey(key: string): string {
  const problem = keyProblem(key);
  if (problem) throw new InvalidInputError(`store key ${show(key)} ${problem}`, key);
  return key;
}

/** Lock names become one file name under .locks/, so they are keys without "/". */
export function assertSafeLockName(name: string): string {
  const problem = typeof name === 'string' && name.includes('/') ? 'contains "/"' : keyProblem(name);
  if (problem) throw new InvalidInputError(`lock name ${show(name)} ${problem}`, name);
  return name;
}

/** A list prefix: "" or any start of a valid key ("certificates/", "certificates/exa"). */
export function assertSafePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  // Complete a trailing "/" so the key rules apply to every segment, the partial last one included.
  const problem = keyProblem(typeof prefix === 'string' && prefix.endsWith('/') ? `${prefix}x` : prefix);
  if (problem) throw new InvalidInputError(`store prefix ${show(prefix)} ${problem}`, prefix);
  return prefix;
}

/** Refuses a lease ttl that would make the lease meaningless (0, negative, NaN, Infinity). */
export function assertTtl(ttlMs: number): number {
  if (!(typeof ttlMs === 'number' && ttlMs > 0 && Number.isFinite(ttlMs))) {
    throw new InvalidInputError(`lock ttlMs must be a positive number of milliseconds, got ${ttlMs}`, ttlMs);
  }
  return ttlMs;
}

/** The entries of putAll's groups in order, every key checked, a key given twice refused. */
export function distinctEntries<T extends { key: string }>(groups: readonly (readonly T[])[]): T[] {
  const entries = groups.flat();
  const seen = new Set<string>();
  for (const e of entries) {
    assertSafeKey(e.key);
    if (seen.has(e.key)) throw new InvalidInputError(`store key ${show(e.key)} is given twice`, e.key);
    seen.add(e.key);
  }
  return entries;
}
