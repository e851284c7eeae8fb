import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition, ProviderDeps } from '../definition.ts';
import { type DnsProvider, type TxtRecord, unFqdn } from '../provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { DynamicTxtClient } from './dynamic-txt.ts';

// Hurricane Electric Free DNS, dynamic TXT records: https://dns.he.net/docs.html (the "Dynamic DNS"
// section, and the example shown for each dynamic record under its DDNS key).
// A TXT record created at dns.he.net with "Enable entry for dynamic dns" gets its own key; one POST to
// https://dyn.dns.he.net/nic/update with the form fields hostname, password (that key) and txt replaces its
// one value. The answer is a dyndns2 code: good or nochg, else badauth, nohost, notfqdn, interval, abuse,
// badagent. There is no delete: cleanup writes PLACEHOLDER, as lego does. One value per record, so the
// challenges are solved one after another (sequentialIntervalMs).

const CODE = 'hurricane';
const DEFAULT_API_URL = 'https://dyn.dns.he.net';
/** What cleanup leaves in the record (Hurricane Electric cannot empty or delete it): lego's ".". */
export const PLACEHOLDER = '.';
const PREFIX = '_acme-challenge.';

interface HurricaneConfig {
  /** Record name (without "_acme-challenge.", lower case, no trailing dot) → that record's dynamic key. */
  readonly tokens: ReadonlyMap<string, Secret>;
  readonly apiUrl: string;
  readonly sequenceIntervalMs: number;
}

export const definition = {
  code: CODE,
  title: 'Hurricane Electric (dynamic TXT)',
  description:
    'Sets the value of a dynamic TXT record at dns.he.net through its dynamic DNS update URL, with that ' +
    'record’s own key. Create _acme-challenge.<name> there first as a TXT record with dynamic DNS enabled, ' +
    'generate its key, and list it in HURRICANE_TOKENS. Such a record holds one value, so the challenges are ' +
    'solved one after another, HURRICANE_SEQUENCE_INTERVAL apart; there is no delete, so cleanup sets the ' +
    `value to "${PLACEHOLDER}" (as lego does). The TTL is the record’s own (5 minutes).`,
  docsUrl: 'https://dns.he.net/docs.html',
  permissions:
    'HURRICANE_TOKENS: for each name, the dynamic DNS key of its _acme-challenge TXT record (not the account ' +
    'password); a key can change that one record only.',
  example: [
    'HURRICANE_TOKENS=example.com:Dyn4micKeyOne,www.example.com:Dyn4micKeyTwo \\',
    "  acmekit --dns hurricane --domains example.com --domains '*.example.com' --domains www.example.com \\",
    '  --email you@example.com run',
    '# the apex and the wildcard share _acme-challenge.example.com, and so one entry',
  ].join('\n'),
  envPrefix: 'HURRICANE',
  // lego's hurricane defaults; a dynamic record at dns.he.net has a TTL of 300 s.
  defaults: { ttl: 300, propagationTimeoutMs: 300_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'HURRICANE_TOKENS',
      description:
        'name:key pairs, comma-separated: each name without _acme-challenge. (example.com), and the dynamic ' +
        'DNS key of its _acme-challenge TXT record',
      required: true,
      secret: true,
    },
    {
      name: 'HURRICANE_SEQUENCE_INTERVAL',
      description: 'time between two challenges solved one after another, seconds',
      default: '60',
    },
    {
      name: 'HURRICANE_API_URL',
      description: 'base URL of the dynamic DNS endpoint (/nic/update is appended), for tests or a proxy',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    return {
      tokens: parseTokens(env.required('HURRICANE_TOKENS')),
      apiUrl: apiUrlSetting(env, CODE, 'HURRICANE_API_URL', DEFAULT_API_URL),
      sequenceIntervalMs: env.durationMs('HURRICANE_SEQUENCE_INTERVAL', 60_000),
    };
  },
  create(config, deps) {
    return new HurricaneProvider(config, deps);
  },
} satisfies DnsProviderDefinition<HurricaneConfig>;

/**
 * lego's `name:key,name2:key2` (a trailing comma allowed, spaces around each part ignored). A message
 * names the entry by its position only: the entry holds a key.
 */
