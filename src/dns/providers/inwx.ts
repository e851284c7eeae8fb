import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import type { Clock } from '../../internal/clock.ts';
import { type Logger, loggedWait } from '../../internal/logger.ts';
import { Secret } from '../../internal/secret.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';
import { base32Decode, inwxTan, TOTP_STEP_MS, totpStep } from './inwx-totp.ts';

// INWX DomRobot API over JSON-RPC: https://www.inwx.de/en/help/apidoc (account.login, account.unlock,
// nameserver.info, nameserver.createRecord, nameserver.deleteRecord). Every call is a POST of
// {method, params} to https://api.domrobot.com/jsonrpc/ (the OTE sandbox: api.ote.domrobot.com) and
// answers {code, msg, reason?, resData?}: 1000–1500 is success, 2200 an authentication error, 2302 an
// object that exists, 2303 one that does not. account.login sets the session cookie "domrobot"; when
// the account has two-factor authentication (resData.tfa "GOOGLE-AUTH"), account.unlock with a TOTP code
// (inwx-totp.ts) opens the session. A TOTP code is accepted once, so a second unlock waits for the next
// 30-second step. Records are named by their full name.

const CODE = 'inwx';
const DEFAULT_API_URL = 'https://api.domrobot.com/jsonrpc';
const SANDBOX_API_URL = 'https://api.ote.domrobot.com/jsonrpc';
/** INWX refuses TTLs below 300 s. */
const MIN_TTL = 300;
const AUTH_ERROR = 2200;
const OBJECT_EXISTS = 2302;
const OBJECT_MISSING = 2303;

interface InwxConfig {
  readonly username: string;
  readonly password: Secret;
  readonly sharedSecret: Secret | undefined;
  readonly apiUrl: string;
}

interface Answer {
  readonly code: number;
  readonly msg: string;
  readonly reason?: string;
  readonly resData?: Record<string, unknown>;
}

/** The last TOTP step used to unlock each account in this process: INWX takes a code only once. */
const lastUnlockStep = new Map<string, number>();

function words(a: Answer): string {
  return `code ${a.code}: ${a.msg}${a.reason ? ` (${a.reason})` : ''}`;
}

function readAnswer(body: Buffer): Answer | undefined {
  const json = parseJsonObject(body);
  if (!json || typeof json.code !== 'number') return undefined;
  return {
    code: json.code,
    msg: typeof json.msg === 'string' ? json.msg : '',
    ...(typeof json.reason === 'string' ? { reason: json.reason } : {}),
    ...(json.resData && typeof json.resData === 'object'
      ? { resData: json.resData as Record<string, unknown> }
      : {}),
  };
}

const succeeded = (a: Answer) => a.code >= 1000 && a.code < 1500;

/** The DomRobot session: logs in (and unlocks) when there is none; one login at a time. */
class InwxSession {
  readonly #config: InwxConfig;
  readonly #http: ProviderHttp;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #cookie: Secret | undefined;
  #pending: Promise<Secret> | undefined;

  constructor(config: InwxConfig, http: ProviderHttp, logger: Logger, clock: Clock) {
    this.#config = config;
    this.#http = http;
    this.#logger = logger;
    this.#clock = clock;
  }

  secrets(): Secret[] {
    return this.#cookie ? [this.#cookie] : [];
  }

