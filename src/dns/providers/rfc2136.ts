import { readFileSync } from 'node:fs';
import { BadServerResponseError, InvalidInputError, NetworkError, TimeoutError } from '../../errors/base.ts';
import { DnsProviderError } from '../../errors/dns.ts';
import type { Logger } from '../../internal/logger.ts';
import { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { ProviderEnv } from '../env.ts';
import type { DnsProvider, TxtRecord } from '../provider.ts';
import { type DnsServer, exchange, formatDnsServer, newId, parseDnsServer } from '../wire/client.ts';
import { canonicalName, Opcode, Rcode, RecordClass, RecordType, rcodeName } from '../wire/message.ts';
import {
  parseTsigAlgorithm,
  type TsigAlgorithm,
  type TsigKey,
  tsigAlgorithms,
  tsigKey,
} from '../wire/tsig.ts';

const CODE = 'rfc2136';
const DEFAULT_ALGORITHM: TsigAlgorithm = 'hmac-sha256.';
const DEFAULT_DNS_TIMEOUT_MS = 10_000;

interface Rfc2136Config {
  readonly nameserver: DnsServer;
  /** Absent: unsigned updates, for a server that allows them by address. */
  readonly key: TsigKey | undefined;
  readonly dnsTimeoutMs: number;
}

export const definition = {
  code: CODE,
  aliases: ['dnsupdate'],
  title: 'RFC 2136 dynamic update (BIND, Knot, PowerDNS)',
  description:
    'Sends DNS UPDATE messages (RFC 2136) signed with a TSIG key (RFC 8945) to the primary nameserver of the ' +
    'zone: present adds one TXT value, cleanup deletes exactly that value; other records at the name stay.',
  docsUrl: 'https://go-acme.github.io/lego/dns/rfc2136/',
  permissions:
    'A TSIG key the primary lets update TXT records in the zone. BIND, in named.conf: ' +
    'key "acme-key." { algorithm hmac-sha256; secret "<base64 from tsig-keygen>"; }; and in the zone: ' +
    'update-policy { grant acme-key. zonesub TXT; }; (narrower: one ' +
    '"grant acme-key. name _acme-challenge.example.com. TXT;" per name). Updates go to RFC2136_NAMESERVER, ' +
    'which must be the primary, not a secondary.',
  example: [
    'tsig-keygen -a hmac-sha256 acme-key. > /etc/bind/acme-key.key   # include it in named.conf, grant it TXT updates',
    'RFC2136_NAMESERVER=ns1.example.com:53 RFC2136_TSIG_FILE=/etc/bind/acme-key.key \\',
    "  acmekit --dns rfc2136 --domains example.com --domains '*.example.com' --email you@example.com run",
    '# or the key given by parts:',
    'RFC2136_NAMESERVER=127.0.0.1 RFC2136_TSIG_KEY=acme-key. RFC2136_TSIG_ALGORITHM=hmac-sha256. \\',
    '  RFC2136_TSIG_SECRET=YWJjZGVmZGdoaWprbG1ub3BxcnN0dXZ3eHl6MTIzNDU= \\',
    '  acmekit --dns rfc2136 --domains example.com --email you@example.com run',
  ].join('\n'),
  envPrefix: 'RFC2136',
  env: [
    {
      name: 'RFC2136_NAMESERVER',
      description: 'primary nameserver: host or host:port ([v6addr]:port)',
      required: true,
    },
    {
      name: 'RFC2136_TSIG_KEY',
      description: "TSIG key name, as in the server's key statement (unset: no TSIG)",
    },
    { name: 'RFC2136_TSIG_SECRET', description: 'TSIG secret, base64 (unset: no TSIG)', secret: true },
    {
      name: 'RFC2136_TSIG_ALGORITHM',
      description: `TSIG algorithm: ${Object.keys(tsigAlgorithms).join(', ')}`,
      default: DEFAULT_ALGORITHM,
    },
    {
      name: 'RFC2136_TSIG_FILE',
      description: 'a BIND key file (tsig-keygen output) instead of the three RFC2136_TSIG_* values',
    },
    {
      name: 'RFC2136_DNS_TIMEOUT',
      description: 'deadline of one update, retries included, seconds',
      default: String(DEFAULT_DNS_TIMEOUT_MS / 1000),
    },
  ],
  defaults: { propagationTimeoutMs: 60_000 },
  configure(env: ProviderEnv): Rfc2136Config {
    const raw = env.required('RFC2136_NAMESERVER');
    let nameserver: DnsServer;
    try {
      nameserver = parseDnsServer(raw);
    } catch (err) {
      throw new InvalidInputError(`${CODE}: RFC2136_NAMESERVER: ${(err as Error).message}`, raw, {
        cause: err,
      });
    }
    return {
      nameserver,
      key: readKey(env),
      dnsTimeoutMs: env.durationMs('RFC2136_DNS_TIMEOUT', DEFAULT_DNS_TIMEOUT_MS),
    };
  },
  create(config, deps): DnsProvider {
    return new Rfc2136Provider(config, deps.logger);
  },
} satisfies DnsProviderDefinition<Rfc2136Config>;

function readKey(env: ProviderEnv): TsigKey | undefined {
  const file = env.string('RFC2136_TSIG_FILE');
  const name = env.string('RFC2136_TSIG_KEY');
  const secret = env.secret('RFC2136_TSIG_SECRET');
  const algorithmText = env.string('RFC2136_TSIG_ALGORITHM');
  if (file !== undefined) {
    if (secret) {
      throw new InvalidInputError(
        `${CODE}: set RFC2136_TSIG_FILE or RFC2136_TSIG_SECRET, not both`,
        'RFC2136_TSIG_FILE',
      );
    }
    const key = keyFromFile(file, name);
    if (algorithmText !== undefined && parseTsigAlgorithm(algorithmText) !== key.algorithm) {
      throw new InvalidInputError(
        `${CODE}: RFC2136_TSIG_ALGORITHM is ${algorithmText} but key ${key.name} in ${file} uses ${key.algorithm}; ` +
          'unset RFC2136_TSIG_ALGORITHM',
        algorithmText,
      );
    }
    return key;
  }
  if (name === undefined && secret === undefined) return undefined;
  if (name === undefined) {
    throw new InvalidInputError(
      `${CODE}: RFC2136_TSIG_SECRET is set but RFC2136_TSIG_KEY is not: set the key's name too (or unset both for ` +
        'unsigned updates)',
      'RFC2136_TSIG_KEY',
    );
  }
  if (secret === undefined) {
    throw new InvalidInputError(
      `${CODE}: RFC2136_TSIG_KEY is set but RFC2136_TSIG_SECRET is not: set the key's secret too (or ` +
        'RFC2136_TSIG_FILE to a key file)',
      'RFC2136_TSIG_SECRET',
    );
  }
  const algorithm = parseAlgorithm(algorithmText ?? DEFAULT_ALGORITHM, 'RFC2136_TSIG_ALGORITHM');
  try {
    return tsigKey(checkKeyName(name, 'RFC2136_TSIG_KEY'), algorithm, secret);
  } catch (err) {
    throw new InvalidInputError(`${CODE}: RFC2136_TSIG_SECRET is not valid base64`, 'RFC2136_TSIG_SECRET', {
      cause: err,
    });
  }
}

function parseAlgorithm(text: string, where: string): TsigAlgorithm {
  const algorithm = parseTsigAlgorithm(text);
  if (!algorithm) {
    throw new InvalidInputError(
      `${CODE}: ${where}: unknown TSIG algorithm ${JSON.stringify(text)}; use one of ` +
        Object.keys(tsigAlgorithms).join(', '),
      text,
    );
  }
  return algorithm;
}

function checkKeyName(name: string, where: string): string {
  try {
    return canonicalName(name);
  } catch (err) {
    throw new InvalidInputError(`${CODE}: ${where}: ${(err as Error).message}`, name, { cause: err });
  }
}

/** Reads `key "name" { algorithm hmac-sha256; secret "base64"; };` (tsig-keygen's output; comments allowed). */
function keyFromFile(path: string, wanted: string | undefined): TsigKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidInputError(
      `${CODE}: RFC2136_TSIG_FILE names ${path}, which cannot be read (${code})`,
      path,
      {
        cause: err,
      },
    );
  }
  const bad = (why: string) => new InvalidInputError(`${CODE}: RFC2136_TSIG_FILE ${path}: ${why}`, path);
  const keys = parseKeyFile(text, bad);
  if (keys.length === 0) throw bad('no key statement found (expected tsig-keygen output)');
  let found: ParsedKey | undefined;
  if (wanted !== undefined) {
    const name = checkKeyName(wanted, 'RFC2136_TSIG_KEY');
    found = keys.find((k) => canonicalName(k.name) === name);
    if (!found) {
      throw bad(
        `no key named ${name} (it has ${keys.map((k) => canonicalName(k.name)).join(', ')}); fix RFC2136_TSIG_KEY`,
      );
    }
  } else {
    if (keys.length > 1) throw bad(`${keys.length} keys; set RFC2136_TSIG_KEY to the one to use`);
    found = keys[0]!;
  }
  const name = checkKeyName(found.name, 'RFC2136_TSIG_FILE');
  if (found.algorithm === undefined) throw bad(`key ${name} has no algorithm`);
  if (found.secret === undefined) throw bad(`key ${name} has no secret`);
  const algorithm = parseAlgorithm(found.algorithm, `RFC2136_TSIG_FILE ${path}`);
  try {
    return tsigKey(name, algorithm, found.secret);
  } catch {
    throw bad(`the secret of key ${name} is not valid base64`);
  }
}

