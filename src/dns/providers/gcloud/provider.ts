import { InvalidInputError } from '../../../errors/base.ts';
import type { Clock } from '../../../internal/clock.ts';
import type { Logger } from '../../../internal/logger.ts';
import type { DnsProviderDefinition } from '../../definition.ts';
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
import { findCredential, GoogleAuth, type GoogleAuthConfig } from './credentials.ts';

// Google Cloud DNS API v1 (https://cloud.google.com/dns/docs/reference/rest/v1): the managed zone is
// found with managedZones.list?dnsName= (or named by GCE_ZONE_ID: managedZones.get), the TXT record set
// is read with resourceRecordSets.list?name=&type=TXT and changed with changes.create, whose deletions
// must repeat the current set exactly. So the set is replaced in one atomic change (the old set deleted,
// the new one added), read again and retried when another writer changed it meanwhile (412
// conditionNotMet, 409 alreadyExists). A pending change is polled with changes.get until it is done, so
// the next change reads the current set.

const CODE = 'gcloud';
const DEFAULT_API_URL = 'https://dns.googleapis.com/dns/v1';
const DEFAULT_IAM_URL = 'https://iamcredentials.googleapis.com/v1';
/** A set is read and written again this often when another writer got in between. */
const CONFLICT_RETRIES = 5;
/** A change still pending after this long is left to finish on its own. */
const CHANGE_WAIT_MS = 30_000;
const CHANGE_POLL_MS = 1_000;

export interface GcloudConfig {
  readonly auth: GoogleAuthConfig;
  readonly zoneId?: string | undefined;
  readonly allowPrivateZone: boolean;
  readonly apiUrl: string;
}