  /** Forgets a session the API no longer accepts. */
  drop(cookie: Secret): void {
    if (this.#cookie === cookie) this.#cookie = undefined;
  }

  cookie(operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    if (this.#cookie) return Promise.resolve(this.#cookie);
    this.#pending ??= this.#login(operation, signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #call(
    method: string,
    params: Record<string, unknown>,
    cookie: Secret | undefined,
    operation: DnsOperation,
    signal: AbortSignal,
  ): Promise<{ answer: Answer; res: HttpResponse }> {
    const c = this.#config;
    const fail = (message: string, status?: number) =>
      new DnsProviderError(CODE, operation, this.#redact(message), status !== undefined ? { status } : {});
    let res: HttpResponse;
    try {
      res = await this.#http.request('POST', `${c.apiUrl}/`, {
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          ...(cookie ? { cookie: `domrobot=${cookie.reveal()}` } : {}),
        },
        body: JSON.stringify({ method, params }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new DnsProviderError(
        CODE,
        operation,
        `the INWX API did not answer ${method}: ${this.#redact((err as Error).message)}; check the network, the ` +
          'proxy settings, INWX_SANDBOX and INWX_API_URL',
        { cause: err },
      );
    }
    const answer = readAnswer(res.body);
    if (!answer)
      throw fail(
        `the INWX API answered ${method} with HTTP ${res.status} and no DomRobot answer; try again in a few minutes`,
        res.status,
      );
    return { answer, res };
  }

  #redact(text: string): string {
    let out = text;
    for (const s of [this.#config.password, this.#config.sharedSecret, this.#cookie])
      if (s?.reveal()) out = out.split(s.reveal()).join('[redacted]');
    return out;
  }

  async #login(operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    const c = this.#config;
    const fail = (message: string) => new DnsProviderError(CODE, operation, this.#redact(message));
    const { answer, res } = await this.#call(
      'account.login',
      { user: c.username, pass: c.password.reveal() },
      undefined,
      operation,
      signal,
    );
    if (answer.code === AUTH_ERROR)
      throw fail(
        `credentials refused by account.login (${words(answer)}): check INWX_USERNAME and INWX_PASSWORD`,
      );
    if (!succeeded(answer)) throw fail(`INWX refused account.login (${words(answer)})`);
    const cookie = sessionCookie(res);
    if (!cookie) throw fail('account.login succeeded without a session cookie; try again in a few minutes');
    const tfa = answer.resData?.tfa;
    if (tfa !== undefined && tfa !== '0' && tfa !== 0 && tfa !== '') {
      if (!c.sharedSecret)
        throw fail(
          `the INWX account asks for two-factor authentication (${String(tfa)}): set INWX_SHARED_SECRET to the ` +
            'shared secret of its authenticator',
        );
      await this.#unlock(cookie, operation, signal);
    }
    this.#cookie = cookie;
    return cookie;
  }

  /** account.unlock with the code of a TOTP step not used before in this process. */
  async #unlock(cookie: Secret, operation: DnsOperation, signal: AbortSignal): Promise<void> {
    const c = this.#config;
    const clock = this.#clock;
    const previous = lastUnlockStep.get(c.username);
    let at = clock.now();
    if (previous !== undefined && totpStep(at) <= previous) {
      const next = (previous + 1) * TOTP_STEP_MS;
      await loggedWait(
        this.#logger,
        {
          kind: 'dns-delay',
          waitFor: 'INWX two-factor code',
          delayMs: next - at,
          fields: { provider: CODE },
        },
        {
          start: 'inwx: waiting for the next two-factor code',
          done: 'inwx: done waiting for the next two-factor code',
        },
        () => clock.sleep(next - at, signal),
        () => clock.now(),
      );
      at = Math.max(clock.now(), next);
    }
    lastUnlockStep.set(c.username, totpStep(at));
    const tan = inwxTan(c.sharedSecret!, at);
    const { answer } = await this.#call('account.unlock', { tan }, cookie, operation, signal);
    if (answer.code === AUTH_ERROR)
      throw new DnsProviderError(
        CODE,
        operation,
        this.#redact(
          `the two-factor code was refused by account.unlock (${words(answer)}): check INWX_SHARED_SECRET and ` +
            'the clock of this machine',
        ),
      );
    if (!succeeded(answer))
      throw new DnsProviderError(
        CODE,
        operation,
        this.#redact(`INWX refused account.unlock (${words(answer)})`),
      );
  }
}

/** The value of the "domrobot" cookie an answer sets. */
function sessionCookie(res: HttpResponse): Secret | undefined {
  const raw = res.headers['set-cookie'];
  for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const m = /^\s*domrobot=([^;]*)/.exec(line);
    if (m?.[1]) return new Secret(m[1]);
  }
  return undefined;
}

interface InwxRuntime extends InwxConfig {
  readonly session: InwxSession;
}

/**
 * One DomRobot method in the session. A session the API no longer accepts is dropped and the call made
 * once more with a new login; an answer outside 1000–1500 is returned for the caller to judge.
 */
async function call(
  c: InwxRuntime,
  ctx: RestCallContext,
  method: string,
  params: Record<string, unknown>,
  what: string,
): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const cookie = await c.session.cookie(ctx.operation, ctx.signal);
    const res = await ctx.send({
      method: 'POST',
      path: '/',
      headers: { cookie: `domrobot=${cookie.reveal()}` },
      body: { method, params },
    });
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    const answer = readAnswer(res.body);
    if (!answer) throw ctx.fail(`the INWX API answered ${what} without a DomRobot answer`);
    if (answer.code === AUTH_ERROR && attempt === 1) {
      c.session.drop(cookie);
      continue;
    }
    return answer;
  }
}

function refused(ctx: RestCallContext, answer: Answer, what: string) {
  if (answer.code === AUTH_ERROR)
    return ctx.fail(
      `credentials refused while trying to ${what} (${words(answer)}): check INWX_USERNAME, INWX_PASSWORD and ` +
        'what the account may change',
    );
  return ctx.fail(`INWX refused to ${what} (${words(answer)})`);
}

