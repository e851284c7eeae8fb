import { InvalidInputError } from '../../../errors/base.ts';
import type { DnsProviderDefinition } from '../../definition.ts';
import type { EnvVarSpec } from '../../env.ts';
import { parseJsonObject } from '../../json-api.ts';
import { relativeName, type TxtRecord } from '../../provider.ts';
import { type RestApi, type RestCallContext, RestDnsProvider, withHeaders } from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { AzureAuth, type AzureAuthConfig, readCredential } from './credentials.ts';

// Azure DNS through Azure Resource Manager: record sets of public zones
// (https://learn.microsoft.com/en-us/rest/api/dns/record-sets, api-version 2018-05-01) or of private
// zones with AZURE_PRIVATE_ZONE (https://learn.microsoft.com/en-us/rest/api/dns/privatednszones/record-sets,
// api-version 2018-09-01). A TXT record set holds every value of a name, so a value is added or removed by
// reading the set and writing it back with If-Match on its etag (If-None-Match: * to create one), and the
// set is deleted when its last value goes; a 412 means another writer got in between, so it is read
// again. The zone's subscription and resource group come from AZURE_SUBSCRIPTION_ID and
// AZURE_RESOURCE_GROUP, or are found with an Azure Resource Graph query as lego does
// (https://learn.microsoft.com/en-us/rest/api/azureresourcegraph/resourcegraph/resources/resources).

const CODE = 'azuredns';
const PUBLIC_API = '2018-05-01';
const PRIVATE_API = '2018-09-01';
const GRAPH_API = '2021-03-01';
const CONFLICT_RETRIES = 5;

const ENVIRONMENTS: Readonly<Record<string, { authority: string; arm: string }>> = {
  public: { authority: 'https://login.microsoftonline.com', arm: 'https://management.azure.com' },
  usgovernment: {
    authority: 'https://login.microsoftonline.us',
    arm: 'https://management.usgovcloudapi.net',
  },
  china: { authority: 'https://login.chinacloudapi.cn', arm: 'https://management.chinacloudapi.cn' },
};

export interface AzureConfig {
  readonly auth: AzureAuthConfig;
  /** Azure Resource Manager base URL. */
  readonly armUrl: string;
  readonly subscriptionId?: string | undefined;
  readonly resourceGroup?: string | undefined;
  readonly zoneName?: string | undefined;
  readonly privateZone: boolean;
  readonly discoveryFilter?: string | undefined;
}

interface Runtime {
  readonly config: AzureConfig;
  readonly auth: AzureAuth;
}

interface ZoneRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

interface CurrentSet {
  readonly etag: string;
  readonly ttl: number;
  readonly values: readonly string[];
}

const enc = encodeURIComponent;

function zonePath(c: Runtime, z: ZoneRef): string {
  const type = c.config.privateZone ? 'privateDnsZones' : 'dnsZones';
  return `/subscriptions/${enc(z.subscriptionId)}/resourceGroups/${enc(z.resourceGroup)}/providers/Microsoft.Network/${type}/${enc(z.name)}`;
}

function apiVersion(c: Runtime): string {
  return c.config.privateZone ? PRIVATE_API : PUBLIC_API;
}

function setPath(c: Runtime, record: TxtRecord, z: ZoneRef): string {
  const fqdn = record.fqdn.toLowerCase().replace(/\.$/, '');
  if (fqdn !== z.name && !fqdn.endsWith(`.${z.name}`)) {
    throw new InvalidInputError(
      `${CODE}: ${record.fqdn} is not inside the zone ${z.name} (AZURE_ZONE_NAME)`,
      z.name,
    );
  }
  const name = relativeName(record.fqdn, z.name);
  return `${zonePath(c, z)}/TXT/${enc(name)}?api-version=${apiVersion(c)}`;
}

/** The TXT set at the record's name, or undefined. Private zones spell the properties in camelCase. */
async function readSet(
  c: Runtime,
  record: TxtRecord,
  z: ZoneRef,
  ctx: RestCallContext,
): Promise<CurrentSet | undefined> {
  const res = await ctx.send({ method: 'GET', path: setPath(c, record, z) });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw ctx.refused(res, `read the TXT record set ${record.fqdn}`);
  const body = parseJsonObject(res.body) ?? {};
  const props = (body.properties ?? {}) as Record<string, unknown>;
  const txt = (c.config.privateZone ? props.txtRecords : props.TXTRecords) as
    | { value?: unknown }[]
    | undefined;
  const values = (Array.isArray(txt) ? txt : []).map((t) =>
    Array.isArray(t.value) ? t.value.map(String).join('') : '',
  );
  return {
    etag: String(body.etag ?? ''),
    ttl: Number(c.config.privateZone ? props.ttl : props.TTL),
    values,
  };
}

