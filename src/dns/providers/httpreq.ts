import { InvalidInputError } from '../../errors/base.ts';
import { DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import type { Logger } from '../../internal/logger.ts';
import { redactSecrets } from '../../internal/redact.ts';
import { Secret } from '../../internal/secret.ts';
import { retryAfterOf } from '../../protocol/retry-after.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { type DnsProvider, type TxtRecord, toFqdn, unFqdn } from '../provider.ts';

const CODE = 'httpreq';

interface HttpReqConfig {
  /** The endpoint; `/present` and `/cleanup` are appended to its path. */
  readonly endpoint: URL;
  readonly raw: boolean;
  /** `Basic base64(user:password)`, when both are set. */
  readonly authorization: Secret | undefined;
  /** Held only to cut them out of server text that echoes them. */
  readonly secrets: readonly Secret[];
}

export const definition = {
  code: CODE,
  title: 'HTTP request',
  description:
    "POSTs each record to your own HTTP service, as lego's httpreq does: `/present` and `/cleanup` under " +
    'HTTPREQ_ENDPOINT, with the JSON body {"fqdn": "_acme-challenge.example.com.", "value": "..."}, or in ' +
    'RAW mode {"domain": "example.com", "token": "...", "keyAuth": "..."} for services that compute the value. ' +
    'Any 2xx answer is success.',
  docsUrl: 'https://go-acme.github.io/lego/dns/httpreq/',
  permissions:
    'whatever your service checks; acmekit sends HTTP Basic authentication when HTTPREQ_USERNAME is set',
  example: [
    'HTTPREQ_ENDPOINT=https://dns-agent.internal:9090 \\',
    'HTTPREQ_USERNAME=acme HTTPREQ_PASSWORD=s3cret \\',
    "  acmekit --dns httpreq --domains example.com --domains '*.example.com' --email you@example.com run",
    '# then: POST https://dns-agent.internal:9090/present {"fqdn":"_acme-challenge.example.com.","value":"..."}',
  ].join('\n'),
  envPrefix: 'HTTPREQ',
  // lego's httpreq defaults.
  defaults: { propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'HTTPREQ_ENDPOINT',
      description: 'URL of your service; POST requests go to <URL>/present and <URL>/cleanup',
      required: true,
    },
    {
      name: 'HTTPREQ_MODE',
      description: 'RAW: send {domain, token, keyAuth} instead of {fqdn, value}',
    },
    { name: 'HTTPREQ_USERNAME', description: 'HTTP Basic authentication user name' },
    { name: 'HTTPREQ_PASSWORD', description: 'HTTP Basic authentication password', secret: true },
  ],
  configure(env) {
    const raw = env.required('HTTPREQ_ENDPOINT');
    let endpoint: URL;
    try {
      endpoint = new URL(raw);
    } catch {
      throw new InvalidInputError(
        `${CODE}: HTTPREQ_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`,
        raw,
      );
    }
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
      throw new InvalidInputError(
        `${CODE}: HTTPREQ_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`,
        raw,
      );
    }
    // Credentials in the URL would reach error messages and logs with it.
    if (endpoint.username || endpoint.password) {
      throw new InvalidInputError(
        `${CODE}: HTTPREQ_ENDPOINT must not carry a user name or password; set HTTPREQ_USERNAME and HTTPREQ_PASSWORD`,
        'HTTPREQ_ENDPOINT',
      );
    }
    const mode = env.string('HTTPREQ_MODE');
    if (mode !== undefined && mode !== 'RAW') {
      throw new InvalidInputError(
        `${CODE}: HTTPREQ_MODE must be RAW or unset (JSON {fqdn, value}), got ${JSON.stringify(mode)}`,
        mode,
      );
    }
    const username = env.string('HTTPREQ_USERNAME');
    const password = env.secret('HTTPREQ_PASSWORD');
    if ((username === undefined) !== (password === undefined)) {
      const missing = username === undefined ? 'HTTPREQ_USERNAME' : 'HTTPREQ_PASSWORD';
      throw new InvalidInputError(
        `${CODE}: ${missing} is not set; Basic authentication needs both HTTPREQ_USERNAME and HTTPREQ_PASSWORD`,
        missing,
      );
    }
    const basic =
      username !== undefined && password !== undefined
        ? new Secret(Buffer.from(`${username}:${password.reveal()}`).toString('base64'))
        : undefined;
    return {
      endpoint,
      raw: mode === 'RAW',
      authorization: basic ? new Secret(`Basic ${basic.reveal()}`) : undefined,
      secrets: basic && password ? [password, basic] : [],
    };
  },
  create(config, deps) {
    return new HttpReqProvider(config, deps.http, deps.logger, deps.clock);
  },
} satisfies DnsProviderDefinition<HttpReqConfig>;

