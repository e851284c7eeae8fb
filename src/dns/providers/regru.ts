import { InvalidInputError } from '../../errors/base.ts';
import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { TxtRecord } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// reg.ru API 2: https://www.reg.ru/support/help/api2 (zone/get_resource_records, zone/add_txt,
// zone/remove_record). Each call is a form POST of username, password, input_format=json and input_data
// (the call's parameters as JSON) to <base>/<category>/<method>. The answer is JSON with `result`
// "success" or "error" (error_code, error_text), also per domain in answer.domains, whatever the HTTP
// status. Records are named relative to the domain ("@" at the apex); remove_record deletes by content.

const CODE = 'regru';
const DEFAULT_API_URL = 'https://api.reg.ru/api/regru2';

interface RegruConfig {
  readonly username: string;
  readonly password: Secret;
  readonly apiUrl: string;
}

interface DomainAnswer {
  readonly dname?: unknown;
  readonly result?: unknown;
  readonly error_code?: unknown;
  readonly error_text?: unknown;
  readonly rrs?: unknown;
}

/** reg.ru names records relative to the domain, "@" at the apex. */
function subdomain(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

/** Calls one API method for one domain; that domain's part of the answer, else a DnsProviderError. */
async function call(
  c: RegruConfig,
  method: string,
  zone: string,
  params: Record<string, unknown>,
  what: string,
  ctx: RestCallContext,
): Promise<DomainAnswer> {
  const form = new URLSearchParams({
    username: c.username,
    password: c.password.reveal(),
    input_format: 'json',
    input_data: JSON.stringify({ domains: [{ dname: zone }], output_content_type: 'plain', ...params }),
  });
  const body = await ctx.json(
    {
      method: 'POST',
      path: `/${method}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: form.toString(),
    },
    what,
  );
  const domain = ((body.answer as { domains?: DomainAnswer[] } | undefined)?.domains ?? []).find(
    (d) => String(d.dname).toLowerCase() === zone,
  );
  const failed = body.result !== 'success' ? body : domain?.result !== 'success' ? domain : undefined;
  if (failed) {
    const code = String(failed.error_code ?? 'NO_ANSWER');
    const text = typeof failed.error_text === 'string' ? `: ${failed.error_text}` : '';
    const hint = /AUTH|PASSWORD|ACCESS_DENIED|NO_SUCH_USER/.test(code)
      ? 'check REGRU_USERNAME and REGRU_PASSWORD (the API password) and the IP addresses allowed to use the API'
      : /DOMAIN|SERVICE|DNS/.test(code)
        ? `check that ${zone} is in the reg.ru account of REGRU_USERNAME and uses reg.ru's DNS servers`
        : /RATE|EXCEEDED/.test(code)
          ? 'retry in a few minutes'
          : 'see the reg.ru API 2 error codes';
    throw ctx.fail(`reg.ru refused to ${what} (${code}${text}); ${hint}`);
  }
  return domain ?? {};
}

const api: RestApi<RegruConfig> = {
  code: CODE,
  apiName: 'reg.ru',
  urlVariable: 'REGRU_API_URL',
  credentialVariables: 'REGRU_USERNAME and REGRU_PASSWORD',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.password],
  authorize: (_c, req) => req,
  async list(c, record, zone, ctx) {
    const domain = await call(c, 'zone/get_resource_records', zone, {}, `list the records of ${zone}`, ctx);
    const name = subdomain(record);
    return (
      Array.isArray(domain.rrs)
        ? (domain.rrs as { rectype?: unknown; subname?: unknown; content?: unknown }[])
        : []
    )
      .filter(
        (r) =>
          r.rectype === 'TXT' && String(r.subname).toLowerCase() === name && typeof r.content === 'string',
      )
      .map((r) => ({ id: r.content as string, value: r.content as string }));
  },
  async create(c, record, zone, ctx) {
    await call(
      c,
      'zone/add_txt',
      zone,
      { subdomain: subdomain(record), text: record.value },
      `create the TXT record ${record.fqdn}`,
      ctx,
    );
    // No id: a cleanup lists the zone again, so a record removed meanwhile is not deleted twice.
    return undefined;
  },
  async remove(c, record, zone, content, ctx) {
    await call(
      c,
      'zone/remove_record',
      zone,
      { subdomain: subdomain(record), content, record_type: 'TXT' },
      `delete the TXT record ${record.fqdn}`,
      ctx,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'reg.ru',
  description: 'Adds the TXT records through the reg.ru API 2, with the account user name and API password.',
  docsUrl: 'https://www.reg.ru/support/help/api2',
  permissions:
    'REGRU_USERNAME / REGRU_PASSWORD: the account login and its API password (account settings → API), with the ' +
    "address acmekit runs from in the API's allowed IP list. Client-certificate login (REGRU_TLS_CERT, " +
    'REGRU_TLS_KEY) is not supported yet.',
  example: [
    'REGRU_USERNAME=xxxxxx \\',
    'REGRU_PASSWORD=yyyyyy \\',
    "  acmekit --dns regru --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'REGRU',
  // lego's regru defaults (the API sets TXT records without a TTL; REGRU_TTL is read for lego's env files).
  defaults: { ttl: 300, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 30_000 },
  env: [
    { name: 'REGRU_USERNAME', description: 'account user name', required: true },
    { name: 'REGRU_PASSWORD', description: 'API password', required: true, secret: true },
    {
      name: 'REGRU_TLS_CERT',
      description: 'client certificate (PEM) for certificate login; not supported yet: acmekit refuses it',
    },
    {
      name: 'REGRU_TLS_KEY',
      description: 'private key of REGRU_TLS_CERT; not supported yet: acmekit refuses it',
      secret: true,
    },
    { name: 'REGRU_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    if (env.string('REGRU_TLS_CERT') !== undefined || env.secret('REGRU_TLS_KEY') !== undefined) {
      throw new InvalidInputError(
        `${CODE}: REGRU_TLS_CERT / REGRU_TLS_KEY (client-certificate login to the reg.ru API) are not supported by ` +
          'acmekit yet; unset them and allow the IP address acmekit runs from in the reg.ru API settings instead',
        'REGRU_TLS_CERT',
      );
    }
    return {
      username: env.required('REGRU_USERNAME'),
      password: env.requiredSecret('REGRU_PASSWORD'),
      apiUrl: apiUrlSetting(env, CODE, 'REGRU_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<RegruConfig>;