const api: RestApi<InwxRuntime> = {
  code: CODE,
  apiName: 'INWX',
  urlVariable: 'INWX_API_URL (or INWX_SANDBOX)',
  credentialVariables: 'INWX_USERNAME and INWX_PASSWORD',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.password, ...(c.sharedSecret ? [c.sharedSecret] : []), ...c.session.secrets()],
  // The session cookie is added by each call (it can change between tries after a new login).
  authorize: (_c, req) => req,
  async list(c, record, domain, ctx) {
    const name = fullName(record);
    const what = `list the TXT records of ${record.fqdn}`;
    const answer = await call(c, ctx, 'nameserver.info', { domain, name, type: 'TXT' }, what);
    if (answer.code === OBJECT_MISSING)
      throw ctx.fail(
        `domain ${domain} has no nameserver zone in the INWX account of INWX_USERNAME (${words(answer)})`,
      );
    if (!succeeded(answer)) throw refused(ctx, answer, what);
    const rows = answer.resData?.record;
    return (
      Array.isArray(rows)
        ? (rows as { id?: unknown; name?: unknown; type?: unknown; content?: unknown }[])
        : []
    )
      .filter(
        (r) => r.type === 'TXT' && String(r.name).toLowerCase() === name && typeof r.content === 'string',
      )
      .filter((r) => typeof r.id === 'number' || typeof r.id === 'string')
      .map((r) => ({ id: String(r.id), value: r.content as string }));
  },
  async create(c, record, domain, ctx) {
    const what = `create the TXT record ${record.fqdn}`;
    const answer = await call(
      c,
      ctx,
      'nameserver.createRecord',
      {
        domain,
        name: fullName(record),
        type: 'TXT',
        content: record.value,
        ttl: Math.max(MIN_TTL, record.ttl),
      },
      what,
    );
    // Created meanwhile by another process: the value is there, which is what present wants.
    if (answer.code === OBJECT_EXISTS) return undefined;
    if (!succeeded(answer)) throw refused(ctx, answer, what);
    const id = answer.resData?.id;
    return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
  },
  async remove(c, record, _domain, id, ctx) {
    const what = `delete the TXT record ${record.fqdn}`;
    const answer = await call(
      c,
      ctx,
      'nameserver.deleteRecord',
      { id: /^\d+$/.test(id) ? Number(id) : id },
      what,
    );
    // 2303: already gone, which is what cleanup wants.
    if (answer.code === OBJECT_MISSING) return;
    if (!succeeded(answer)) throw refused(ctx, answer, what);
  },
};

/** INWX names records by their full name, without the trailing dot. */
function fullName(record: TxtRecord): string {
  return record.fqdn.replace(/\.$/, '').toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'INWX',
  description:
    'Adds the TXT records through the INWX DomRobot JSON-RPC API, in a session opened with the account ' +
    'password and, for accounts with two-factor authentication, a TOTP code from INWX_SHARED_SECRET.',
  docsUrl: 'https://www.inwx.de/en/help/apidoc',
  permissions:
    'INWX_USERNAME / INWX_PASSWORD: an INWX account (or sub-account) allowed to change the nameserver records ' +
    'of the domain. With two-factor authentication, INWX_SHARED_SECRET is the base32 secret shown when it was ' +
    'set up (the text behind the QR code).',
  example: [
    'INWX_USERNAME=xxxxxxxxxx \\',
    'INWX_PASSWORD=yyyyyyyyyy \\',
    'INWX_SHARED_SECRET=zzzzzzzzzz \\',
    "  acmekit --dns inwx --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'INWX',
  // lego's inwx defaults (INWX takes TTLs of 300 s and more).
  defaults: { ttl: MIN_TTL, propagationTimeoutMs: 360_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'INWX_USERNAME', description: 'account user name', required: true },
    { name: 'INWX_PASSWORD', description: 'account password', required: true, secret: true },
    {
      name: 'INWX_SHARED_SECRET',
      description: 'base32 shared secret of the two-factor authentication, when the account uses it',
      secret: true,
    },
    { name: 'INWX_SANDBOX', description: 'use the OTE test system (api.ote.domrobot.com)', default: 'false' },
    {
      name: 'INWX_API_URL',
      description: 'JSON-RPC endpoint URL, for tests or a proxy (overrides INWX_SANDBOX)',
      default: DEFAULT_API_URL,
    },
  ],
  configure(env) {
    const sharedSecret = env.secret('INWX_SHARED_SECRET');
    if (sharedSecret && !base32Decode(sharedSecret.reveal()))
      throw new InvalidInputError(
        `${CODE}: INWX_SHARED_SECRET must be the base32 secret of the two-factor authentication (letters A–Z and digits 2–7)`,
        'INWX_SHARED_SECRET',
      );
    const fallback = env.bool('INWX_SANDBOX', false) ? SANDBOX_API_URL : DEFAULT_API_URL;
    return {
      username: env.required('INWX_USERNAME'),
      password: env.requiredSecret('INWX_PASSWORD'),
      sharedSecret,
      apiUrl: apiUrlSetting(env, CODE, 'INWX_API_URL', fallback),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(
      api,
      { ...config, session: new InwxSession(config, deps.http, deps.logger, deps.clock) },
      deps,
    );
  },
} satisfies DnsProviderDefinition<InwxConfig>;
