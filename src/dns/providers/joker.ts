import { InvalidInputError } from '../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../errors/dns.ts';
import { Secret } from '../../internal/secret.ts';
import type { HttpResponse } from '../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type ListedTxt, type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// Joker.com, in the two modes lego offers (JOKER_API_MODE):
//
// DMAPI (default), the reseller Domain Management API: https://joker.com/faq/books/reseller-documentation-en
// (pages "Commonalities for all requests", "Modify Zonedata"). Form POSTs to
// https://dmapi.joker.com/request/<command>; the answer is header lines (Status-Code, Status-Text, Error,
// Auth-Sid…), an empty line, then the body. "login" (username and password, or api-key) gives the session
// id Auth-Sid that every other request carries as auth-sid. "dns-zone-get" answers the whole zone, one
// record a line ("<label> <type> <pri> <target> <ttl> …", "@" at the apex, targets with spaces quoted) and
// "dns-zone-put" replaces the whole zone: a TXT record is added or removed by rewriting the zone.
//
// SVC, the Dynamic DNS service Joker documents for Let's Encrypt
// (https://joker.com/faq/content/6/496/en/let_s-encrypt-support.html): POST to
// https://svc.joker.com/nic/replace with the Dynamic DNS username and password of the domain, zone, label,
// type=TXT and value; it replaces every TXT value of the label (an empty value removes them), and answers
// "OK…". One value per name only: certificates for example.com and *.example.com need DMAPI.

const CODE = 'joker';
const DMAPI_URL = 'https://dmapi.joker.com/request';
const SVC_URL = 'https://svc.joker.com/nic/replace';
/** Joker's smallest TTL for TXT records. */
const MIN_TTL = 60;
/** Joker ends a session after an hour without requests; a new login comes a little earlier. */
const SESSION_IDLE_MS = 55 * 60_000;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' };

interface JokerConfig {
  readonly mode: 'DMAPI' | 'SVC';
  readonly username: string | undefined;
  readonly password: Secret | undefined;
  readonly apiKey: Secret | undefined;
  readonly dmapiUrl: string;
  readonly svcUrl: string;
}

/** A DMAPI answer: its header lines and body. */
interface DmapiAnswer {
  readonly headers: Map<string, string>;
  readonly body: string;
  readonly statusCode: number | undefined;
}