interface Runtime {
  readonly config: GcloudConfig;
  readonly auth: GoogleAuth;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface RecordSet {
  readonly name: string;
  readonly type: 'TXT';
  readonly ttl: number;
  readonly rrdatas: readonly string[];
}

interface ManagedZone {
  readonly name?: unknown;
  readonly dnsName?: unknown;
  readonly visibility?: unknown;
}

const enc = encodeURIComponent;
const ok = (s: number): boolean => s >= 200 && s < 300;

async function zonePath(c: Runtime, zone: string, ctx: RestCallContext): Promise<string> {
  return `/projects/${enc(await c.auth.project(ctx))}/managedZones/${enc(zone)}`;
}

/** The TXT set at the record's name as Cloud DNS holds it (values quoted), or undefined. */
async function readSet(
  c: Runtime,
  record: TxtRecord,
  zone: string,
  ctx: RestCallContext,
): Promise<RecordSet | undefined> {
  const name = toFqdn(record.fqdn).toLowerCase();
  const body = await ctx.json(
    { method: 'GET', path: `${await zonePath(c, zone, ctx)}/rrsets?name=${enc(name)}&type=TXT` },
    `read the TXT records of ${name}`,
  );
  const sets = Array.isArray(body.rrsets) ? (body.rrsets as Partial<Record<keyof RecordSet, unknown>>[]) : [];
  const set = sets.find((s) => s.type === 'TXT' && String(s.name).toLowerCase() === name);
  if (!set || !Array.isArray(set.rrdatas)) return undefined;
  return { name: String(set.name), type: 'TXT', ttl: Number(set.ttl), rrdatas: set.rrdatas.map(String) };
}

/**
 * Applies one change to the zone; false when the set changed under it (read it again). Waits until
 * Cloud DNS reports the change done.
 */
async function applyChange(
  c: Runtime,
  zone: string,
  change: { additions?: RecordSet[]; deletions?: RecordSet[] },
  what: string,
  ctx: RestCallContext,
): Promise<boolean> {
  const base = await zonePath(c, zone, ctx);
  const answer = await ctx.json(
    { method: 'POST', path: `${base}/changes`, body: { kind: 'dns#change', ...change } },
    what,
    (s) => ok(s) || s === 409 || s === 412,
  );
  if (answer.error !== undefined) return false;
  let status = answer.status;
  const id = typeof answer.id === 'string' ? answer.id : undefined;
  for (let waited = 0; status !== 'done' && id !== undefined; waited += CHANGE_POLL_MS) {
    if (waited >= CHANGE_WAIT_MS) {
      c.logger.warn(
        { provider: CODE, change: id, status },
        `${CODE}: change ${id} is still ${String(status)} after ${CHANGE_WAIT_MS / 1000} s; going on`,
      );
      break;
    }
    await c.clock.sleep(CHANGE_POLL_MS, ctx.signal);
    const polled = await ctx.json(
      { method: 'GET', path: `${base}/changes/${enc(id)}` },
      `check change ${id} (${what})`,
    );
    status = polled.status;
  }
  return true;
}

function conflict(ctx: RestCallContext, what: string) {
  return ctx.fail(
    `could not ${what}: the record set kept changing under acmekit (${CONFLICT_RETRIES} tries); another ` +
      'client is writing it, try again',
  );
}

const api: RestApi<Runtime> = {
  code: CODE,
  apiName: 'Google Cloud DNS',
  urlVariable: 'GCE_DNS_API_URL',
  credentialVariables:
    'GCE_SERVICE_ACCOUNT_FILE (or GCE_SERVICE_ACCOUNT, GOOGLE_APPLICATION_CREDENTIALS, the VM service account) and its role on the zone (DNS Administrator)',
  baseUrl: (c) => c.config.apiUrl,
  secrets: (c) => c.auth.secrets(),
  async authorize(c, req, _clock, call) {
    const token = await c.auth.token(call);
    return withHeaders(req, { authorization: `Bearer ${token.reveal()}` });
  },
  async zoneRef(c, zone, ctx) {
    const project = await c.auth.project(ctx);
    const base = `/projects/${enc(project)}/managedZones`;
    if (c.config.zoneId !== undefined) {
      const found = await ctx.json(
        { method: 'GET', path: `${base}/${enc(c.config.zoneId)}` },
        `read managed zone ${c.config.zoneId} (GCE_ZONE_ID) of project ${project}`,
      );
      return String(found.name ?? c.config.zoneId);
    }
    const dnsName = `${zone}.`;
    const zones: ManagedZone[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const body = await ctx.json(
        {
          method: 'GET',
          path: `${base}?dnsName=${enc(dnsName)}${pageToken ? `&pageToken=${enc(pageToken)}` : ''}`,
        },
        `find the managed zone ${dnsName} in project ${project}`,
      );
      if (Array.isArray(body.managedZones)) zones.push(...(body.managedZones as ManagedZone[]));
      pageToken =
        typeof body.nextPageToken === 'string' && body.nextPageToken !== '' ? body.nextPageToken : undefined;
      if (!pageToken) break;
    }
    const named = zones.filter((z) => String(z.dnsName).toLowerCase() === dnsName);
    const usable = named.find(
      (z) =>
        z.visibility === undefined ||
        z.visibility === 'public' ||
        (z.visibility === 'private' && c.config.allowPrivateZone),
    );
    if (usable && typeof usable.name === 'string') return usable.name;
    if (named.length > 0) {
      throw ctx.fail(
        `project ${project} has only a private managed zone for ${dnsName}; set GCE_ALLOW_PRIVATE_ZONE=true ` +
          'to write to it (only useful with a private ACME server)',
      );
    }
    throw ctx.fail(
      `no managed zone for ${dnsName} in project ${project}: check GCE_PROJECT, or name the zone with GCE_ZONE_ID`,
    );
  },
  async list(c, record, zone, ctx) {
    const set = await readSet(c, record, zone, ctx);
    return (set?.rrdatas ?? []).map((d) => {
      const value = unquoteTxt(d);
      return { id: value, value };
    });
  },
  async create(c, record, zone, ctx) {
    const what = `add a TXT value at ${record.fqdn}`;
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const current = await readSet(c, record, zone, ctx);
      if (current?.rrdatas.some((d) => unquoteTxt(d) === record.value)) return record.value;
      const next: RecordSet = {
        name: toFqdn(record.fqdn).toLowerCase(),
        type: 'TXT',
        ttl: current?.ttl ?? record.ttl,
        rrdatas: [...(current?.rrdatas ?? []), `"${record.value}"`],
      };
      const change = current ? { deletions: [current], additions: [next] } : { additions: [next] };
      if (await applyChange(c, zone, change, what, ctx)) return record.value;
    }
    throw conflict(ctx, what);
  },
  async remove(c, record, zone, value, ctx) {
    const what = `remove a TXT value at ${record.fqdn}`;
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const current = await readSet(c, record, zone, ctx);
      if (!current?.rrdatas.some((d) => unquoteTxt(d) === value)) return;
      const rest = current.rrdatas.filter((d) => unquoteTxt(d) !== value);
      const change =
        rest.length > 0
          ? { deletions: [current], additions: [{ ...current, rrdatas: rest }] }
          : { deletions: [current] };
      if (await applyChange(c, zone, change, what, ctx)) return;
    }
    throw conflict(ctx, what);
  },
  errorDetail(body) {
    const error = parseJsonObject(body)?.error as
      | { message?: unknown; status?: unknown; errors?: { reason?: unknown }[] }
      | undefined;
    if (!error || typeof error !== 'object') return undefined;
    const reason = error.errors?.[0]?.reason ?? error.status;
    return [reason, error.message].filter((v) => typeof v === 'string' && v !== '').join(': ') || undefined;
  },
};

