import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { relativeName, type TxtRecord } from '../../src/dns/provider.ts';
import { DnsProviderError } from '../../src/errors/index.ts';
import type { Logger } from '../../src/internal/logger.ts';

// What the integration tests of the REST-layer DNS providers share: a logger that keeps its lines, TXT
// records with fresh values, and a check that an error is a DnsProviderError without any secret in it.

/** A random secret with a readable label, to be found (or not) in errors and logs. */
export function canary(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

export interface KeptLogs {
  readonly logger: Logger;
  text(): string;
}

export function keptLogs(): KeptLogs {
  const lines: string[] = [];
  const keep = (obj: unknown, msg?: string) => {
    lines.push(JSON.stringify({ obj, msg }));
  };
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, text: () => lines.join('\n') };
}

/** Records under one zone: `record('a')` is _acme-challenge.a.<zone>, `record(null)` the apex. */
export function recordMaker(defaultZone: string): (host?: string | null, zone?: string) => TxtRecord {
  let n = 0;
  return (host = `t${++n}`, zone = defaultZone) => {
    const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
    return {
      fqdn,
      zone,
      name: relativeName(fqdn, zone),
      value: randomBytes(32).toString('base64url'),
      ttl: 60,
    };
  };
}

/** A second value at the same name as `r`. */
export function sameName(r: TxtRecord): TxtRecord {
  return { ...r, value: randomBytes(32).toString('base64url') };
}

export const live = (): AbortSignal => new AbortController().signal;

/** A clock whose sleeps return at once: retries and polls without real waiting. */
export const instantClock = { now: () => Date.now(), sleep: async () => {} };

/** Awaits a rejection that must be a DnsProviderError in which no canary appears. */
export async function failure(p: Promise<unknown>, canaries: readonly string[]): Promise<DnsProviderError> {
  const err = await p.then(
    () => assert.fail('expected a DnsProviderError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DnsProviderError, `got ${String(err)}`);
  const text = `${String(err)}\n${JSON.stringify(err)}\n${(err as Error).stack}`;
  for (const c of canaries) assert.ok(!text.includes(c), 'a secret appears in the error');
  return err;
}
