import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { parseJsonObject } from '../json-api.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// NS1 (IBM NS1 Connect) REST API v1: https://ns1.com/api
// The API key goes in the X-NSONE-Key header. A record is the set of answers of one name and type at
// /v1/zones/<zone>/<domain>/<type>: PUT creates it, POST changes it, DELETE removes it. A TXT value is one
// answer; values are added to and removed from the answers (read, change, write), so others survive.

const CODE = 'ns1';
const DEFAULT_API_URL = 'https://api.nsone.net/v1';

interface Ns1Config {
  readonly key: Secret;
  readonly apiUrl: string;
}

interface Answer {
  readonly answer?: unknown;
  readonly [k: string]: unknown;
}

function recordPath(zone: string, record: TxtRecord): string {
  return `/zones/${encodeURIComponent(zone)}/${encodeURIComponent(unFqdn(record.fqdn).toLowerCase())}/TXT`;
}

function txtOf(a: Answer): string | undefined {
  return Array.isArray(a.answer) && typeof a.answer[0] === 'string' ? a.answer[0] : undefined;
}

/** The record's answers, or undefined when the record does not exist (404). */
async function readAnswers(
  zone: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<Answer[] | undefined> {
  const what = `read the TXT record ${record.fqdn}`;
  const res = await ctx.send({ method: 'GET', path: recordPath(zone, record) });
  if (res.status === 404) return undefined;
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  const answers = parseJsonObject(res.body)?.answers;
  return Array.isArray(answers) ? (answers as Answer[]) : [];
}

const api: RestApi<Ns1Config> = {
  // One TXT set per name, read and written back whole: writes at one name take turns.
  oneWriterPerName: true,
  code: CODE,
  apiName: 'NS1',
  urlVariable: 'NS1_API_URL',
  credentialVariables: 'NS1_API_KEY (an API key allowed to manage the zone)',
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => [c.key],
  authorize: (c, req) => withHeaders(req, { 'x-nsone-key': c.key.reveal() }),
  async zoneRef(_c, zone, ctx) {
    const res = await ctx.send({ method: 'GET', path: `/zones/${encodeURIComponent(zone)}` });
    if (res.status === 404)
      throw ctx.fail(
        `zone ${zone} is not in the NS1 account of NS1_API_KEY: add it, or give the key access to it`,
      );
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, `find the zone ${zone}`);
    return zone;
  },
  async list(_c, record, zone, ctx) {
    return ((await readAnswers(zone, record, ctx)) ?? [])
      .map(txtOf)
      .filter((v): v is string => v !== undefined)
      .map((value) => ({ id: value, value }));
  },
  async create(_c, record, zone, ctx) {
    const answers = await readAnswers(zone, record, ctx);
    const add = { answer: [record.value] };
    if (answers === undefined) {
      await ctx.json(
        {
          method: 'PUT',
          path: recordPath(zone, record),
          body: {
            zone,
            domain: unFqdn(record.fqdn).toLowerCase(),
            type: 'TXT',
            ttl: record.ttl,
            answers: [add],
          },
        },
        `create the TXT record ${record.fqdn}`,
      );
    } else if (!answers.some((a) => txtOf(a) === record.value)) {
      await ctx.json(
        { method: 'POST', path: recordPath(zone, record), body: { answers: [...answers, add] } },
        `add an answer to the TXT record ${record.fqdn}`,
      );
    }
    return record.value;
  },
  async remove(_c, record, zone, value, ctx) {
    const answers = await readAnswers(zone, record, ctx);
    if (!answers) return;
    const rest = answers.filter((a) => txtOf(a) !== value);
    if (rest.length === answers.length) return;
    if (rest.length === 0) {
      await ctx.json(
        { method: 'DELETE', path: recordPath(zone, record) },
        `delete the TXT record ${record.fqdn}`,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
      return;
    }
    await ctx.json(
      { method: 'POST', path: recordPath(zone, record), body: { answers: rest } },
      `remove an answer from the TXT record ${record.fqdn}`,
    );
  },
};

export const definition = {
  code: CODE,
  title: 'NS1 (IBM NS1 Connect)',
  description: 'Adds the TXT records through the NS1 REST API v1, with an API key.',
  docsUrl: 'https://ns1.com/api',
  permissions:
    'NS1_API_KEY: an API key with "Manage zones" (DNS) permission on the zones of the certificates.',
  example: [
    'NS1_API_KEY=xxxx \\',
    "  acmekit --dns ns1 --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'NS1',
  // lego's ns1 defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 10_000 },
  env: [
    { name: 'NS1_API_KEY', description: 'API key', required: true, secret: true },
    { name: 'NS1_API_URL', description: 'API base URL, for tests or a proxy', default: DEFAULT_API_URL },
  ],
  configure(env) {
    return {
      key: env.requiredSecret('NS1_API_KEY'),
      apiUrl: apiUrlSetting(env, CODE, 'NS1_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<Ns1Config>;
