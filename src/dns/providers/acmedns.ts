import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import { throwIfAborted } from '../../internal/abort.ts';
import { writeFileAtomic } from '../../internal/atomic-write.ts';
import type { Clock } from '../../internal/clock.ts';
import type { Logger } from '../../internal/logger.ts';
import { redactSecrets } from '../../internal/redact.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderDeps, ProviderHttp } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type DnsProvider, type TxtRecord, unFqdn } from '../provider.ts';
import { apiUrlSetting } from '../settings.ts';

// joohoi's acme-dns: https://github.com/joohoi/acme-dns#api
// POST /register creates an account (a user name, a password and a subdomain of the acme-dns server's
// own zone); POST /update with X-Api-User and X-Api-Key sets the TXT value of that subdomain. The user
// points _acme-challenge.<domain> at the subdomain with a CNAME, once. acme-dns keeps the two most recent
// values of each subdomain (example.com and *.example.com share one) and has no way to delete a value:
// an old one is pushed out by the next update, so cleanup has nothing to do, as in lego.
//
// Accounts are kept as lego keeps them: in ACME_DNS_STORAGE_PATH, a JSON object from the domain ("example.com",
// no trailing dot, no "*.") to {fulldomain, subdomain, username, password, server_url}, file mode 0600; or on
// the HTTP storage server of ACME_DNS_STORAGE_BASE_URL (GET <url>/<domain>, POST <url>/<domain>: 201 means
// the server created the CNAME itself).

const CODE = 'acmedns';
const RETRIES = 3;
const MAX_RETRY_WAIT_MS = 60_000;

/** An acme-dns account, in lego's (goacmedns') field names. */
export interface AcmeDnsAccount {
  readonly fulldomain: string;
  readonly subdomain: string;
  readonly username: string;
  readonly password: string;
  readonly server_url?: string;
}

interface AcmeDnsConfig {
  readonly apiBase: string;
  readonly storagePath: string | undefined;
  readonly storageBaseUrl: string | undefined;
  readonly allowList: readonly string[];
}