export function parseTokens(raw: string): Map<string, Secret> {
  const tokens = new Map<string, Secret>();
  const entries = raw.replace(/,\s*$/, '').split(',');
  for (const [i, entry] of entries.entries()) {
    const parts = entry.split(':');
    const name = parts[0]?.trim().toLowerCase().replace(/\.$/, '');
    const key = parts[1]?.trim();
    if (parts.length !== 2 || !name || !key) {
      throw new InvalidInputError(
        `${CODE}: HURRICANE_TOKENS entry ${i + 1} of ${entries.length} is not <name>:<key> ` +
          '(e.g. example.com:key1,www.example.com:key2; a key cannot contain ":" or ",")',
        'HURRICANE_TOKENS',
      );
    }
    tokens.set(name, new Secret(key));
  }
  return tokens;
}

class HurricaneProvider implements DnsProvider {
  /** Writes by the full name: no zone lookup needed. */
  readonly zoneless = true;
  readonly sequentialIntervalMs: number;
  readonly #config: HurricaneConfig;
  readonly #client: DynamicTxtClient;

  constructor(config: HurricaneConfig, deps: ProviderDeps) {
    this.#config = config;
    this.sequentialIntervalMs = config.sequenceIntervalMs;
    this.#client = new DynamicTxtClient(
      {
        code: CODE,
        apiName: 'Hurricane Electric',
        urlVariable: 'HURRICANE_API_URL',
        secrets: [...config.tokens.values()],
      },
      deps,
    );
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#update('present', record, record.value, signal);
  }

  /** Writes the placeholder: the record cannot be deleted, and holds no other value than ours. */
  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#update('cleanup', record, PLACEHOLDER, signal);
  }

  async #update(operation: DnsOperation, record: TxtRecord, txt: string, signal: AbortSignal): Promise<void> {
    const hostname = unFqdn(record.fqdn).toLowerCase();
    const key = this.#keyFor(hostname, operation);
    const body = new URLSearchParams({ hostname, password: key.reveal(), txt }).toString();
    const res = await this.#client.send(
      operation,
      {
        method: 'POST',
        url: `${this.#config.apiUrl}/nic/update`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      },
      signal,
      record.fqdn,
    );
    const what = `${operation === 'present' ? 'set' : `reset (to "${PLACEHOLDER}")`} the TXT record ${hostname}`;
    const answer = this.#client.text(res);
    const code = answer.split(' ')[0] ?? '';
    const fail = (message: string) =>
      new DnsProviderError(CODE, operation, `${message} (${this.#client.text(res, 100)})`, { status: code });
    switch (code) {
      case 'good':
      case 'nochg':
        if (res.status >= 200 && res.status < 300) return;
        break;
      case 'badauth':
        throw fail(
          `Hurricane Electric refused the key while trying to ${what}: check its key in HURRICANE_TOKENS ` +
            '(the dynamic DNS key generated for that record, not the account password)',
        );
      case 'nohost':
        throw fail(
          `there is no dynamic TXT record ${hostname} at dns.he.net: create it as a TXT record with ` +
            '"Enable entry for dynamic dns", generate its key and put it in HURRICANE_TOKENS',
        );
      case 'notfqdn':
        throw fail(`Hurricane Electric does not take ${hostname} as a fully qualified name`);
      case 'interval':
        throw fail(
          `Hurricane Electric refuses updates of ${hostname} this often; wait a few minutes ` +
            '(or raise HURRICANE_SEQUENCE_INTERVAL) and try again',
        );
      case 'abuse':
        throw fail(
          `Hurricane Electric has blocked updates of ${hostname} for abuse; ask them to lift the block`,
        );
      case 'badagent':
        throw fail(`Hurricane Electric did not accept the request while trying to ${what}`);
    }
    throw this.#client.unexpected(operation, res, what);
  }

  /** The key for a record: by its name without "_acme-challenge.", or by its full name (a CNAME target). */
  #keyFor(hostname: string, operation: DnsOperation): Secret {
    const bare = hostname.startsWith(PREFIX) ? hostname.slice(PREFIX.length) : undefined;
    for (const name of [bare, hostname]) {
      const key = name === undefined ? undefined : this.#config.tokens.get(name);
      if (key) return key;
    }
    const wanted = bare ?? hostname;
    throw new DnsProviderError(
      CODE,
      operation,
      `HURRICANE_TOKENS has no key for ${wanted}: add ${wanted}:<key>, with the dynamic DNS key of the TXT ` +
        `record ${hostname} at dns.he.net (known names: ${[...this.#config.tokens.keys()].join(', ')})`,
    );
  }
}