/** Writes the set (If-Match its etag, or If-None-Match * for a new one); false on a 412. */
async function writeSet(
  c: Runtime,
  record: TxtRecord,
  z: ZoneRef,
  values: readonly string[],
  ttl: number,
  etag: string | undefined,
  ctx: RestCallContext,
): Promise<boolean> {
  const txt = values.map((v) => ({ value: [v] }));
  const properties = c.config.privateZone ? { ttl, txtRecords: txt } : { TTL: ttl, TXTRecords: txt };
  const res = await ctx.send({
    method: 'PUT',
    path: setPath(c, record, z),
    headers: etag !== undefined ? { 'if-match': etag } : { 'if-none-match': '*' },
    body: { properties },
  });
  if (res.status === 412) return false;
  if (res.status !== 200 && res.status !== 201)
    throw ctx.refused(res, `write the TXT record set ${record.fqdn}`);
  return true;
}

function conflict(ctx: RestCallContext, what: string) {
  return ctx.fail(
    `could not ${what}: the record set kept changing under acmekit (${CONFLICT_RETRIES} tries); another client is writing it, try again`,
  );
}

/** The Resource Graph query lego runs, narrowed to one zone name. */
function graphQuery(c: Runtime, name: string): string {
  const lines = [
    'resources',
    `| where type =~ "${c.config.privateZone ? 'microsoft.network/privatednszones' : 'microsoft.network/dnszones'}"`,
    `| where name =~ ${JSON.stringify(name)}`,
  ];
  if (c.config.subscriptionId)
    lines.push(`| where subscriptionId =~ ${JSON.stringify(c.config.subscriptionId)}`);
  if (c.config.resourceGroup)
    lines.push(`| where resourceGroup =~ ${JSON.stringify(c.config.resourceGroup)}`);
  if (c.config.discoveryFilter) lines.push(`| ${c.config.discoveryFilter}`);
  lines.push('| project subscriptionId, resourceGroup, name');
  return lines.join('\n');
}