function parseDmapi(text: string): DmapiAnswer {
  const normal = text.replace(/\r\n/g, '\n');
  const cut = normal.indexOf('\n\n');
  const head = cut < 0 ? normal : normal.slice(0, cut);
  const body = cut < 0 ? '' : normal.slice(cut + 2);
  const headers = new Map<string, string>();
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}; ${value}` : value);
  }
  const code = headers.get('status-code');
  return { headers, body, statusCode: code !== undefined && /^-?\d+$/.test(code) ? Number(code) : undefined };
}

function dmapiWords(a: DmapiAnswer): string {
  return [a.headers.get('status-text'), a.headers.get('error')].filter((x) => x).join(': ') || 'no detail';
}

/** The DMAPI session: logs in when there is none (or it idled out); one login at a time. */
class DmapiSession {
  readonly #config: JokerConfig;
  readonly #http: ProviderHttp;
  #sid: { value: Secret; lastUse: number } | undefined;
  #pending: Promise<Secret> | undefined;

  constructor(config: JokerConfig, http: ProviderHttp) {
    this.#config = config;
    this.#http = http;
  }

  secrets(): Secret[] {
    return this.#sid ? [this.#sid.value] : [];
  }

  drop(sid: Secret): void {
    if (this.#sid?.value === sid) this.#sid = undefined;
  }

  sid(now: number, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    if (this.#sid && now - this.#sid.lastUse < SESSION_IDLE_MS) {
      this.#sid.lastUse = now;
      return Promise.resolve(this.#sid.value);
    }
    this.#pending ??= this.#login(now, operation, signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #login(now: number, operation: DnsOperation, signal: AbortSignal): Promise<Secret> {
    const c = this.#config;
    const secrets = [c.password, c.apiKey].filter((s): s is Secret => s !== undefined);
    const fail = (message: string, status?: number, cause?: unknown) => {
      let text = message;
      for (const s of secrets) text = text.split(s.reveal()).join('[redacted]');
      return new DnsProviderError(CODE, operation, text, {
        ...(status !== undefined ? { status } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    };
    // As lego: the user name and password when both are set, the API key otherwise.
    const form =
      c.username !== undefined && c.password !== undefined
        ? new URLSearchParams({ username: c.username, password: c.password.reveal() })
        : new URLSearchParams({ 'api-key': c.apiKey!.reveal() });
    let res: HttpResponse;
    try {
      res = await this.#http.request('POST', `${c.dmapiUrl}/login`, {
        headers: FORM,
        body: form.toString(),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw fail(
        `the Joker DMAPI did not answer the login: ${(err as Error).message}; check the network, the proxy ` +
          'settings and JOKER_DMAPI_URL',
        undefined,
        err,
      );
    }
    const answer = parseDmapi(res.body.toString('utf8'));
    const sid = answer.headers.get('auth-sid');
    if (
      res.status === 401 ||
      res.status === 403 ||
      (answer.statusCode !== undefined && answer.statusCode !== 0) ||
      !sid
    ) {
      if (res.status >= 500 || res.status === 429)
        throw fail(
          `the Joker DMAPI login failed (HTTP ${res.status}); try again in a few minutes`,
          res.status,
        );
      throw fail(
        `credentials refused by the Joker DMAPI login (HTTP ${res.status}, ${dmapiWords(answer)}): check ` +
          'JOKER_USERNAME and JOKER_PASSWORD (the Joker.com account), or JOKER_API_KEY',
        res.status,
      );
    }
    const value = new Secret(sid);
    this.#sid = { value, lastUse: now };
    return value;
  }
}

interface JokerRuntime extends JokerConfig {
  readonly session: DmapiSession;
  /** Zone name → the last zone rewrite queued: one read-modify-write of a zone at a time. */
  readonly zoneWrites: Map<string, Promise<unknown>>;
  /** SVC: the value this instance published at each name. */
  readonly published: Map<string, string>;
}

/** One DMAPI command in the session; a session the API no longer knows is replaced once. */
async function dmapi(
  c: JokerRuntime,
  ctx: RestCallContext,
  command: string,
  params: Record<string, string>,
  what: string,
): Promise<DmapiAnswer> {
  for (let attempt = 1; ; attempt++) {
    const sid = await c.session.sid(Date.now(), ctx.operation, ctx.signal);
    const res = await ctx.send({
      method: 'POST',
      path: `/${command}`,
      headers: FORM,
      rawBody: new URLSearchParams({ ...params, 'auth-sid': sid.reveal() }).toString(),
    });
    if (res.status === 401 && attempt === 1) {
      c.session.drop(sid);
      continue;
    }
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    const answer = parseDmapi(res.body.toString('utf8'));
    if (answer.statusCode === undefined)
      throw ctx.fail(`the Joker DMAPI answered ${what} without a Status-Code`);
    if (answer.statusCode !== 0) throw ctx.fail(`Joker refused to ${what} (${dmapiWords(answer)})`);
    return answer;
  }
}

/** The words of one zone line, with double-quoted words (\" escapes) unquoted. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** Whether a zone line is the TXT record `value` at `label`. */
function isTxt(line: string, label: string, value?: string): boolean {
  const w = words(line);
  return (
    w.length >= 4 &&
    w[0]!.toLowerCase() === label &&
    w[1]!.toUpperCase() === 'TXT' &&
    (value === undefined || w[3] === value)
  );
}

/** Runs `write` after the zone rewrites already queued for the zone in this instance. */
async function oneZoneWrite<T>(c: JokerRuntime, zone: string, write: () => Promise<T>): Promise<T> {
  const run = (c.zoneWrites.get(zone) ?? Promise.resolve()).then(write);
  const settled = run.catch(() => {});
  c.zoneWrites.set(zone, settled);
  try {
    return await run;
  } finally {
    if (c.zoneWrites.get(zone) === settled) c.zoneWrites.delete(zone);
  }
}

async function zoneLines(c: JokerRuntime, ctx: RestCallContext, zone: string): Promise<string[]> {
  const answer = await dmapi(c, ctx, 'dns-zone-get', { domain: zone }, `read the zone ${zone}`);
  return answer.body.split('\n').filter((l) => l.trim() !== '');
}

async function putZone(c: JokerRuntime, ctx: RestCallContext, zone: string, lines: string[], what: string) {
  await dmapi(c, ctx, 'dns-zone-put', { domain: zone, zone: lines.join('\n') }, what);
}

const dmapiApi: RestApi<JokerRuntime> = {
  code: CODE,
  apiName: 'Joker',
  urlVariable: 'JOKER_DMAPI_URL',
  credentialVariables: 'JOKER_USERNAME and JOKER_PASSWORD, or JOKER_API_KEY',
  baseUrl: (c) => c.dmapiUrl,
  secrets: (c) => [c.password, c.apiKey, ...c.session.secrets()].filter((s): s is Secret => s !== undefined),
  // The session id travels in the form, added by each command.
  authorize: (_c, req) => req,
  async list(c, record, zone, ctx) {
    const label = host(record);
    const found: ListedTxt[] = [];
    for (const line of await zoneLines(c, ctx, zone)) {
      if (isTxt(line, label)) found.push({ id: words(line)[3]!, value: words(line)[3]! });
    }
    return found;
  },
  async create(c, record, zone, ctx) {
    const label = host(record);
    await oneZoneWrite(c, zone, async () => {
      const lines = await zoneLines(c, ctx, zone);
      if (lines.some((l) => isTxt(l, label, record.value))) return;
      lines.push(`${label} TXT 0 "${record.value}" ${Math.max(MIN_TTL, record.ttl)}`);
      await putZone(c, ctx, zone, lines, `create the TXT record ${record.fqdn}`);
    });
    return record.value;
  },
  async remove(c, record, zone, value, ctx) {
    const label = host(record);
    await oneZoneWrite(c, zone, async () => {
      const lines = await zoneLines(c, ctx, zone);
      const kept = lines.filter((l) => !isTxt(l, label, value));
      // Already gone: nothing to write, which is what cleanup wants.
      if (kept.length === lines.length) return;
      await putZone(c, ctx, zone, kept, `delete the TXT record ${record.fqdn}`);
    });
  },
};

/** One SVC replace of the TXT values at a label ("" removes them). */
async function svcReplace(
  c: JokerRuntime,
  ctx: RestCallContext,
  record: TxtRecord,
  zone: string,
  value: string,
) {
  const what = value ? `publish the TXT record ${record.fqdn}` : `delete the TXT record ${record.fqdn}`;
  const res = await ctx.send({
    method: 'POST',
    path: '',
    headers: FORM,
    rawBody: new URLSearchParams({
      username: c.username!,
      password: c.password!.reveal(),
      zone,
      label: host(record),
      type: 'TXT',
      value,
    }).toString(),
  });
  const text = res.body.toString('utf8').trim();
  if (res.status >= 200 && res.status < 300 && text.startsWith('OK')) return;
  if (res.status === 401 || res.status === 403 || /badauth|auth/i.test(text))
    throw ctx.fail(
      `credentials refused while trying to ${what} (HTTP ${res.status}, ${text.slice(0, 200) || 'no detail'}): check ` +
        'JOKER_USERNAME and JOKER_PASSWORD (the Dynamic DNS credentials shown in the DNS settings of the domain)',
    );
  if (res.status === 429 || res.status >= 500) throw ctx.refused(res, what);
  throw ctx.fail(`Joker refused to ${what} (HTTP ${res.status}, ${text.slice(0, 200) || 'no detail'})`);
}

const svcApi: RestApi<JokerRuntime> = {
  code: CODE,
  apiName: 'Joker Dynamic DNS',
  urlVariable: 'JOKER_SVC_URL',
  credentialVariables: 'JOKER_USERNAME and JOKER_PASSWORD (the Dynamic DNS credentials of the domain)',
  baseUrl: (c) => c.svcUrl,
  secrets: (c) => [c.password].filter((s): s is Secret => s !== undefined),
  authorize: (_c, req) => req,
  // A second value at a name must see the first one published, to be refused rather than replace it.
  oneWriterPerName: true,
  // The service cannot list: what this instance published is known, anything else may be there.
  async list(c, record, _zone, ctx) {
    const mine = c.published.get(record.fqdn.toLowerCase());
    if (mine !== undefined) return [{ id: mine, value: mine }];
    // A cleanup after a restart clears the name, as lego does; a present publishes.
    return ctx.operation === 'cleanup' ? [{ id: record.value, value: record.value }] : [];
  },
  async create(c, record, zone, ctx) {
    const name = record.fqdn.toLowerCase();
    const other = c.published.get(name);
    if (other !== undefined && other !== record.value)
      throw ctx.fail(
        `the Joker Dynamic DNS service keeps one TXT value per name, and ${record.fqdn} holds another one for this ` +
          'certificate: use JOKER_API_MODE=DMAPI for example.com and *.example.com together, or request them apart',
      );
    await svcReplace(c, ctx, record, zone, record.value);
    c.published.set(name, record.value);
    return record.value;
  },
  async remove(c, record, zone, value, ctx) {
    const name = record.fqdn.toLowerCase();
    const mine = c.published.get(name);
    // Another value of this instance stands there now: this one is gone already.
    if (mine !== undefined && mine !== value) return;
    await svcReplace(c, ctx, record, zone, '');
    c.published.delete(name);
  },
};

/** Joker names records relative to the zone, "@" at the apex. */
function host(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

export const definition = {
  code: CODE,
  title: 'Joker.com',
  description:
    'Adds the TXT records through the Joker.com DMAPI (rewriting the zone, with the account or an API key), ' +
    'or with JOKER_API_MODE=SVC through the Dynamic DNS service of the domain (one value per name).',
  docsUrl: 'https://joker.com/faq/books/reseller-documentation-en/page/modify-zonedata',
  permissions:
    'DMAPI: JOKER_USERNAME / JOKER_PASSWORD of the Joker.com account, or JOKER_API_KEY (My Profile → Manage API ' +
    'access keys) not limited to read-only. SVC: the Dynamic DNS username and password shown under DNS → ' +
    'Dynamic DNS of the domain.',
  example: [
    'JOKER_API_MODE=DMAPI \\',
    'JOKER_API_KEY=xxxxxxxx \\',
    "  acmekit --dns joker --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'JOKER',
  // lego's joker defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000, httpTimeoutMs: 60_000 },
  env: [
    {
      name: 'JOKER_API_MODE',
      description: 'DMAPI (reseller API) or SVC (Dynamic DNS service)',
      default: 'DMAPI',
    },
    { name: 'JOKER_USERNAME', description: 'Joker.com user name (SVC: the Dynamic DNS user name)' },
    {
      name: 'JOKER_PASSWORD',
      description: 'Joker.com password (SVC: the Dynamic DNS password)',
      secret: true,
    },
    { name: 'JOKER_API_KEY', description: 'DMAPI API key, instead of user name and password', secret: true },
    {
      name: 'JOKER_SEQUENCE_INTERVAL',
      description:
        "lego's pause between records presented one after another in SVC mode, seconds; accepted for lego's env " +
        'files, acmekit publishes the records together',
      default: '60',
    },
    { name: 'JOKER_DMAPI_URL', description: 'DMAPI base URL, for tests or a proxy', default: DMAPI_URL },
    { name: 'JOKER_SVC_URL', description: 'Dynamic DNS replace URL, for tests or a proxy', default: SVC_URL },
  ],
  configure(env): JokerConfig {
    env.durationMs('JOKER_SEQUENCE_INTERVAL', 60_000);
    const rawMode = (env.string('JOKER_API_MODE') ?? 'DMAPI').toUpperCase();
    if (rawMode !== 'DMAPI' && rawMode !== 'SVC')
      throw new InvalidInputError(
        `${CODE}: JOKER_API_MODE must be DMAPI or SVC, got ${JSON.stringify(rawMode)}`,
        rawMode,
      );
    const username = env.string('JOKER_USERNAME');
    const password = env.secret('JOKER_PASSWORD');
    const apiKey = env.secret('JOKER_API_KEY');
    if (rawMode === 'SVC') {
      env.required('JOKER_USERNAME');
      env.required('JOKER_PASSWORD');
    } else if (!apiKey && (username === undefined || password === undefined)) {
      throw new InvalidInputError(
        `${CODE}: set JOKER_API_KEY, or JOKER_USERNAME and JOKER_PASSWORD, for the DMAPI (or their _FILE variants); ` +
          '`acmekit dns help joker` lists every variable',
        'JOKER_API_KEY',
      );
    }
    return {
      mode: rawMode,
      username,
      password,
      apiKey,
      dmapiUrl: apiUrlSetting(env, CODE, 'JOKER_DMAPI_URL', DMAPI_URL),
      svcUrl: apiUrlSetting(env, CODE, 'JOKER_SVC_URL', SVC_URL),
    };
  },
  create(config, deps) {
    const runtime: JokerRuntime = {
      ...config,
      session: new DmapiSession(config, deps.http),
      zoneWrites: new Map(),
      published: new Map(),
    };
    return new RestDnsProvider(config.mode === 'SVC' ? svcApi : dmapiApi, runtime, deps);
  },
} satisfies DnsProviderDefinition<JokerConfig>;
