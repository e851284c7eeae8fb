import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { EnvSource } from '../../src/dns/env.ts';
import { type DnsProvider, relativeName, type TxtRecord } from '../../src/dns/provider.ts';
import { createDnsProvider } from '../../src/dns/registry.ts';
import type { DnsProviderError } from '../../src/errors/index.ts';
import type { Logger } from '../../src/internal/logger.ts';
import { failure, instantClock } from './dns-rest-harness.ts';
import { createTestCa, type TestCa } from './test-ca.ts';

/**
 * What the integration test of one API provider needs besides its fake: a test CA, a logger that keeps
 * every line, a provider built from env like the CLI builds it (with retries that do not really wait),
 * records, and a check that an error is a DnsProviderError that names no secret.
 */
export interface RestDnsHarness {
  readonly ca: TestCa;
  readonly logLines: string[];
  logs(): string;
  provider(env: EnvSource): Promise<DnsProvider>;
  /** A record at `_acme-challenge.<host>.<zone>` (the zone apex when host is null), random value, TTL 60. */
  record(host?: string | null, zone?: string): TxtRecord;
  failure(p: Promise<unknown>): Promise<DnsProviderError>;
  close(): Promise<void>;
}

// The primitives are dns-rest-harness.ts's; this file bundles them with a test CA and a provider factory.
export { canary as secret, live } from './dns-rest-harness.ts';

export async function restDnsHarness(o: {
  readonly code: string;
  readonly zone: string;
  /** Variables every provider of the test gets (the API URL of the fake). */
  readonly baseEnv: () => EnvSource;
  readonly canaries: readonly string[];
}): Promise<RestDnsHarness> {
  const ca = await createTestCa();
  const logLines: string[] = [];
  const keep = (obj: unknown, msg?: string) => logLines.push(JSON.stringify({ obj, msg }));
  const logger: Logger = { debug: keep, info: keep, warn: keep, error: keep };
  let n = 0;
  return {
    ca,
    logLines,
    logs: () => logLines.join('\n'),
    async provider(env) {
      const loaded = await createDnsProvider(o.code, {
        env: { ...o.baseEnv(), ...env },
        caBundle: ca.rootPem,
        logger,
        clock: instantClock,
      });
      return loaded.provider;
    },
    record(host = `t${++n}${randomBytes(2).toString('hex')}`, zone = o.zone) {
      const fqdn = host === null ? zone : `_acme-challenge.${host}.${zone}`;
      return {
        fqdn,
        zone,
        name: relativeName(fqdn, zone),
        value: randomBytes(32).toString('base64url'),
        ttl: 60,
      };
    },
    failure: (p) => failure(p, o.canaries),
    close: () => rm(ca.dir, { recursive: true, force: true }),
  };
}
