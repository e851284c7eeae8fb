import { type DnsOperation, DnsProviderError } from '../errors/dns.ts';
import { throwIfAborted } from '../internal/abort.ts';
import type { Clock } from '../internal/clock.ts';
import type { Logger } from '../internal/logger.ts';
import { redactSecrets } from '../internal/redact.ts';
import type { Secret } from '../internal/secret.ts';
import { retryAfterOf } from '../protocol/retry-after.ts';
import type { HttpResponse } from '../protocol/transport.ts';
import type { ProviderDeps, ProviderHttp } from './definition.ts';
import { parseJsonObject } from './json-api.ts';
import { type DnsProvider, type TxtRecord, unFqdn } from './provider.ts';

/**
 * The common shape of DNS providers with a JSON-over-HTTPS API: list the TXT records at a name, create
 * one, delete one by id. A provider file describes its API (where, how to authenticate, the three calls,
 * how its errors read) and this layer does the rest the DnsProvider contract asks for: a value already
 * there is not added twice, other values at the name survive, cleanup finds the record again after a
 * restart and ignores one already gone, 429 and 5xx answers are retried (bounded, Retry-After honoured),
 * secrets never reach a message or log, and every wait honours the signal.
 */

/** One request before authentication: the API adds its headers, query or signature in `authorize`. */
export interface RestRequest {
  readonly method: string;
  /** Path and query after the base URL, e.g. "/v1/records?zone_id=abc". */
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Sent as JSON unless `rawBody` is given. */
  readonly body?: unknown;
  /** A body in another encoding (form, XML); sent as is, with the content type in `headers`. */
  readonly rawBody?: string;
}

/** A TXT record as the API lists it. */
export interface ListedTxt {
  /** What delete needs: the record's id (or whatever the API keys records by). */
  readonly id: string;
  /** The TXT value, without the quotes some APIs add. */
  readonly value: string;
}

/** What a provider's calls get: the record's zone (as the API names it) and a way to call the API. */
export interface RestCallContext {
  /** Sends one request (authorized, retried on 429/5xx) and returns the answer whatever its status. */
  send(request: Omit<RestRequest, 'headers'> & { headers?: Record<string, string> }): Promise<HttpResponse>;
  /** Sends and expects one of `ok` (default 2xx): the parsed JSON object (or {} for an empty body). */
  json(
    request: Omit<RestRequest, 'headers'> & { headers?: Record<string, string> },
    what: string,
    ok?: (status: number) => boolean,
  ): Promise<Record<string, unknown>>;
  /** As `json`, for an API that answers with a top-level JSON array: the array ([] for an empty body). */
  jsonArray(
    request: Omit<RestRequest, 'headers'> & { headers?: Record<string, string> },
    what: string,
    ok?: (status: number) => boolean,
  ): Promise<unknown[]>;
  /** As `json`, for an API that answers with any JSON value (an array of records): the parsed value. */
  jsonValue(
    request: Omit<RestRequest, 'headers'> & { headers?: Record<string, string> },
    what: string,
    ok?: (status: number) => boolean,
  ): Promise<unknown>;
  /**
   * An error of this provider and operation, for what the API's answer means (a zone not in the account);
   * `status` is the HTTP status or the API's error code, when there is one.
   */
  fail(message: string, status?: number | string): DnsProviderError;
  /**
   * The error `json` throws for an unexpected answer (status, the API's words, what to do), for a call
   * that reads `send`'s answer itself (a 404 that means "none yet").
   */
  refused(response: HttpResponse, what: string): DnsProviderError;
  /** Waits (on the provider's clock, honouring the signal): for an API whose changes finish later. */
  sleep(ms: number): Promise<void>;
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
}

export interface RestApi<C> {
  readonly code: string;
  /** For messages: "Hetzner DNS". */
  readonly apiName: string;
  /** The variable that sets the API's URL, named when the API does not answer. */
  readonly urlVariable: string;
  /** The variables holding the credentials, named when the API refuses them. */
  readonly credentialVariables: string;
  baseUrl(config: C): string;
  /** Secrets to cut out of any text that could reach a message or a log. */
  secrets(config: C): readonly Secret[];
  /**
   * Adds authentication: headers, a query parameter, or a signature over the request. Called before every
   * try. `call` tells which operation it serves and carries its signal, for an API that first fetches a
   * token (an OAuth2 client-credentials login): such a login honours the signal and fails as this operation.
   */
  authorize(
    config: C,
    request: RestRequest,
    clock: Clock,
    call: AuthorizeCall,
  ): RestRequest | Promise<RestRequest>;
  /**
   * How the API names the zone of a record (its id, or the name without the trailing dot). Called once
   * per zone and instance, then cached. Default: the zone without its trailing dot.
   */
  zoneRef?(config: C, zone: string, ctx: RestCallContext): Promise<string>;
  list(config: C, record: TxtRecord, zoneRef: string, ctx: RestCallContext): Promise<ListedTxt[]>;
  /** Creates the record; returns its id when the answer gives it (saves a lookup at cleanup). */
  create(config: C, record: TxtRecord, zoneRef: string, ctx: RestCallContext): Promise<string | undefined>;
  /** Deletes one record; a 404 is treated as already gone by the caller of ctx.json/send. */
  remove(config: C, record: TxtRecord, zoneRef: string, id: string, ctx: RestCallContext): Promise<void>;
  /** The API's own words from an error answer (message, code), for the error's detail. */
  errorDetail?(body: Buffer, status: number): string | undefined;
  /** Retries for 429 and 5xx answers; default 3. */
  readonly retries?: number;
  /**
   * Set for an API that stores one set of values per name and type (an rrset), whose create and remove
   * read the set and write it back: present and cleanup at one name then run one after another in this
   * instance, so two values written at once (example.com and *.example.com) do not overwrite each other.
   */
  readonly oneWriterPerName?: boolean;
  /**
   * Whether an answer is worth another try (a rate limit or a passing server error). Default: HTTP 429
   * and 5xx. APIs that report throttling inside a 200 or 400 answer (Tencent Cloud, AWS JSON) say so here.
   */
  retryable?(res: HttpResponse): boolean;
}