export const definition = {
  code: CODE,
  aliases: ['acme-dns'],
  title: "Joohoi's acme-dns",
  description:
    'Updates the TXT value of an acme-dns account (joohoi/acme-dns). The first run for a domain registers an ' +
    "account, stores it as lego does, prints the CNAME to create (_acme-challenge.<domain> → the account's " +
    'subdomain) and stops; once the CNAME is in place, later runs update the value. acme-dns keeps the two ' +
    'latest values per account and cannot delete one, so cleanup leaves them.',
  docsUrl: 'https://github.com/joohoi/acme-dns#api',
  permissions:
    'None beyond reaching ACME_DNS_API_BASE: each account may only update its own subdomain (and only from the ' +
    'networks in ACME_DNS_ALLOWLIST, when given at registration).',
  example: [
    'ACME_DNS_API_BASE=https://auth.acme-dns.io \\',
    'ACME_DNS_STORAGE_PATH=/etc/acmekit/acme-dns-accounts.json \\',
    "  acmekit --dns acmedns --domains example.com --domains '*.example.com' --email you@example.com run",
    '# first run: create the CNAME it prints, then run again',
  ].join('\n'),
  envPrefix: 'ACME_DNS',
  // lego's acme-dns uses the dns-01 defaults (60 s, every 2 s); acme-dns serves its records with TTL 1.
  defaults: { propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'ACME_DNS_API_BASE',
      description: 'URL of the acme-dns API, e.g. https://auth.acme-dns.io',
      required: true,
    },
    {
      name: 'ACME_DNS_STORAGE_PATH',
      description:
        "JSON file of the accounts (lego's format, created with mode 0600); this or ACME_DNS_STORAGE_BASE_URL",
    },
    {
      name: 'ACME_DNS_STORAGE_BASE_URL',
      description:
        'URL of an HTTP account storage server (GET and POST <url>/<domain>); this or ACME_DNS_STORAGE_PATH',
    },
    {
      name: 'ACME_DNS_ALLOWLIST',
      description:
        'networks (CIDR, comma-separated) a new account accepts updates from, e.g. 192.0.2.0/24,2001:db8::/32',
    },
  ],
  configure(env) {
    const apiBase = apiUrlSetting(env, CODE, 'ACME_DNS_API_BASE', env.required('ACME_DNS_API_BASE'));
    const storagePath = env.string('ACME_DNS_STORAGE_PATH');
    const rawStorageUrl = env.string('ACME_DNS_STORAGE_BASE_URL');
    if (storagePath === undefined && rawStorageUrl === undefined)
      throw new InvalidInputError(
        `${CODE}: set ACME_DNS_STORAGE_PATH (a JSON file for the accounts) or ACME_DNS_STORAGE_BASE_URL`,
        'ACME_DNS_STORAGE_PATH',
      );
    if (storagePath !== undefined && rawStorageUrl !== undefined)
      throw new InvalidInputError(
        `${CODE}: ACME_DNS_STORAGE_PATH and ACME_DNS_STORAGE_BASE_URL cannot be used together; keep one`,
        'ACME_DNS_STORAGE_BASE_URL',
      );
    const storageBaseUrl =
      rawStorageUrl === undefined
        ? undefined
        : apiUrlSetting(env, CODE, 'ACME_DNS_STORAGE_BASE_URL', rawStorageUrl);
    const allowList = (env.string('ACME_DNS_ALLOWLIST') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const net of allowList) {
      if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(net))
        throw new InvalidInputError(
          `${CODE}: ACME_DNS_ALLOWLIST must list networks in CIDR notation (192.0.2.0/24), got ${JSON.stringify(net)}`,
          net,
        );
    }
    return { apiBase, storagePath, storageBaseUrl, allowList };
  },
  create(config, deps) {
    return new AcmeDnsProvider(config, deps);
  },
} satisfies DnsProviderDefinition<AcmeDnsConfig>;

/** What the provider keeps accounts in: lego's JSON file or its HTTP storage server. */
interface AccountStorage {
  fetch(domain: string, op: Op): Promise<AcmeDnsAccount | undefined>;
  /** The account whose subdomain is `fulldomain`: for a record whose name already followed the CNAME. */
  byFulldomain(fulldomain: string, op: Op): Promise<AcmeDnsAccount | undefined>;
  /** Saves the account; true when the storage says the CNAME exists already (HTTP storage, 201). */
  put(domain: string, account: AcmeDnsAccount, op: Op): Promise<boolean>;
  /** Where the accounts are, for messages. */
  readonly where: string;
}

interface Op {
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
}

class AcmeDnsProvider implements DnsProvider {
  /** Writes by the account's subdomain, found from the domain: no zone lookup needed. */
  readonly zoneless = true;
  readonly #config: AcmeDnsConfig;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #storage: AccountStorage;
  /** Secrets seen so far (account passwords), cut out of any text that could reach a message or log. */
  readonly #secrets = new Set<string>();
  /** domain → the present running for it: one registration per domain, values updated in order. */
  readonly #running = new Map<string, Promise<void>>();
  /** subdomain → the values this instance set there, latest last (acme-dns keeps two). */
  readonly #latest = new Map<string, string[]>();

  constructor(config: AcmeDnsConfig, deps: ProviderDeps) {
    this.#config = config;
    this.#http = deps.http;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
    this.#storage =
      config.storagePath !== undefined
        ? new FileStorage(config.storagePath, this)
        : new HttpStorage(config.storageBaseUrl!, this);
  }