type Action = 'present' | 'cleanup';

class HttpReqProvider implements DnsProvider {
  /** Writes by the full name: no zone lookup needed. */
  readonly zoneless = true;
  readonly #config: HttpReqConfig;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(config: HttpReqConfig, http: ProviderHttp, logger: Logger, clock: Clock) {
    this.#config = config;
    this.#http = http;
    this.#logger = logger;
    this.#clock = clock;
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#post('present', record, signal);
  }

  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#post('cleanup', record, signal);
  }

  async #post(action: Action, record: TxtRecord, signal: AbortSignal): Promise<void> {
    const url = new URL(this.#config.endpoint);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${action}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: '*/*' };
    if (this.#config.authorization) headers.authorization = this.#config.authorization.reveal();
    const body = this.#body(action, record);
    let res: HttpResponse;
    try {
      res = await this.#http.request('POST', url.href, { body, headers, signal });
    } catch (err) {
      // Cancellation stays the caller's AbortError; only transport failures become provider errors.
      if (signal.aborted) throw err;
      // The query string stays out of messages: some services take a key there.
      const reason = this.#redact(
        (err as Error).message.split(url.href).join(`${url.origin}${url.pathname}`),
      );
      throw new DnsProviderError(
        CODE,
        action,
        `${url.origin} did not answer: ${reason}; check that the service runs and HTTPREQ_ENDPOINT`,
        { cause: err },
      );
    }
    this.#logger.debug(
      { provider: CODE, operation: action, path: url.pathname, status: res.status, fqdn: record.fqdn },
      'httpreq: request',
    );
    if (res.status >= 200 && res.status < 300) return;
    throw this.#error(action, url, res);
  }

  /** lego's two bodies; RAW needs the ACME values, which only the dns-01 solver can give. */
  #body(action: Action, record: TxtRecord): string {
    if (!this.#config.raw) return JSON.stringify({ fqdn: toFqdn(record.fqdn), value: record.value });
    if (!record.acme) {
      throw new DnsProviderError(
        CODE,
        action,
        'HTTPREQ_MODE=RAW needs the ACME token and key authorization, which this caller did not give; ' +
          'unset HTTPREQ_MODE to send {fqdn, value}',
      );
    }
    // lego sends the identifier as the CA names it: no trailing dot.
    const { domain, token, keyAuthorization } = record.acme;
    return JSON.stringify({ domain: unFqdn(domain), token, keyAuth: keyAuthorization });
  }

  #error(action: Action, url: URL, res: HttpResponse): DnsProviderError {
    const status = res.status;
    const text = this.#redact(res.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200));
    const detail = `HTTP ${status}${text ? `: ${text}` : ''}`;
    const where = `${url.origin}${url.pathname}`;
    let message: string;
    if (status === 401 || status === 403) {
      message = this.#config.authorization
        ? `${where} refused the credentials (${detail}): check HTTPREQ_USERNAME and HTTPREQ_PASSWORD`
        : `${where} wants authentication (${detail}): set HTTPREQ_USERNAME and HTTPREQ_PASSWORD`;
    } else if (status === 429) {
      const ms = retryAfterOf(res.headers, this.#clock.now());
      message =
        `${where} is rate limiting (${detail}); ` +
        (ms === undefined ? 'retry later' : `retry after ${Math.ceil(ms / 1000)} s, as its Retry-After says`);
    } else if (status === 404) {
      message = `${where} does not exist (${detail}): check HTTPREQ_ENDPOINT (acmekit appends /present and /cleanup)`;
    } else if (status >= 500) {
      message = `${where} failed (${detail}); check the service's logs`;
    } else {
      message = `${where} refused the request (${detail})`;
    }
    return new DnsProviderError(CODE, action, message, { status });
  }

  /** Cuts secrets out of server text (a server may echo them); very short ones would mangle ordinary words. */
  #redact(text: string): string {
    return redactSecrets(text, this.#config.secrets);
  }
}
