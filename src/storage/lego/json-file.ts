import { CorruptFileError } from '../../errors/storage.ts';

// The JSON side of lego's files (account.json, certificates/<name>.json): written as Go prints it, read
// back with errors that name the file.

/**
 * JSON as Go's json.MarshalIndent(v, "", "\t") prints it: tab indent, no trailing newline, and
 * "<", ">", "&", U+2028, U+2029 escaped as \u003c... (encoding/json's HTML-safe default).
 */
export function formatLegoJson(value: unknown): string {
  return JSON.stringify(value, null, '\t').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Parses a JSON object from a stored file; CorruptFileError (naming `path`) for bad UTF-8, bad JSON or a non-object. */
export function parseJsonObject(bytes: Uint8Array | string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new CorruptFileError(path, 'not valid JSON', { cause });
  }
  if (!isObject(value)) throw new CorruptFileError(path, 'not a JSON object');
  return value;
}

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
