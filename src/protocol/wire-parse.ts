import { BadServerResponseError } from '../errors/base.ts';
import { parseProblemDocument } from './problem-document.ts';
import { serverUrlProblem } from './url-policy.ts';
import type {
  AccountStatus,
  AccountWire,
  AuthorizationStatus,
  AuthorizationWire,
  ChallengeStatus,
  ChallengeWire,
  DirectoryWire,
  IdentifierWire,
  OrderStatus,
  OrderWire,
  RenewalInfoWire,
} from './wire-types.ts';

/** Checks a server object field by field; a missing or mistyped field is a BadServerResponseError naming it. */
class Reader {
  readonly #obj: Record<string, unknown>;
  readonly #what: string;
  readonly #url: string | undefined;
  constructor(value: unknown, what: string, url?: string) {
    this.#what = what;
    this.#url = url;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw this.fail('is not a JSON object');
    this.#obj = value as Record<string, unknown>;
  }
  fail(problem: string): BadServerResponseError {
    return new BadServerResponseError(`the CA's ${this.#what} ${problem}`, { url: this.#url });
  }
  #get(key: string): unknown {
    return Object.hasOwn(this.#obj, key) ? this.#obj[key] : undefined;
  }
  str(key: string): string {
    const v = this.#get(key);
    if (typeof v !== 'string') throw this.fail(`has no string "${key}"`);
    return v;
  }
  optStr(key: string): string | undefined {
    const v = this.#get(key);
    return typeof v === 'string' ? v : undefined;
  }
  optBool(key: string): boolean | undefined {
    const v = this.#get(key);
    return typeof v === 'boolean' ? v : undefined;
  }
  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.str(key);
    if (!(allowed as readonly string[]).includes(v))
      throw this.fail(`has unknown ${key} ${JSON.stringify(v)}`);
    return v as T;
  }
  strArray(key: string, optional = false): string[] | undefined {
    const v = this.#get(key);
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw this.fail(`has no list of strings "${key}"`);
    return v as string[];
  }
  raw(key: string): unknown {
    return this.#get(key);
  }
  /** The fields other than `known`, as they came (JSON values; a "__proto__" key stays a plain field). */
  others(known: readonly string[]): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.#obj).filter(([k]) => !known.includes(k)));
  }
}

function identifier(value: unknown, what: string, url?: string): IdentifierWire {
  const r = new Reader(value, what, url);
  return { type: r.str('type'), value: r.str('value') };
}

/** A URL the CA named, resolved against the document it came in; see serverUrlProblem for what is refused. */
function absolute(url: string, base: string, r: Reader, key: string): string {
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch {
    throw r.fail(`has an unusable URL in "${key}"`);
  }
  const problem = serverUrlProblem(resolved, base);
  if (problem) throw r.fail(`names "${key}" at ${resolved.href.slice(0, 200)}: refused, ${problem}`);
  return resolved.href;
}

export function parseDirectory(json: unknown, url: string): DirectoryWire {
  const r = new Reader(json, 'directory', url);
  const meta = r.raw('meta');
  const m =
    meta !== undefined && typeof meta === 'object' && meta !== null
      ? new Reader(meta, 'directory meta', url)
      : undefined;
  const profilesRaw = m?.raw('profiles');
  let profiles: Record<string, string> | undefined;
  if (profilesRaw && typeof profilesRaw === 'object' && !Array.isArray(profilesRaw)) {
    profiles = {};
    for (const [k, v] of Object.entries(profilesRaw)) if (typeof v === 'string') profiles[k] = v;
  }
  const opt = (k: string) => {
    const v = r.optStr(k);
    return v === undefined ? {} : { [k]: absolute(v, url, r, k) };
  };
  return {
    newNonce: absolute(r.str('newNonce'), url, r, 'newNonce'),
    newAccount: absolute(r.str('newAccount'), url, r, 'newAccount'),
    newOrder: absolute(r.str('newOrder'), url, r, 'newOrder'),
    ...opt('newAuthz'),
    ...opt('revokeCert'),
    ...opt('keyChange'),
    ...opt('renewalInfo'),
    meta: m
      ? {
          termsOfService: m.optStr('termsOfService'),
          website: m.optStr('website'),
          caaIdentities: m.strArray('caaIdentities', true),
          externalAccountRequired: m.optBool('externalAccountRequired'),
          profiles,
        }
      : {},
  };
}