const api: RestApi<Runtime> = {
  code: CODE,
  apiName: 'Azure Resource Manager',
  urlVariable: 'AZURE_RESOURCE_MANAGER_URL',
  credentialVariables: 'the Azure credentials',
  baseUrl: (c) => c.config.armUrl,
  secrets: (c) => c.auth.secrets(),
  async authorize(c, req, _clock, call) {
    const token = await c.auth.token(call);
    return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
  },
  async zoneRef(c, zone, ctx) {
    const name = (c.config.zoneName ?? zone).toLowerCase().replace(/\.$/, '');
    const kind = c.config.privateZone ? 'private DNS zone' : 'DNS zone';
    if (c.config.subscriptionId && c.config.resourceGroup) {
      const z = { subscriptionId: c.config.subscriptionId, resourceGroup: c.config.resourceGroup, name };
      const res = await ctx.send({ method: 'GET', path: `${zonePath(c, z)}?api-version=${apiVersion(c)}` });
      if (res.status === 404) {
        throw ctx.fail(
          `there is no Azure ${kind} ${name} in resource group ${z.resourceGroup} of subscription ${z.subscriptionId}: ` +
            `check AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP${c.config.privateZone ? '' : ' and AZURE_PRIVATE_ZONE'}`,
          404,
        );
      }
      if (res.status !== 200) throw ctx.refused(res, `read the ${kind} ${name}`);
      return JSON.stringify(z);
    }
    const found: ZoneRef[] = [];
    for (let skip = 0; skip < 100_000; ) {
      const body = await ctx.json(
        {
          method: 'POST',
          path: `/providers/Microsoft.ResourceGraph/resources?api-version=${GRAPH_API}`,
          body: {
            query: graphQuery(c, name),
            options: { resultFormat: 'objectArray', $top: 1000, $skip: skip },
          },
        },
        `find the ${kind} ${name} (Azure Resource Graph)`,
      );
      const rows = Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : [];
      for (const r of rows) {
        if (String(r.name).toLowerCase() === name)
          found.push({
            subscriptionId: String(r.subscriptionId),
            resourceGroup: String(r.resourceGroup),
            name,
          });
      }
      skip += rows.length;
      if (rows.length === 0 || skip >= Number(body.totalRecords ?? 0)) break;
    }
    if (found.length === 0) {
      throw ctx.fail(
        `no Azure ${kind} named ${name} is visible to these credentials (Resource Graph): check the zone's name ` +
          '(AZURE_ZONE_NAME), AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_PRIVATE_ZONE and that the identity has Reader on the zone',
      );
    }
    if (found.length > 1) {
      throw ctx.fail(
        `several Azure ${kind}s are named ${name} (${found.map((z) => `${z.subscriptionId}/${z.resourceGroup}`).join(', ')}): ` +
          'set AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP',
      );
    }
    return JSON.stringify(found[0]);
  },
  async list(c, record, ref, ctx) {
    const set = await readSet(c, record, JSON.parse(ref) as ZoneRef, ctx);
    return (set?.values ?? []).map((value) => ({ id: value, value }));
  },
  async create(c, record, ref, ctx) {
    const z = JSON.parse(ref) as ZoneRef;
    const what = `add a TXT value at ${record.fqdn}`;
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const current = await readSet(c, record, z, ctx);
      if (current?.values.includes(record.value)) return record.value;
      const values = [...(current?.values ?? []), record.value];
      if (await writeSet(c, record, z, values, current?.ttl ?? record.ttl, current?.etag, ctx))
        return record.value;
    }
    throw conflict(ctx, what);
  },
  async remove(c, record, ref, value, ctx) {
    const z = JSON.parse(ref) as ZoneRef;
    const what = `remove a TXT value at ${record.fqdn}`;
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const current = await readSet(c, record, z, ctx);
      if (!current?.values.includes(value)) return;
      const rest = current.values.filter((v) => v !== value);
      if (rest.length > 0) {
        if (await writeSet(c, record, z, rest, current.ttl, current.etag, ctx)) return;
        continue;
      }
      const res = await ctx.send({
        method: 'DELETE',
        path: setPath(c, record, z),
        headers: { 'if-match': current.etag },
      });
      if (res.status === 412) continue;
      if (res.status === 200 || res.status === 204 || res.status === 404) return;
      throw ctx.refused(res, `delete the TXT record set ${record.fqdn}`);
    }
    throw conflict(ctx, what);
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error as { code?: unknown; message?: unknown } | undefined;
    if (!error || typeof error !== 'object') return undefined;
    return (
      [error.code, error.message].filter((v) => typeof v === 'string' && v !== '').join(': ') || undefined
    );
  },
};