export const definition = {
  code: CODE,
  title: 'Google Cloud DNS',
  description:
    'Adds the TXT records through the Cloud DNS API v1, with a service account key, gcloud application ' +
    'default credentials or the metadata server of a Google Cloud VM, optionally impersonating another ' +
    'service account.',
  docsUrl: 'https://cloud.google.com/dns/docs/reference/rest/v1/changes/create',
  permissions:
    'The role DNS Administrator (roles/dns.admin) on the project or the zone: dns.managedZones.list (or ' +
    'dns.managedZones.get with GCE_ZONE_ID), dns.resourceRecordSets.list, dns.changes.create, ' +
    'dns.changes.get. With GCE_IMPERSONATE_SERVICE_ACCOUNT, the caller needs Service Account Token Creator ' +
    'on that account.',
  example: [
    'GCE_PROJECT=my-project \\',
    'GCE_SERVICE_ACCOUNT_FILE=/etc/acmekit/dns-sa.json \\',
    "  acmekit --dns gcloud --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'GCE',
  // lego's gcloud defaults (TTL: lego's global 120 s).
  defaults: { ttl: 120, propagationTimeoutMs: 180_000, pollingIntervalMs: 5_000 },
  env: [
    {
      name: 'GCE_PROJECT',
      description:
        "project that holds the zone; default: the key file's project_id, or the metadata server's project",
    },
    {
      name: 'GCE_SERVICE_ACCOUNT',
      description: 'service account key (the JSON text); GCE_SERVICE_ACCOUNT_FILE names the key file instead',
      secret: true,
    },
    {
      name: 'GCE_ZONE_ID',
      description: 'managed zone name to write to; default: found by DNS name (needs dns.managedZones.list)',
    },
    {
      name: 'GCE_ALLOW_PRIVATE_ZONE',
      description: 'also use a private managed zone (only with a private ACME server)',
      default: 'false',
    },
    {
      name: 'GCE_IMPERSONATE_SERVICE_ACCOUNT',
      description: 'service account email to impersonate with the credentials found',
    },
    {
      name: 'GOOGLE_APPLICATION_CREDENTIALS',
      description:
        'credentials file (service account key or authorized_user), used when GCE_SERVICE_ACCOUNT is unset',
    },
    {
      name: 'CLOUDSDK_CONFIG',
      description: "gcloud's configuration folder, for its application_default_credentials.json",
      default: '~/.config/gcloud',
    },
    {
      name: 'GCE_METADATA_HOST',
      description: 'metadata server (host[:port]) asked when no credentials file is found',
      default: '169.254.169.254',
    },
    {
      name: 'GCE_DNS_API_URL',
      description: 'Cloud DNS API base URL, for tests or a proxy',
      default: DEFAULT_API_URL,
    },
    {
      name: 'GCE_IAM_CREDENTIALS_API_URL',
      description: 'IAM Service Account Credentials API base URL (impersonation), for tests or a proxy',
      default: DEFAULT_IAM_URL,
    },
  ],
  configure(env) {
    const credential = findCredential({
      serviceAccountJson: env.string('GCE_SERVICE_ACCOUNT'),
      applicationCredentials: env.string('GOOGLE_APPLICATION_CREDENTIALS'),
      gcloudConfigDir: env.string('CLOUDSDK_CONFIG'),
      metadataHost: env.string('GCE_METADATA_HOST'),
    });
    const project =
      env.string('GCE_PROJECT') ?? (credential.kind === 'service_account' ? credential.projectId : undefined);
    if (project === undefined && credential.kind !== 'metadata') {
      throw new InvalidInputError(
        `${CODE}: GCE_PROJECT is not set and ${credential.source} names no project (project_id); set GCE_PROJECT`,
        'GCE_PROJECT',
      );
    }
    if (env.string('GCE_METADATA_HOST')?.includes('/')) {
      throw new InvalidInputError(
        `${CODE}: GCE_METADATA_HOST must be a host or host:port`,
        'GCE_METADATA_HOST',
      );
    }
    return {
      auth: {
        credential,
        project,
        impersonate: env.string('GCE_IMPERSONATE_SERVICE_ACCOUNT'),
        iamCredentialsUrl: apiUrlSetting(env, CODE, 'GCE_IAM_CREDENTIALS_API_URL', DEFAULT_IAM_URL),
      },
      zoneId: env.string('GCE_ZONE_ID'),
      allowPrivateZone: env.bool('GCE_ALLOW_PRIVATE_ZONE', false),
      apiUrl: apiUrlSetting(env, CODE, 'GCE_DNS_API_URL', DEFAULT_API_URL),
    };
  },
  create(config, deps) {
    const auth = new GoogleAuth(config.auth, deps);
    return new RestDnsProvider(api, { config, auth, clock: deps.clock, logger: deps.logger }, deps);
  },
} satisfies DnsProviderDefinition<GcloudConfig>;
