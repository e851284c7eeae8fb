import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Logger } from '../../internal/logger.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition, ProviderDeps } from '../definition.ts';
import { type DnsProvider, type TxtRecord, unFqdn } from '../provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { DynamicTxtClient } from './dynamic-txt.ts';

// Duck DNS, TXT record API: https://www.duckdns.org/spec.jsp
// One GET to /update with the subname (`domains`), the account token and `txt` (or `clear=true`); the
// answer is the text OK or KO, with HTTP 200 either way. A subdomain has ONE TXT value, served for the
// subdomain and every name under it, so challenges are solved one after another (sequentialIntervalMs).

const CODE = 'duckdns';
const DEFAULT_API_URL = 'https://www.duckdns.org';
const SUFFIX = 'duckdns.org';

interface DuckDnsConfig {
  readonly token: Secret;
  readonly apiUrl: string;
  readonly sequenceIntervalMs: number;
}

export const definition = {
  code: CODE,
  title: 'Duck DNS',
  description:
    'Sets the one TXT value of a <name>.duckdns.org subdomain through the Duck DNS update URL, with the ' +
    'account token; cleanup clears it. Duck DNS keeps one TXT value per subdomain (shared by every name ' +
    'under it), so the challenges are solved one after another, DUCKDNS_SEQUENCE_INTERVAL apart. For a ' +
    'name of your own, point _acme-challenge.<name> at the subdomain with a CNAME. The TTL is Duck DNS’s own.',
  docsUrl: 'https://www.duckdns.org/spec.jsp',
  permissions:
    'DUCKDNS_TOKEN: the account token shown on the Duck DNS page; the subdomain must be in that account.',
  example: [
    'DUCKDNS_TOKEN=a1b2c3d4-0000-4000-8000-123456789abc \\',
    "  acmekit --dns duckdns --domains my.duckdns.org --domains '*.my.duckdns.org' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DUCKDNS',
  // lego's duckdns defaults; Duck DNS serves its records with a TTL of 60 s.
  defaults: { ttl: 60, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'DUCKDNS_TOKEN', description: 'account token', required: true, secret: true },
    {
      name: 'DUCKDNS_SEQUENCE_INTERVAL',
      description: 'time between two challenges solved one after another, seconds',
      default: '60',
    },
    {
      name: 'DUCKDNS_API_URL',
      description: 'base URL of the update endpoint (/update is appended), for tests or a proxy',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    return {
      token: env.requiredSecret('DUCKDNS_TOKEN'),
      apiUrl: apiUrlSetting(env, CODE, 'DUCKDNS_API_URL', DEFAULT_API_URL),
      sequenceIntervalMs: env.durationMs('DUCKDNS_SEQUENCE_INTERVAL', 60_000),
    };
  },
  create(config, deps) {
    return new DuckDnsProvider(config, deps);
  },
} satisfies DnsProviderDefinition<DuckDnsConfig>;

class DuckDnsProvider implements DnsProvider {
  /** Writes by the subdomain the full name falls under: no zone lookup needed. */
  readonly zoneless = true;
  readonly sequentialIntervalMs: number;
  readonly #config: DuckDnsConfig;
  readonly #client: DynamicTxtClient;
  readonly #logger: Logger;

  constructor(config: DuckDnsConfig, deps: ProviderDeps) {
    this.#config = config;
    this.#logger = deps.logger;
    this.sequentialIntervalMs = config.sequenceIntervalMs;
    this.#client = new DynamicTxtClient(
      { code: CODE, apiName: 'Duck DNS', urlVariable: 'DUCKDNS_API_URL', secrets: [config.token] },
      deps,
    );
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#update('present', record, signal);
  }

  /** Clears the subdomain's TXT value: Duck DNS cannot remove one value only, and holds only one. */
  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#update('cleanup', record, signal);
  }

  async #update(operation: DnsOperation, record: TxtRecord, signal: AbortSignal): Promise<void> {
    const sub = subdomainOf(record.fqdn, operation);
    const query = new URLSearchParams({ domains: sub, token: this.#config.token.reveal() });
    if (operation === 'present') query.set('txt', record.value);
    else query.set('clear', 'true');
    query.set('verbose', 'true');
    const url = `${this.#config.apiUrl}/update?${query}`;
    const what = `${operation === 'present' ? 'set' : 'clear'} the TXT record of ${sub}.${SUFFIX}`;
    const res = await this.#client.send(operation, { method: 'GET', url }, signal, record.fqdn);
    if (res.status < 200 || res.status >= 300) throw this.#client.unexpected(operation, res, what);
    // verbose=true: "OK", the TXT value now held, "UPDATED" or "NOCHANGE"; or just "KO".
    const lines = res.body.toString('utf8').trim().split(/\r?\n/);
    if (lines[0]?.trim() === 'KO') {
      throw new DnsProviderError(
        CODE,
        operation,
        `Duck DNS refused to ${what} (KO): check DUCKDNS_TOKEN and that ${sub} is a subdomain of its account`,
        { status: 'KO' },
      );
    }
    if (lines[0]?.trim() !== 'OK') throw this.#client.unexpected(operation, res, what);
    // The spec shows the value held and whether it changed; a difference is noted, not fatal (the
    // propagation check is what proves the value is served).
    const held = lines[1]?.trim();
    const expected = operation === 'present' ? record.value : '';
    const fields = { provider: CODE, operation, fqdn: record.fqdn, change: lines[2]?.trim() };
    if (held !== undefined && held !== expected)
      this.#logger.info(
        fields,
        `duckdns: the answer names another TXT value for ${sub}.${SUFFIX} than the one sent`,
      );
    else this.#logger.debug(fields, `duckdns: ${sub}.${SUFFIX} updated`);
  }
}

/**
 * The Duck DNS subdomain a record name falls under: "_acme-challenge.www.my.duckdns.org." → "my" (Duck DNS
 * serves the TXT value of my.duckdns.org for every name under it).
 */
export function subdomainOf(fqdn: string, operation: DnsOperation): string {
  const labels = unFqdn(fqdn).toLowerCase().split('.');
  const n = labels.length;
  if (n < 3 || labels[n - 2] !== 'duckdns' || labels[n - 1] !== 'org' || labels[n - 3] === '') {
    throw new DnsProviderError(
      CODE,
      operation,
      `${fqdn} is not under a <name>.${SUFFIX} subdomain, the only names Duck DNS serves: for a name of ` +
        `your own, point its _acme-challenge name at your subdomain with a CNAME (_acme-challenge.example.com ` +
        `CNAME my.${SUFFIX}.)`,
    );
  }
  return labels[n - 3]!;
}