/** What `authorize` learns about the call it authorizes. */
export interface AuthorizeCall {
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
}

/** Longest wait between two tries of one request, whatever Retry-After says. */
const MAX_RETRY_WAIT_MS = 60_000;

/** A DnsProvider from an API description. */
export class RestDnsProvider<C> implements DnsProvider {
  readonly #api: RestApi<C>;
  readonly #config: C;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #zones = new Map<string, Promise<string>>();
  /** "fqdn value" → record id created by this process, so its cleanup needs no lookup. */
  readonly #created = new Map<string, string>();
  /** fqdn → the last write queued at that name (only with `oneWriterPerName`). */
  readonly #writers = new Map<string, Promise<void>>();

  constructor(api: RestApi<C>, config: C, deps: ProviderDeps) {
    this.#api = api;
    this.#config = config;
    this.#http = deps.http;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#oneAtATime(record, () => this.#present(record, signal));
  }

  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#oneAtATime(record, () => this.#cleanup(record, signal));
  }

  /** Runs `write` after the writes already queued at the record's name, when the API asks for that. */
  async #oneAtATime(record: TxtRecord, write: () => Promise<void>): Promise<void> {
    if (!this.#api.oneWriterPerName) return write();
    const name = unFqdn(record.fqdn).toLowerCase();
    const run = (this.#writers.get(name) ?? Promise.resolve()).then(write);
    const settled = run.catch(() => {});
    this.#writers.set(name, settled);
    try {
      await run;
    } finally {
      if (this.#writers.get(name) === settled) this.#writers.delete(name);
    }
  }

  async #present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const ctx = this.#context('present', signal);
    const zone = await this.#zoneRef(record.zone, ctx);
    const existing = (await this.#api.list(this.#config, record, zone, ctx)).find(
      (r) => r.value === record.value,
    );
    if (existing) {
      this.#created.set(key(record), existing.id);
      return;
    }
    const id = await this.#api.create(this.#config, record, zone, ctx);
    if (id !== undefined) this.#created.set(key(record), id);
  }

  async #cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    const ctx = this.#context('cleanup', signal);
    const zone = await this.#zoneRef(record.zone, ctx);
    const remembered = this.#created.get(key(record));
    // Not created by this process (a restart, another machine): find it by name and value.
    const ids = remembered
      ? [remembered]
      : (await this.#api.list(this.#config, record, zone, ctx))
          .filter((r) => r.value === record.value)
          .map((r) => r.id);
    for (const id of ids) await this.#api.remove(this.#config, record, zone, id, ctx);
    this.#created.delete(key(record));
  }

  #zoneRef(zone: string, ctx: RestCallContext): Promise<string> {
    const name = unFqdn(zone).toLowerCase();
    if (!this.#api.zoneRef) return Promise.resolve(name);
    let ref = this.#zones.get(name);
    if (!ref) {
      ref = this.#api.zoneRef(this.#config, name, ctx);
      ref.catch(() => this.#zones.delete(name));
      this.#zones.set(name, ref);
    }
    return ref;
  }

  #context(operation: DnsOperation, signal: AbortSignal): RestCallContext {
    const send: RestCallContext['send'] = (req) => this.#send(operation, { headers: {}, ...req }, signal);
    const notJson = (what: string, status: number) =>
      new DnsProviderError(
        this.#api.code,
        operation,
        `the ${this.#api.apiName} API answered ${what} with something other than JSON (HTTP ${status})`,
        { status },
      );
    /** The status and parsed JSON of an answer `ok` accepts (default 2xx); undefined for an empty body. */
    const parsed = async (
      req: Parameters<RestCallContext['send']>[0],
      what: string,
      ok: (status: number) => boolean = (s) => s >= 200 && s < 300,
    ): Promise<{ status: number; body: unknown }> => {
      const res = await send(req);
      if (!ok(res.status)) throw this.error(operation, res, what);
      if (res.body.length === 0) return { status: res.status, body: undefined };
      try {
        return { status: res.status, body: JSON.parse(res.body.toString('utf8')) as unknown };
      } catch {
        throw notJson(what, res.status);
      }
    };
    return {
      operation,
      signal,
      send,
      sleep: (ms) => this.#clock.sleep(ms, signal),
      fail: (message, status) =>
        new DnsProviderError(this.#api.code, operation, this.redact(message), {
          ...(status !== undefined ? { status } : {}),
        }),
      refused: (res, what) => this.error(operation, res, what),
      json: async (req, what, ok) => {
        const { status, body } = await parsed(req, what, ok);
        if (body === undefined) return {};
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw notJson(what, status);
        return body as Record<string, unknown>;
      },
      jsonValue: async (req, what, ok) => (await parsed(req, what, ok)).body,
      jsonArray: async (req, what, ok) => {
        const { status, body } = await parsed(req, what, ok);
        if (body === undefined) return [];
        if (!Array.isArray(body)) throw notJson(what, status);
        return body;
      },
    };
  }

  async #send(operation: DnsOperation, request: RestRequest, signal: AbortSignal): Promise<HttpResponse> {
    const api = this.#api;
    const retries = api.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      const req = await api.authorize(this.#config, request, this.#clock, { operation, signal });
      const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
      let body: string | undefined = req.rawBody;
      if (body === undefined && req.body !== undefined) {
        body = JSON.stringify(req.body);
        headers['content-type'] ??= 'application/json';
      }
      let res: HttpResponse;
      try {
        res = await this.#http.request(req.method, `${api.baseUrl(this.#config)}${req.path}`, {
          headers,
          signal,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw new DnsProviderError(
          api.code,
          operation,
          `the ${api.apiName} API did not answer: ${this.redact((err as Error).message)}; check the network, ` +
            `the proxy settings and ${api.urlVariable}`,
          { cause: err },
        );
      }
      // The path only: a query may carry a credential.
      this.#logger.debug(
        {
          provider: api.code,
          operation,
          method: req.method,
          path: req.path.split('?')[0],
          status: res.status,
        },
        `${api.code}: API call`,
      );
      const retryable = api.retryable ? api.retryable(res) : res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= retries) return res;
      const wait = Math.min(
        MAX_RETRY_WAIT_MS,
        retryAfterOf(res.headers, this.#clock.now()) ?? 1000 * 2 ** attempt,
      );
      this.#logger.info(
        { provider: api.code, status: res.status, waitMs: wait },
        `${api.code}: the API answered ${res.status}; trying again in ${Math.ceil(wait / 1000)} s`,
      );
      await this.#clock.sleep(wait, signal);
    }
  }

  /** A DnsProviderError for an unexpected answer, with the API's words (secrets cut out) and what to do. */
  error(operation: DnsOperation, res: HttpResponse, what: string): DnsProviderError {
    const api = this.#api;
    const status = res.status;
    const own = api.errorDetail?.(res.body, status) ?? genericDetail(res.body);
    const detail = this.redact(`HTTP ${status}${own ? `, ${own.slice(0, 300)}` : ''}`);
    let message: string;
    if (status === 401 || status === 403) {
      message = `credentials refused while trying to ${what} (${detail}): check ${api.credentialVariables} and what they are allowed to change`;
    } else if (status === 404) {
      message = `not found while trying to ${what} (${detail}): check that the zone is in the account of ${api.credentialVariables}`;
    } else if (status === 429) {
      const ms = retryAfterOf(res.headers, this.#clock.now());
      message = `rate limited while trying to ${what} (${detail}); ${ms === undefined ? 'retry in a few minutes' : `retry after ${Math.ceil(ms / 1000)} s`}`;
    } else if (status >= 500) {
      message = `${api.apiName} API error while trying to ${what} (${detail}); try again in a few minutes`;
    } else {
      message = `${api.apiName} refused to ${what} (${detail})`;
    }
    return new DnsProviderError(api.code, operation, message, { status });
  }

  redact(text: string): string {
    return redactSecrets(text, this.#api.secrets(this.#config));
  }
}

/** Common fields APIs put their error text in. */
function genericDetail(body: Buffer): string | undefined {
  const json = parseJsonObject(body);
  if (!json) return undefined;
  const pick = (v: unknown): string | undefined =>
    typeof v === 'string'
      ? v
      : v && typeof v === 'object'
        ? pick((v as { message?: unknown }).message)
        : undefined;
  const firstError = Array.isArray(json.errors) ? json.errors[0] : undefined;
  return pick(json.message) ?? pick(json.error) ?? pick(json.detail) ?? pick(firstError);
}

function key(record: TxtRecord): string {
  return `${unFqdn(record.fqdn).toLowerCase()} ${record.value}`;
}

/** TXT values as some APIs list them, quoted (and split in 255-byte strings): the plain value. */
export function unquoteTxt(value: string): string {
  const parts = value.match(/"((?:[^"\\]|\\.)*)"/g);
  return parts ? parts.map((p) => p.slice(1, -1).replace(/\\(.)/g, '$1')).join('') : value;
}

/** `request` with `headers` added (an authorization header, an API key): what most `authorize` do. */
export function withHeaders(request: RestRequest, headers: Record<string, string>): RestRequest {
  return { ...request, headers: { ...request.headers, ...headers } };
}