interface ParsedKey {
  name: string;
  algorithm?: string;
  secret?: Secret;
}

/** A tiny named.conf reader: key statements are kept, other statements skipped. Errors never echo a token. */
function parseKeyFile(text: string, bad: (why: string) => InvalidInputError): ParsedKey[] {
  const tokens: string[] = [];
  const re = /\s+|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};"#/]+|\/)/gy;
  for (let pos = 0; pos < text.length; pos = re.lastIndex) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw bad('cannot be read as a BIND key file');
    if (m[1] !== undefined) tokens.push(`"${m[1]}`);
    else if (m[2] !== undefined || m[3] !== undefined) tokens.push((m[2] ?? m[3])!);
  }
  const value = (t: string | undefined) => (t?.startsWith('"') ? t.slice(1) : t);
  const keys: ParsedKey[] = [];
  let i = 0;
  const expect = (what: string) => {
    if (tokens[i] !== what) throw bad(`expected "${what}" near token ${i + 1}`);
    i += 1;
  };
  while (i < tokens.length) {
    if (tokens[i] !== 'key') {
      // Skip any other statement: up to its ';' at brace depth 0.
      let depth = 0;
      for (; i < tokens.length; i++) {
        if (tokens[i] === '{') depth++;
        else if (tokens[i] === '}') depth--;
        else if (tokens[i] === ';' && depth === 0) break;
      }
      i += 1;
      continue;
    }
    i += 1;
    const name = value(tokens[i++]);
    if (name === undefined || name === '{') throw bad('a key statement without a name');
    const key: ParsedKey = { name };
    expect('{');
    while (i < tokens.length && tokens[i] !== '}') {
      const clause = tokens[i++];
      const arg = value(tokens[i++]);
      if (arg === undefined) throw bad(`key ${name}: a clause has no value`);
      if (clause === 'algorithm') key.algorithm = arg;
      else if (clause === 'secret') key.secret = new Secret(arg);
      expect(';');
    }
    expect('}');
    expect(';');
    keys.push(key);
  }
  return keys;
}