  async present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const domain = domainOf(record);
    const before = this.#running.get(domain) ?? Promise.resolve();
    const run = before.then(() => this.#present(domain, record, { operation: 'present', signal }));
    const settled = run.catch(() => {});
    this.#running.set(domain, settled);
    try {
      await run;
    } finally {
      if (this.#running.get(domain) === settled) this.#running.delete(domain);
    }
  }

  /** acme-dns cannot delete a value; the next update pushes the older of its two values out. */
  async cleanup(_record: TxtRecord, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
  }

  async #present(domain: string, record: TxtRecord, op: Op): Promise<void> {
    throwIfAborted(op.signal);
    let account = await this.#storage.fetch(domain, op);
    if (!account && !unFqdn(record.fqdn).toLowerCase().startsWith('_acme-challenge.'))
      account = await this.#storage.byFulldomain(unFqdn(record.fqdn).toLowerCase(), op);
    if (!account) account = await this.#register(domain, op);
    this.#secrets.add(account.password);
    const latest = this.#latest.get(account.subdomain) ?? [];
    if (latest.includes(record.value)) return; // set a moment ago and not pushed out since
    await this.#update(domain, account, record.value, op);
    this.#latest.set(account.subdomain, [...latest, record.value].slice(-2));
  }

  /** Registers a new account for the domain and stores it; unless the storage made the CNAME, stops there. */
  async #register(domain: string, op: Op): Promise<AcmeDnsAccount> {
    const res = await this.send(
      'POST',
      `${this.#config.apiBase}/register`,
      op,
      this.#config.allowList.length > 0 ? JSON.stringify({ allowfrom: this.#config.allowList }) : undefined,
    );
    if (res.status !== 201 && res.status !== 200)
      throw this.#error(op, res, `register an acme-dns account for ${domain}`, 'ACME_DNS_API_BASE');
    const body = parseJsonObject(res.body);
    const field = (name: string): string => {
      const v = body?.[name];
      if (typeof v !== 'string' || v === '')
        throw this.fail(op, `the acme-dns registration answer has no ${name} (HTTP ${res.status})`);
      return v;
    };
    const account: AcmeDnsAccount = {
      fulldomain: unFqdn(field('fulldomain')),
      subdomain: field('subdomain'),
      username: field('username'),
      password: field('password'),
      server_url: this.#config.apiBase,
    };
    this.#secrets.add(account.password);
    const cnameExists = await this.#storage.put(domain, account, op);
    const alias = `_acme-challenge.${domain}.`;
    if (cnameExists) {
      this.#logger.info(
        { provider: CODE, domain, cname: alias, target: `${account.fulldomain}.` },
        `${CODE}: registered an acme-dns account for ${domain}; the storage server created the CNAME`,
      );
      return account;
    }
    const line = `${alias} CNAME ${account.fulldomain}.`;
    this.#logger.warn(
      { provider: CODE, domain, cname: alias, target: `${account.fulldomain}.` },
      `${CODE}: registered an acme-dns account for ${domain}; create this record, then run again: ${line}`,
    );
    throw this.fail(
      op,
      `registered a new acme-dns account for ${domain} and saved it in ${this.#storage.where}. Create this ` +
        `record in the DNS zone of ${domain}, then run again (once: later runs use the saved account):\n` +
        `  ${line}`,
    );
  }

  async #update(domain: string, account: AcmeDnsAccount, value: string, op: Op): Promise<void> {
    const res = await this.send(
      'POST',
      `${this.#config.apiBase}/update`,
      op,
      JSON.stringify({ subdomain: account.subdomain, txt: value }),
      { 'x-api-user': account.username, 'x-api-key': account.password },
    );
    if (res.status >= 200 && res.status < 300) {
      this.#logger.debug(
        { provider: CODE, domain, subdomain: account.subdomain },
        `${CODE}: updated the TXT value of ${account.fulldomain}`,
      );
      return;
    }
    if (res.status === 401 || res.status === 403) {
      throw new DnsProviderError(
        CODE,
        op.operation,
        `credentials refused while trying to update the TXT value of ${account.fulldomain} ` +
          `(${this.#detail(res)}): the account saved for ${domain} in ${this.#storage.where} is not accepted by ` +
          'ACME_DNS_API_BASE (another server, or deleted there), or this host is outside its allowed networks ' +
          '(ACME_DNS_ALLOWLIST at registration); remove its entry to register a new account',
        { status: res.status },
      );
    }
    throw this.#error(op, res, `update the TXT value of ${account.fulldomain}`, 'ACME_DNS_API_BASE');
  }

  /** One request, retried on 429 and 5xx (Retry-After honoured); transport failures name `variable`. */
  async send(
    method: string,
    url: string,
    op: Op,
    body?: string,
    headers: Record<string, string> = {},
    variable = 'ACME_DNS_API_BASE',
  ): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(op.signal);
      let res: HttpResponse;
      try {
        res = await this.#http.request(method, url, {
          headers: {
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          signal: op.signal,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (err) {
        if (op.signal.aborted) throw err;
        throw new DnsProviderError(
          CODE,
          op.operation,
          `${new URL(url).origin} did not answer: ${this.redact((err as Error).message)}; check the network, ` +
            `the proxy settings and ${variable}`,
          { cause: err },
        );
      }
      this.#logger.debug(
        { provider: CODE, operation: op.operation, method, path: new URL(url).pathname, status: res.status },
        `${CODE}: API call`,
      );
      if (!(res.status === 429 || res.status >= 500) || attempt >= RETRIES) return res;
      const wait = Math.min(
        MAX_RETRY_WAIT_MS,
        retryAfterOf(res.headers, this.#clock.now()) ?? 1000 * 2 ** attempt,
      );
      this.#logger.info(
        { provider: CODE, status: res.status, waitMs: wait },
        `${CODE}: ${new URL(url).origin} answered ${res.status}; trying again in ${Math.ceil(wait / 1000)} s`,
      );
      await this.#clock.sleep(wait, op.signal);
    }
  }

  fail(op: Op, message: string, status?: number): DnsProviderError {
    return new DnsProviderError(
      CODE,
      op.operation,
      this.redact(message),
      status === undefined ? {} : { status },
    );
  }

  /** An unexpected answer as an error: the status, the server's words, what to check. */
  #error(op: Op, res: HttpResponse, what: string, variable: string): DnsProviderError {
    const detail = this.#detail(res);
    const hint =
      res.status === 429
        ? 'retry in a few minutes'
        : res.status >= 500
          ? 'try again in a few minutes'
          : `check ${variable}`;
    return this.fail(op, `could not ${what} (${detail}); ${hint}`, res.status);
  }

  #detail(res: HttpResponse): string {
    const json = parseJsonObject(res.body);
    const own =
      typeof json?.error === 'string'
        ? json.error
        : res.body.length > 0 &&
            res.body.length <= 200 &&
            !res.body.toString('utf8').trimStart().startsWith('<')
          ? res.body.toString('utf8').trim()
          : undefined;
    return this.redact(`HTTP ${res.status}${own ? `, ${own}` : ''}`);
  }

  redact(text: string): string {
    return redactSecrets(text, this.#secrets);
  }
}