const env: EnvVarSpec[] = [
  {
    name: 'AZURE_CLIENT_ID',
    description: 'application (client) ID of the app registration, or of a user-assigned managed identity',
  },
  { name: 'AZURE_CLIENT_SECRET', description: 'client secret of the app registration', secret: true },
  { name: 'AZURE_TENANT_ID', description: 'directory (tenant) ID' },
  {
    name: 'AZURE_CLIENT_CERTIFICATE_PATH',
    description: "PEM file with the app's certificate and its private key (instead of a secret)",
  },
  { name: 'AZURE_CLIENT_CERTIFICATE_PASSWORD', description: 'password of that private key', secret: true },
  { name: 'AZURE_ENVIRONMENT', description: 'Azure cloud: public, usgovernment or china', default: 'public' },
  {
    name: 'AZURE_SUBSCRIPTION_ID',
    description: 'subscription of the zone; default: found with Azure Resource Graph',
  },
  {
    name: 'AZURE_RESOURCE_GROUP',
    description: 'resource group of the zone; default: found with Azure Resource Graph',
  },
  {
    name: 'AZURE_SERVICEDISCOVERY_FILTER',
    description: 'extra Kusto condition for the Resource Graph query, e.g. where tags.env == "prod"',
  },
  {
    name: 'AZURE_PRIVATE_ZONE',
    description: 'write to an Azure Private DNS zone instead of a public one',
    default: 'false',
  },
  {
    name: 'AZURE_ZONE_NAME',
    description: 'name of the Azure zone to write to; default: the zone found by DNS',
  },
  {
    name: 'AZURE_AUTH_METHOD',
    description:
      'env, wli, msi or oidc; default: the first configured of client secret, certificate, workload identity, managed identity',
  },
  {
    name: 'AZURE_AUTH_MSI_TIMEOUT',
    description: 'how long to wait for the managed identity endpoint',
    default: '2s',
  },
  {
    name: 'AZURE_FEDERATED_TOKEN_FILE',
    description: 'workload identity: file with the federated token (set by AKS)',
  },
  { name: 'AZURE_OIDC_TOKEN', description: 'OIDC: a federated token', secret: true },
  {
    name: 'AZURE_OIDC_TOKEN_FILE_PATH',
    description: 'OIDC: a file holding the federated token',
    secret: true,
  },
  {
    name: 'AZURE_OIDC_REQUEST_URL',
    fallbacks: ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ARM_OIDC_REQUEST_URL'],
    description: 'OIDC: URL that issues the federated token (GitHub Actions)',
  },
  {
    name: 'AZURE_OIDC_REQUEST_TOKEN',
    fallbacks: ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ARM_OIDC_REQUEST_TOKEN'],
    description: 'OIDC: bearer token for that URL',
    secret: true,
  },
  { name: 'AZURE_AUTHORITY_HOST', description: 'Microsoft Entra ID endpoint; default by AZURE_ENVIRONMENT' },
  {
    name: 'AZURE_POD_IDENTITY_AUTHORITY_HOST',
    description: 'instance metadata service of the managed identity',
    default: 'http://169.254.169.254',
  },
  {
    name: 'IDENTITY_ENDPOINT',
    description: 'managed identity endpoint of App Service / Functions (set by Azure)',
  },
  { name: 'IDENTITY_HEADER', description: 'header value for IDENTITY_ENDPOINT (set by Azure)', secret: true },
  {
    name: 'IMDS_ENDPOINT',
    description: 'set by Azure Arc (whose managed identity acmekit does not support)',
  },
  {
    name: 'AZURE_RESOURCE_MANAGER_URL',
    description: 'Azure Resource Manager URL, for tests or a proxy; default by AZURE_ENVIRONMENT',
  },
];

export const definition = {
  code: CODE,
  title: 'Azure DNS',
  description:
    'Adds the TXT records to Azure DNS (public or private zones) through Azure Resource Manager, with a ' +
    'service principal (client secret or certificate), workload identity / OIDC, or a managed identity.',
  docsUrl: 'https://learn.microsoft.com/en-us/rest/api/dns/record-sets/create-or-update',
  permissions:
    'DNS Zone Contributor (Private DNS Zone Contributor for private zones) on the zone, or on its ' +
    '_acme-challenge TXT record sets plus Reader on the zone; Reader is also what Resource Graph needs to find the zone.',
  example: [
    'AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000 \\',
    'AZURE_CLIENT_SECRET=your-client-secret \\',
    'AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000 \\',
    "  acmekit --dns azuredns --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'AZURE',
  // lego's azuredns defaults.
  defaults: { ttl: 60, propagationTimeoutMs: 120_000, pollingIntervalMs: 2_000 },
  env,
  configure(e) {
    const name = (e.string('AZURE_ENVIRONMENT') ?? 'public').toLowerCase();
    const cloud = ENVIRONMENTS[name];
    if (!cloud) {
      throw new InvalidInputError(
        `${CODE}: AZURE_ENVIRONMENT must be public, usgovernment or china, got ${JSON.stringify(name)}`,
        name,
      );
    }
    return {
      auth: {
        credential: readCredential(e),
        authorityHost: apiUrlSetting(e, CODE, 'AZURE_AUTHORITY_HOST', cloud.authority),
        audience: cloud.arm,
      },
      armUrl: apiUrlSetting(e, CODE, 'AZURE_RESOURCE_MANAGER_URL', cloud.arm),
      subscriptionId: e.string('AZURE_SUBSCRIPTION_ID'),
      resourceGroup: e.string('AZURE_RESOURCE_GROUP'),
      zoneName: e.string('AZURE_ZONE_NAME'),
      privateZone: e.bool('AZURE_PRIVATE_ZONE', false),
      discoveryFilter: e.string('AZURE_SERVICEDISCOVERY_FILTER')?.replace(/^\|\s*/, ''),
    };
  },
  create(config, deps) {
    const auth = new AzureAuth(config.auth, deps);
    return new RestDnsProvider({ ...api, credentialVariables: auth.hint }, { config, auth }, deps);
  },
} satisfies DnsProviderDefinition<AzureConfig>;
