import pkg from '../../package.json' with { type: 'json' };

export const ACMEKIT_VERSION: string = pkg.version;

/** RFC 8555 §6.1: clients MUST send a User-Agent naming the client and its version. */
export function defaultUserAgent(extra?: string): string {
  const base = `acmekit/${ACMEKIT_VERSION} node/${process.versions.node}`;
  return extra ? `${extra} ${base}` : base;
}
