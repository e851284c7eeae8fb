import { createPrivateKey } from 'node:crypto';
import { InvalidInputError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import type { Clock } from '../../../internal/clock.ts';
import { redactSecrets } from '../../../internal/redact.ts';
import { Secret } from '../../../internal/secret.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import type { DnsProviderDefinition, ProviderHttp } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import { type TxtRecord, toFqdn } from '../../provider.ts';
import {
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
  withHeaders,
} from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { type AuthorizedKey, serviceAccountJwt } from './jwt.ts';

// Yandex Cloud DNS API v1, REST (https://yandex.cloud/en/docs/dns/api-ref/DnsZone/): list the folder's
// zones (GET /dns/v1/zones?folderId=), read a record set (GET /dns/v1/zones/{id}:getRecordSet?name=&type=,
// 404 "RecordSet not found" when there is none) and change record sets (POST
// /dns/v1/zones/{id}:updateRecordSets with `deletions` that must match the stored set exactly and
// `additions`). Calls carry an IAM token (Authorization: Bearer), obtained by exchanging a PS256 JWT
// signed with a service account's authorized key (jwt.ts) at POST /iam/v1/tokens. lego's
// YANDEX_CLOUD_IAM_TOKEN holds that authorized key (the JSON `yc iam key create` writes), in base64.

const CODE = 'yandexcloud';
const DEFAULT_API_URL = 'https://dns.api.cloud.yandex.net';
const DEFAULT_IAM_URL = 'https://iam.api.cloud.yandex.net';
/** An IAM token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;
const PAGE_SIZE = 1000;
const MAX_PAGES = 50;
const CREDENTIALS =
  'YANDEX_CLOUD_IAM_TOKEN (the base64 of a service account authorized key with the dns.editor role) and YANDEX_CLOUD_FOLDER_ID';

interface YandexConfig {
  readonly key: Secret<AuthorizedKey>;
  readonly folderId: string;
  readonly apiUrl: string;
  readonly iamUrl: string;
}

interface YandexRuntime extends YandexConfig {
  readonly http: ProviderHttp;
  token?: { readonly value: Secret; readonly expiresAt: number };
  pending?: Promise<Secret>;
}

interface RecordSet {
  readonly name: string;
  readonly type: string;
  readonly ttl: string | number;
  readonly data: string[];
}

/** The API's words: {code, message} (gRPC status as JSON). */
function errorWords(body: Buffer): string | undefined {
  const json = parseJsonObject(body);
  return typeof json?.message === 'string' && json.message ? json.message : undefined;
}

async function exchange(
  c: YandexRuntime,
  clock: Clock,
  operation: DnsOperation,
  signal: AbortSignal,
): Promise<Secret> {
  const fail = (message: string, status?: number, cause?: unknown) =>
    new DnsProviderError(CODE, operation, redactSecrets(message, [c.token?.value]), {
      ...(status !== undefined ? { status } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  let res: HttpResponse;
  try {
    res = await c.http.request('POST', `${c.iamUrl}/iam/v1/tokens`, {
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ jwt: serviceAccountJwt(c.key.reveal(), new Date(clock.now())) }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw fail(
      `the Yandex Cloud IAM API did not answer: ${(err as Error).message}; check the network, the proxy settings and YANDEX_CLOUD_IAM_URL`,
      undefined,
      err,
    );
  }
  const body = parseJsonObject(res.body);
  const words = errorWords(res.body);
  if (res.status === 400 || res.status === 401 || res.status === 403)
    throw fail(
      `credentials refused by Yandex Cloud IAM (HTTP ${res.status}${words ? `, ${words}` : ''}): check ${CREDENTIALS}`,
      res.status,
    );
  if (res.status !== 200 || typeof body?.iamToken !== 'string')
    throw fail(
      `Yandex Cloud IAM issued no token (HTTP ${res.status}${words ? `, ${words}` : ''}); try again in a few minutes`,
      res.status,
    );
  const expires = Date.parse(String(body.expiresAt ?? ''));
  const value = new Secret(body.iamToken);
  c.token = {
    value,
    expiresAt: (Number.isNaN(expires) ? clock.now() + 3_600_000 : expires) - TOKEN_MARGIN_MS,
  };
  return value;
}

function iamToken(
  c: YandexRuntime,
  clock: Clock,
  operation: DnsOperation,
  signal: AbortSignal,
): Promise<Secret> {
  if (c.token && clock.now() < c.token.expiresAt) return Promise.resolve(c.token.value);
  c.pending ??= exchange(c, clock, operation, signal).finally(() => {
    c.pending = undefined;
  });
  return c.pending;
}

/** Yandex names record sets relative to the zone ("@" at the apex) and answers with absolute names. */
function relative(record: TxtRecord): string {
  return record.name === '@' ? '@' : record.name.toLowerCase();
}

async function recordSet(
  zoneId: string,
  record: TxtRecord,
  ctx: RestCallContext,
): Promise<RecordSet | undefined> {
  const res = await ctx.send({
    method: 'GET',
    path: `/dns/v1/zones/${zoneId}:getRecordSet?name=${encodeURIComponent(relative(record))}&type=TXT`,
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw ctx.refused(res, `read the TXT record set ${record.fqdn}`);
  const body = parseJsonObject(res.body);
  return {
    name: String(body?.name ?? toFqdn(record.fqdn)),
    type: 'TXT',
    ttl: (body?.ttl as string | number | undefined) ?? record.ttl,
    data: Array.isArray(body?.data) ? body.data.map(String) : [],
  };
}

async function update(
  zoneId: string,
  change: { deletions: RecordSet[]; additions: RecordSet[] },
  ctx: RestCallContext,
  what: string,
): Promise<void> {
  const operation = await ctx.json(
    { method: 'POST', path: `/dns/v1/zones/${zoneId}:updateRecordSets`, body: change },
    what,
  );
  const error = operation.error as { message?: unknown } | undefined;
  if (operation.done === true && error)
    throw ctx.fail(
      `Yandex Cloud DNS could not ${what}${typeof error.message === 'string' ? ` (${error.message})` : ''}`,
    );
}

const api: RestApi<YandexRuntime> = {
  code: CODE,
  apiName: 'Yandex Cloud DNS',
  urlVariable: 'YANDEX_CLOUD_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: (c) => (c.token ? [c.token.value] : []),
  async authorize(c, req, clock, call) {
    const token = await iamToken(c, clock, call.operation, call.signal);
    return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
  },
  async zoneRef(c, zone, ctx) {
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await ctx.json(
        {
          method: 'GET',
          path: `/dns/v1/zones?folderId=${encodeURIComponent(c.folderId)}&pageSize=${PAGE_SIZE}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`,
        },
        `list the DNS zones of folder ${c.folderId}`,
      );
      const zones = Array.isArray(body.dnsZones) ? (body.dnsZones as { id?: unknown; zone?: unknown }[]) : [];
      const found = zones.find(
        (z) => String(z.zone).toLowerCase() === `${zone}.` && typeof z.id === 'string',
      );
      if (found) return found.id as string;
      pageToken = typeof body.nextPageToken === 'string' ? body.nextPageToken : '';
      if (!pageToken) break;
    }
    throw ctx.fail(
      `zone ${zone} is not in folder YANDEX_CLOUD_FOLDER_ID (${c.folderId}) of Yandex Cloud DNS: check the folder and the zone`,
    );
  },
  async list(_c, record, zoneId, ctx) {
    return ((await recordSet(zoneId, record, ctx))?.data ?? []).map((d) => ({
      id: unquoteTxt(d),
      value: unquoteTxt(d),
    }));
  },
  async create(_c, record, zoneId, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    if (set?.data.some((d) => unquoteTxt(d) === record.value)) return record.value;
    await update(
      zoneId,
      {
        deletions: set ? [set] : [],
        additions: [
          {
            name: relative(record),
            type: 'TXT',
            ttl: String(record.ttl),
            data: [...(set?.data ?? []), record.value],
          },
        ],
      },
      ctx,
      `write the TXT record set ${record.fqdn}`,
    );
    return record.value;
  },
  async remove(_c, record, zoneId, value, ctx) {
    const set = await recordSet(zoneId, record, ctx);
    if (!set) return;
    const kept = set.data.filter((d) => unquoteTxt(d) !== value);
    if (kept.length === set.data.length) return;
    await update(
      zoneId,
      { deletions: [set], additions: kept.length > 0 ? [{ ...set, data: kept }] : [] },
      ctx,
      `remove a value from the TXT record set ${record.fqdn}`,
    );
  },
  errorDetail: (body) => errorWords(body),
  oneWriterPerName: true,
};

/** The authorized key from lego's variable: base64 of the key's JSON (or the JSON itself, from a file). */
function authorizedKey(raw: string): AuthorizedKey {
  const text = raw.startsWith('{') ? raw : Buffer.from(raw, 'base64').toString('utf8');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InvalidInputError(
      `${CODE}: YANDEX_CLOUD_IAM_TOKEN must be the base64 of an authorized key's JSON (\`yc iam key create --output key.json\`, then base64 key.json)`,
      'YANDEX_CLOUD_IAM_TOKEN',
    );
  }
  const { id, service_account_id: serviceAccountId, private_key: pem } = json;
  if (typeof id !== 'string' || typeof serviceAccountId !== 'string' || typeof pem !== 'string')
    throw new InvalidInputError(
      `${CODE}: the authorized key in YANDEX_CLOUD_IAM_TOKEN lacks id, service_account_id or private_key`,
      'YANDEX_CLOUD_IAM_TOKEN',
    );
  try {
    // `yc` writes a notice line before the PEM in private_key; the PEM block is what counts.
    const block =
      /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[0] ?? pem;
    return { id, serviceAccountId, privateKey: createPrivateKey(block) };
  } catch {
    throw new InvalidInputError(
      `${CODE}: the private_key of the authorized key in YANDEX_CLOUD_IAM_TOKEN cannot be read`,
      'YANDEX_CLOUD_IAM_TOKEN',
    );
  }
}

export const definition = {
  code: CODE,
  title: 'Yandex Cloud DNS',
  description:
    'Adds the TXT records through the Yandex Cloud DNS API, with an IAM token obtained from a service ' +
    "account's authorized key (a PS256-signed JWT exchanged at the IAM API).",
  docsUrl: 'https://yandex.cloud/en/docs/dns/api-ref/DnsZone/updateRecordSets',
  permissions:
    'A service account with the dns.editor role on the folder YANDEX_CLOUD_FOLDER_ID, and an authorized key of it ' +
    '(`yc iam key create --service-account-name <name> --output key.json`; YANDEX_CLOUD_IAM_TOKEN=$(base64 -w0 key.json)).',
  example: [
    'YANDEX_CLOUD_IAM_TOKEN=$(base64 -w0 key.json) \\',
    'YANDEX_CLOUD_FOLDER_ID=b1g0123456789abcdefg \\',
    "  acmekit --dns yandexcloud --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'YANDEX_CLOUD',
  // lego's yandexcloud defaults.
  defaults: { ttl: 60, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000 },
  env: [
    {
      name: 'YANDEX_CLOUD_IAM_TOKEN',
      description: "base64 of a service account's authorized key JSON (despite the name, not an IAM token)",
      required: true,
      secret: true,
    },
    { name: 'YANDEX_CLOUD_FOLDER_ID', description: 'folder that holds the DNS zones', required: true },
    {
      name: 'YANDEX_CLOUD_API_URL',
      description: 'DNS API base URL, for tests or a proxy',
      default: DEFAULT_API_URL,
    },
    {
      name: 'YANDEX_CLOUD_IAM_URL',
      description: 'IAM API base URL, for tests or a proxy',
      default: DEFAULT_IAM_URL,
    },
  ],
  configure(env) {
    return {
      key: new Secret(authorizedKey(env.required('YANDEX_CLOUD_IAM_TOKEN'))),
      folderId: env.required('YANDEX_CLOUD_FOLDER_ID'),
      apiUrl: apiUrlSetting(env, CODE, 'YANDEX_CLOUD_API_URL', DEFAULT_API_URL),
      iamUrl: apiUrlSetting(env, CODE, 'YANDEX_CLOUD_IAM_URL', DEFAULT_IAM_URL),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, { ...config, http: deps.http }, deps);
  },
} satisfies DnsProviderDefinition<YandexConfig>;