const ACCOUNT_STATUSES: readonly AccountStatus[] = ['valid', 'deactivated', 'revoked'];
const ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'ready', 'processing', 'valid', 'invalid'];
const AUTHZ_STATUSES: readonly AuthorizationStatus[] = [
  'pending',
  'valid',
  'invalid',
  'deactivated',
  'expired',
  'revoked',
];
const CHALLENGE_STATUSES: readonly ChallengeStatus[] = ['pending', 'processing', 'valid', 'invalid'];

const ACCOUNT_FIELDS = ['status', 'contact', 'termsOfServiceAgreed', 'orders'];

/** The RFC's fields checked; any other field the CA sent (createdAt, initialIp, key…) is kept as sent. */
export function parseAccount(json: unknown, url?: string): AccountWire {
  const r = new Reader(json, 'account', url);
  return {
    ...r.others(ACCOUNT_FIELDS),
    status: r.oneOf('status', ACCOUNT_STATUSES),
    contact: r.strArray('contact', true),
    termsOfServiceAgreed: r.optBool('termsOfServiceAgreed'),
    orders: r.optStr('orders'),
  };
}

/**
 * Pebble answers "deactivated" (not an RFC 8555 order status) for an order one of whose authorizations
 * was deactivated; like Boulder's "invalid" for the same case, it can no longer lead to a certificate.
 */
function orderStatus(r: Reader): OrderStatus {
  return r.raw('status') === 'deactivated' ? 'invalid' : r.oneOf('status', ORDER_STATUSES);
}

export function parseOrder(json: unknown, url: string): OrderWire {
  const r = new Reader(json, 'order', url);
  const ids = r.raw('identifiers');
  if (!Array.isArray(ids) || ids.length === 0) throw r.fail('has no identifiers');
  const authorizations = r.strArray('authorizations') ?? [];
  const certificate = r.optStr('certificate');
  return {
    status: orderStatus(r),
    expires: r.optStr('expires'),
    identifiers: ids.map((i) => identifier(i, 'order identifier', url)),
    notBefore: r.optStr('notBefore'),
    notAfter: r.optStr('notAfter'),
    error: parseProblemDocument(r.raw('error')),
    authorizations: authorizations.map((a) => absolute(a, url, r, 'authorizations')),
    finalize: absolute(r.str('finalize'), url, r, 'finalize'),
    certificate: certificate === undefined ? undefined : absolute(certificate, url, r, 'certificate'),
    profile: r.optStr('profile'),
    replaces: r.optStr('replaces'),
  };
}

export function parseChallenge(json: unknown, base: string): ChallengeWire {
  const r = new Reader(json, 'challenge', base);
  return {
    type: r.str('type'),
    url: absolute(r.str('url'), base, r, 'url'),
    status: r.oneOf('status', CHALLENGE_STATUSES),
    token: r.optStr('token'),
    validated: r.optStr('validated'),
    error: parseProblemDocument(r.raw('error')),
  };
}

export function parseAuthorization(json: unknown, url: string): AuthorizationWire {
  const r = new Reader(json, 'authorization', url);
  const challenges = r.raw('challenges');
  if (!Array.isArray(challenges)) throw r.fail('has no list of challenges');
  return {
    identifier: identifier(r.raw('identifier'), 'authorization identifier', url),
    status: r.oneOf('status', AUTHZ_STATUSES),
    expires: r.optStr('expires'),
    challenges: challenges.map((c) => parseChallenge(c, url)),
    wildcard: r.optBool('wildcard'),
  };
}

export function parseRenewalInfo(json: unknown, url: string): RenewalInfoWire {
  const r = new Reader(json, 'renewal info', url);
  const w = new Reader(r.raw('suggestedWindow'), 'renewal info suggestedWindow', url);
  return {
    suggestedWindow: { start: w.str('start'), end: w.str('end') },
    explanationURL: r.optStr('explanationURL'),
  };
}