/** lego's key for a record: the identifier without "*." and without the trailing dot. */
function domainOf(record: TxtRecord): string {
  if (record.acme) return unFqdn(record.acme.domain).toLowerCase().replace(/^\*\./, '');
  const name = unFqdn(record.fqdn).toLowerCase();
  return name.startsWith('_acme-challenge.') ? name.slice('_acme-challenge.'.length) : name;
}

function isAccount(v: unknown): v is AcmeDnsAccount {
  const a = v as Partial<AcmeDnsAccount> | null;
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof a.fulldomain === 'string' &&
    typeof a.subdomain === 'string' &&
    typeof a.username === 'string' &&
    typeof a.password === 'string'
  );
}

/** lego's ACME_DNS_STORAGE_PATH: one JSON object, domain → account, written atomically with mode 0600. */
class FileStorage implements AccountStorage {
  readonly where: string;
  readonly #path: string;
  readonly #provider: AcmeDnsProvider;
  /** Writes of this instance, one after another (each reads the file again first). */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(path: string, provider: AcmeDnsProvider) {
    this.#path = path;
    this.where = `ACME_DNS_STORAGE_PATH (${path})`;
    this.#provider = provider;
  }

  async #read(op: Op): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw this.#provider.fail(
        op,
        `cannot read ACME_DNS_STORAGE_PATH (${this.#path}): ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    if (text.trim() === '') return {};
    try {
      const v: unknown = JSON.parse(text);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    throw this.#provider.fail(
      op,
      `ACME_DNS_STORAGE_PATH (${this.#path}) is not a JSON object of accounts; fix or move it away`,
    );
  }