/** Adds and deletes single TXT values with signed UPDATE messages; every answer's TSIG is verified. */
class Rfc2136Provider implements DnsProvider {
  readonly #config: Rfc2136Config;
  readonly #logger: Logger;

  constructor(config: Rfc2136Config, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** RFC 2136 §2.5.1: add to an RRset (class IN); an identical value is not added twice. */
  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    await this.#update('present', record, RecordClass.IN, record.ttl, signal);
  }

  /** RFC 2136 §2.5.4: delete an RR from an RRset (class NONE, TTL 0); deleting what is absent is a no-op. */
  async cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    await this.#update('cleanup', record, RecordClass.NONE, 0, signal);
  }

  async #update(
    operation: 'present' | 'cleanup',
    record: TxtRecord,
    cls: number,
    ttl: number,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    const { nameserver, key, dnsTimeoutMs } = this.#config;
    const where = formatDnsServer(nameserver);
    // status: the RCODE or TSIG error name when the server answered; unset when it did not.
    const fail = (message: string, status?: string, cause?: unknown) =>
      new DnsProviderError(CODE, operation, message, {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    let zone: string;
    let fqdn: string;
    try {
      zone = canonicalName(record.zone);
      fqdn = canonicalName(record.fqdn);
    } catch (err) {
      throw fail((err as Error).message, undefined, err);
    }
    const message = {
      id: newId(),
      opcode: Opcode.UPDATE,
      questions: [{ name: zone, type: RecordType.SOA, class: RecordClass.IN }],
      authority: [{ name: fqdn, type: RecordType.TXT, class: cls, ttl, data: { strings: [record.value] } }],
    };
    let result: Awaited<ReturnType<typeof exchange>>;
    try {
      result = await exchange(nameserver, message, {
        timeoutMs: dnsTimeoutMs,
        signal,
        ...(key ? { tsig: key } : {}),
      });
    } catch (err) {
      if (signal.aborted && err === signal.reason) throw err;
      if (err instanceof TimeoutError) {
        throw fail(
          `nameserver ${where} did not answer within ${Number((dnsTimeoutMs / 1000).toFixed(1))} s ` +
            '(check RFC2136_NAMESERVER, that it listens there, and RFC2136_DNS_TIMEOUT)',
          undefined,
          err,
        );
      }
      if (err instanceof NetworkError)
        throw fail(`cannot reach nameserver ${where}: ${err.message}`, undefined, err);
      if (err instanceof BadServerResponseError) throw fail(err.message, undefined, err);
      throw err;
    }

    const keyName = key ? `${key.name} (${key.algorithm})` : '';
    if (result.tsigError !== undefined) {
      const status = result.tsigError;
      const text =
        status === 'BADKEY'
          ? `the server does not know TSIG key ${keyName}: the name and algorithm must match a key statement on ` +
            `${where} (RFC2136_TSIG_KEY, RFC2136_TSIG_ALGORITHM) (BADKEY)`
          : status === 'BADSIG'
            ? `wrong TSIG secret for key ${keyName}: ${where} knows the key but the signature does not verify ` +
              '(RFC2136_TSIG_SECRET) (BADSIG)'
            : status === 'BADTIME'
              ? `${where} rejected the time of our TSIG signature: its clock and ours differ by more than 5 minutes ` +
                '(BADTIME)'
              : `${where} rejected our TSIG signature with key ${keyName} (${status})`;
      throw fail(text, status);
    }
    const rcode = result.message.rcode;
    if (rcode === Rcode.NOERROR) {
      this.#logger.debug(
        { provider: CODE, operation, fqdn, zone, nameserver: where },
        operation === 'present' ? 'TXT value added' : 'TXT value deleted',
      );
      return;
    }
    const status = rcodeName(rcode);
    const who = key ? `key ${key.name}` : 'unsigned updates from this address (no TSIG key is set)';
    const texts: Record<number, string> = {
      [Rcode.REFUSED]:
        `the server refused the update for zone ${zone}: check allow-update/update-policy on ${where} for ${who}` +
        ' (REFUSED)',
      [Rcode.NOTAUTH]:
        `${where} is not authoritative for zone ${zone} (NOTAUTH): point RFC2136_NAMESERVER at the zone's primary` +
        (key ? '' : '; the server may also require a TSIG key (RFC2136_TSIG_KEY and RFC2136_TSIG_SECRET)'),
      [Rcode.NOTZONE]: `${fqdn} is not inside zone ${zone} (NOTZONE)`,
      [Rcode.SERVFAIL]:
        `${where} failed to apply the update to zone ${zone} (SERVFAIL): see its log (zone file or journal ` +
        'not writable, zone not loaded?)',
      [Rcode.NOTIMP]: `${where} does not implement dynamic updates (NOTIMP)`,
      [Rcode.FORMERR]: `${where} could not parse our update (FORMERR)`,
    };
    throw fail(
      texts[rcode] ?? `${where} answered ${status} to the update of ${fqdn} in zone ${zone}`,
      status,
    );
  }
}
