import { BadServerResponseError } from '../errors/base.ts';
import type { ProblemDocument, ProblemIdentifier } from '../errors/problem.ts';

/** Default limit for a JSON body from the CA: ACME objects are a few kB; 1 MiB is generous. */
export const MAX_JSON_BYTES = 1_048_576;

/** Subproblems are read on the top-level problem only (RFC 8555 §6.7.1); deeper nesting is ignored. */
const MAX_DEPTH = 1;
/** One per identifier is expected; far more than any order holds. */
const MAX_SUBPROBLEMS = 1000;
/** A problem type is a URI: printable ASCII, no spaces (RFC 9457 §3.1.1). */
const TYPE_PATTERN = /^[\x21-\x7e]{1,512}$/;

/**
 * Reads a problem document (RFC 9457, RFC 8555 §6.7) from a parsed body of any shape. Returns
 * undefined when the body is not a JSON object. Only known members are copied, each only when it
 * is an own property of the right type, into a fresh object: a missing or malformed `type` becomes
 * `about:blank` (RFC 9457 §4.2.1), a non-string `detail` or out-of-range `status` is left out,
 * `subproblems` that is not an array is ignored, and identifiers that are not
 * `{ type: string, value: string }` are dropped (the subproblem itself is kept).
 */
export function parseProblemDocument(body: unknown): ProblemDocument | undefined {
  return parseAt(body, 0);
}

function parseAt(body: unknown, depth: number): ProblemDocument | undefined {
  if (!isRecord(body)) return undefined;
  const type = own(body, 'type');
  const problem: ProblemDocument = {
    type: typeof type === 'string' && TYPE_PATTERN.test(type) ? type : 'about:blank',
  };
  const detail = own(body, 'detail');
  if (typeof detail === 'string') problem.detail = detail;
  const status = own(body, 'status');
  if (typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599) {
    problem.status = status;
  }
  const instance = own(body, 'instance');
  if (typeof instance === 'string') problem.instance = instance;
  const identifier = parseIdentifier(own(body, 'identifier'));
  if (identifier) problem.identifier = identifier;
  const subproblems = own(body, 'subproblems');
  if (depth < MAX_DEPTH && Array.isArray(subproblems)) {
    const parsed = subproblems
      .slice(0, MAX_SUBPROBLEMS)
      .map((p) => parseAt(p, depth + 1))
      .filter((p): p is ProblemDocument => p !== undefined);
    if (parsed.length > 0) problem.subproblems = parsed;
  }
  return problem;
}

/** `{ type, value }` with two short strings free of control characters, or undefined. */
function parseIdentifier(value: unknown): ProblemIdentifier | undefined {
  if (!isRecord(value)) return undefined;
  const type = own(value, 'type');
  const text = own(value, 'value');
  const ok = (s: unknown): s is string => typeof s === 'string' && s.length <= 1024 && !/[\p{Cc}]/u.test(s);
  return ok(type) && ok(text) ? { type, value: text } : undefined;
}

/**
 * JSON.parse for bodies from the CA: throws BadServerResponseError for input over `maxBytes` UTF-8
 * bytes or invalid JSON (the parser's message stays in `cause`, not in the message, since it quotes
 * the body). A leading BOM is ignored (RFC 8259 §8.1).
 *
 * `__proto__` and `constructor` keys are removed at every level. JSON.parse itself only makes
 * `__proto__` an own data property, which is harmless to read and to spread (`{...x}` defines
 * properties); but `Object.assign(target, x)` or a deep merge would *set* it and swap the target's
 * prototype. ACME defines neither name, so dropping them costs nothing. The reviver runs only when
 * the text could spell one of them (plainly or with `\u` escapes), keeping the common path fast.
 */
export function safeJsonParse(text: string, maxBytes: number = MAX_JSON_BYTES): unknown {
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new BadServerResponseError(`the server's response is larger than ${maxBytes} bytes`);
  }
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return /__proto__|constructor|\\u/.test(source)
      ? JSON.parse(source, (key, value) => (key === '__proto__' || key === 'constructor' ? undefined : value))
      : JSON.parse(source);
  } catch (cause) {
    throw new BadServerResponseError(`the server's response is not valid JSON`, { cause });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