  async fetch(domain: string, op: Op): Promise<AcmeDnsAccount | undefined> {
    const found = (await this.#read(op))[domain];
    return isAccount(found) ? found : undefined;
  }

  async byFulldomain(fulldomain: string, op: Op): Promise<AcmeDnsAccount | undefined> {
    return Object.values(await this.#read(op)).find(
      (a): a is AcmeDnsAccount => isAccount(a) && unFqdn(a.fulldomain).toLowerCase() === fulldomain,
    );
  }

  put(domain: string, account: AcmeDnsAccount, op: Op): Promise<boolean> {
    const write = this.#writing.then(async () => {
      // Read again: another domain's account may have been added since (by this or another process).
      const all = { ...(await this.#read(op)), [domain]: account };
      try {
        await writeFileAtomic(this.#path, `${JSON.stringify(all, null, 2)}\n`, 0o600);
      } catch (err) {
        throw this.#provider.fail(
          op,
          `cannot write ACME_DNS_STORAGE_PATH (${this.#path}): ${(err as NodeJS.ErrnoException).code ?? String(err)}; ` +
            `the new account for ${domain} is not saved`,
        );
      }
      return false;
    });
    this.#writing = write.catch(() => {});
    return write;
  }
}

/** lego's ACME_DNS_STORAGE_BASE_URL: GET <url>/<domain> (404: none), POST <url>/<domain> (201: CNAME made). */
class HttpStorage implements AccountStorage {
  readonly where: string;
  readonly #base: string;
  readonly #provider: AcmeDnsProvider;

  constructor(base: string, provider: AcmeDnsProvider) {
    this.#base = base;
    this.where = `the storage server at ACME_DNS_STORAGE_BASE_URL (${base})`;
    this.#provider = provider;
  }

  async fetch(domain: string, op: Op): Promise<AcmeDnsAccount | undefined> {
    const res = await this.#provider.send(
      'GET',
      `${this.#base}/${encodeURIComponent(domain)}`,
      op,
      undefined,
      {},
      'ACME_DNS_STORAGE_BASE_URL',
    );
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300)
      throw this.#provider.fail(
        op,
        `the account storage server refused to give the account of ${domain} (HTTP ${res.status}); check ACME_DNS_STORAGE_BASE_URL`,
        res.status,
      );
    const body = parseJsonObject(res.body);
    if (!isAccount(body))
      throw this.#provider.fail(
        op,
        `the account storage server answered for ${domain} with something other than an account (HTTP ${res.status})`,
      );
    return body;
  }

  async byFulldomain(): Promise<AcmeDnsAccount | undefined> {
    return undefined;
  }

  async put(domain: string, account: AcmeDnsAccount, op: Op): Promise<boolean> {
    const res = await this.#provider.send(
      'POST',
      `${this.#base}/${encodeURIComponent(domain)}`,
      op,
      JSON.stringify(account),
      {},
      'ACME_DNS_STORAGE_BASE_URL',
    );
    if (res.status < 200 || res.status >= 300)
      throw this.#provider.fail(
        op,
        `the account storage server refused to save the new account of ${domain} (HTTP ${res.status}); check ` +
          'ACME_DNS_STORAGE_BASE_URL',
        res.status,
      );
    return res.status === 201;
  }
}
