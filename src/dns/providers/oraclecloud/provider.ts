import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { InvalidInputError } from '../../../errors/base.ts';
import { Secret } from '../../../internal/secret.ts';
import type { DnsProviderDefinition } from '../../definition.ts';
import type { ProviderEnv } from '../../env.ts';
import { parseJsonObject } from '../../json-api.ts';
import { type TxtRecord, unFqdn } from '../../provider.ts';
import { type ListedTxt, type RestApi, RestDnsProvider, unquoteTxt } from '../../rest-provider.ts';
import { apiUrlSetting } from '../../settings.ts';
import { signOciRequest } from './signer.ts';

// Oracle Cloud Infrastructure DNS API 20180115 (https://docs.oracle.com/en-us/iaas/api/#/en/dns/20180115/):
// GetDomainRecords (GET /zones/{zoneNameOrId}/records/{domain}?rtype=TXT, paged with `page` and the
// opc-next-page header) and PatchDomainRecords (PATCH the same path with {items: [{operation: "ADD", …}]}
// or {operation: "REMOVE", recordHash}). A zone named by name needs its compartmentId. Every request is
// signed with the user's API signing key (signer.ts). TXT rdata comes back quoted.

const CODE = 'oraclecloud';
const PAGE_LIMIT = 100;
const MAX_PAGES = 50;
const CREDENTIALS =
  'OCI_TENANCY_OCID, OCI_USER_OCID, OCI_FINGERPRINT and the private key (OCI_PRIVATE_KEY_PATH or OCI_PRIVKEY)';

interface OciConfig {
  readonly keyId: string;
  readonly privateKey: Secret<KeyObject>;
  readonly compartmentId: string;
  readonly apiUrl: string;
}

const api: RestApi<OciConfig> = {
  code: CODE,
  apiName: 'OCI DNS',
  urlVariable: 'OCI_API_URL',
  credentialVariables: CREDENTIALS,
  baseUrl: (c) => c.apiUrl,
  secrets: () => [],
  authorize(c, req, clock) {
    const url = new URL(`${c.apiUrl}${req.path}`);
    const body = req.rawBody ?? (req.body !== undefined ? JSON.stringify(req.body) : '');
    const { headers } = signOciRequest(
      { method: req.method, host: url.host, path: `${url.pathname}${url.search}`, body },
      { keyId: c.keyId, privateKey: c.privateKey.reveal() },
      new Date(clock.now()),
    );
    const { body: _json, ...rest } = req;
    return { ...rest, ...(body !== '' ? { rawBody: body } : {}), headers: { ...req.headers, ...headers } };
  },
  async list(c, record, zone, ctx) {
    const found: ListedTxt[] = [];
    let page: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const res = await ctx.send({
        method: 'GET',
        path: `${recordsPath(c, record, zone)}&rtype=TXT&limit=${PAGE_LIMIT}${page ? `&page=${encodeURIComponent(page)}` : ''}`,
      });
      if (res.status < 200 || res.status >= 300)
        throw ctx.refused(res, `list the TXT records at ${record.fqdn}`);
      const items = parseJsonObject(res.body)?.items;
      for (const r of Array.isArray(items) ? (items as Record<string, unknown>[]) : [])
        if (r.rtype === 'TXT' && typeof r.recordHash === 'string' && typeof r.rdata === 'string')
          found.push({ id: r.recordHash, value: unquoteTxt(r.rdata) });
      const next = res.headers['opc-next-page'];
      page = Array.isArray(next) ? next[0] : next;
      if (!page) break;
    }
    return found;
  },
  async create(c, record, zone, ctx) {
    const body = await ctx.json(
      {
        method: 'PATCH',
        path: recordsPath(c, record, zone),
        body: {
          items: [
            {
              operation: 'ADD',
              domain: domainOf(record),
              rtype: 'TXT',
              rdata: record.value,
              ttl: record.ttl,
              isProtected: false,
            },
          ],
        },
      },
      `add the TXT record ${record.fqdn}`,
    );
    const items = Array.isArray(body.items) ? (body.items as Record<string, unknown>[]) : [];
    const made = items.find(
      (r) => r.rtype === 'TXT' && typeof r.rdata === 'string' && unquoteTxt(r.rdata) === record.value,
    );
    return typeof made?.recordHash === 'string' ? made.recordHash : undefined;
  },
  async remove(c, record, zone, recordHash, ctx) {
    // A record already gone (its hash no longer there) is what cleanup wants.
    if (!(await api.list(c, record, zone, ctx)).some((r) => r.id === recordHash)) return;
    await ctx.json(
      {
        method: 'PATCH',
        path: recordsPath(c, record, zone),
        body: { items: [{ operation: 'REMOVE', recordHash }] },
      },
      `delete the TXT record ${record.fqdn}`,
      (s) => (s >= 200 && s < 300) || s === 404,
    );
  },
  errorDetail(body) {
    const json = parseJsonObject(body);
    const words = [json?.code, json?.message].filter((x) => typeof x === 'string' && x).join(': ');
    return words || undefined;
  },
};

const domainOf = (record: TxtRecord) => unFqdn(record.fqdn).toLowerCase();

function recordsPath(c: OciConfig, record: TxtRecord, zone: string): string {
  return (
    `/zones/${encodeURIComponent(zone)}/records/${encodeURIComponent(domainOf(record))}` +
    `?compartmentId=${encodeURIComponent(c.compartmentId)}`
  );
}

/** The API signing key: OCI_PRIVKEY (base64 of the PEM, or the PEM itself through OCI_PRIVKEY_FILE) or a PEM file. */
function privateKeyOf(env: ProviderEnv): KeyObject {
  const inline = env.string('OCI_PRIVKEY');
  const path = env.string('OCI_PRIVATE_KEY_PATH');
  let pem: string;
  let source: string;
  if (inline !== undefined) {
    source = 'OCI_PRIVKEY';
    pem = inline.startsWith('-----BEGIN') ? inline : Buffer.from(inline, 'base64').toString('utf8');
  } else if (path !== undefined) {
    source = 'OCI_PRIVATE_KEY_PATH';
    const file = path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidInputError(
        `${CODE}: OCI_PRIVATE_KEY_PATH names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        path,
        { cause: err },
      );
    }
  } else {
    throw new InvalidInputError(
      `${CODE}: no API signing key: set OCI_PRIVATE_KEY_PATH to its PEM file, or OCI_PRIVKEY to the PEM in base64`,
      'OCI_PRIVATE_KEY_PATH',
    );
  }
  const passphrase = env.string('OCI_PRIVKEY_PASS');
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch {
    throw new InvalidInputError(
      `${CODE}: the key from ${source} is not a PEM private key that can be read` +
        (passphrase === undefined
          ? ' (if it is encrypted, set OCI_PRIVATE_KEY_PASSWORD)'
          : ' with OCI_PRIVATE_KEY_PASSWORD'),
      source,
    );
  }
}

export const definition = {
  code: CODE,
  title: 'Oracle Cloud Infrastructure DNS',
  description:
    'Adds the TXT records through the OCI DNS API (PatchDomainRecords), signing each request with the API ' +
    'signing key of an OCI user. Instance and session-token principals (OCI_AUTH_TYPE) are not supported.',
  docsUrl: 'https://docs.oracle.com/en-us/iaas/api/#/en/dns/20180115/Records/PatchDomainRecords',
  permissions:
    'An IAM policy such as "Allow group <group> to manage dns-records in compartment <compartment>" (and ' +
    '"read dns-zones") for the user whose API key signs, in the compartment OCI_COMPARTMENT_OCID.',
  example: [
    'OCI_PRIVATE_KEY_PATH=~/.oci/oci_api_key.pem \\',
    'OCI_TENANCY_OCID=ocid1.tenancy.oc1..example \\',
    'OCI_USER_OCID=ocid1.user.oc1..example \\',
    'OCI_FINGERPRINT=00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00 \\',
    'OCI_REGION=us-phoenix-1 \\',
    'OCI_COMPARTMENT_OCID=ocid1.compartment.oc1..example \\',
    "  acmekit --dns oraclecloud --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'OCI',
  // lego's oraclecloud defaults.
  defaults: { ttl: 120, propagationTimeoutMs: 60_000, pollingIntervalMs: 2_000, httpTimeoutMs: 60_000 },
  env: [
    {
      name: 'OCI_COMPARTMENT_OCID',
      description: 'OCID of the compartment that holds the zones',
      required: true,
    },
    {
      name: 'OCI_REGION',
      fallbacks: ['TF_VAR_region'],
      description: 'region, e.g. us-phoenix-1',
      required: true,
    },
    {
      name: 'OCI_TENANCY_OCID',
      fallbacks: ['TF_VAR_tenancy_ocid'],
      description: 'tenancy OCID',
      required: true,
    },
    {
      name: 'OCI_USER_OCID',
      fallbacks: ['TF_VAR_user_ocid'],
      description: 'OCID of the user whose key signs',
      required: true,
    },
    {
      name: 'OCI_PUBKEY_FINGERPRINT',
      fallbacks: ['OCI_FINGERPRINT', 'TF_VAR_fingerprint'],
      description: "fingerprint of the API signing key (OCI_FINGERPRINT in lego's documentation)",
      required: true,
    },
    {
      name: 'OCI_PRIVKEY',
      fallbacks: ['OCI_PRIVATE_KEY'],
      description: 'the API signing key, PEM in base64 (or OCI_PRIVKEY_FILE naming the PEM file)',
      secret: true,
    },
    {
      name: 'OCI_PRIVATE_KEY_PATH',
      fallbacks: ['TF_VAR_private_key_path'],
      description: 'PEM file of the API signing key',
    },
    {
      name: 'OCI_PRIVKEY_PASS',
      fallbacks: ['OCI_PRIVATE_KEY_PASSWORD', 'TF_VAR_private_key_password'],
      description: "passphrase of an encrypted key (OCI_PRIVATE_KEY_PASSWORD in lego's documentation)",
      secret: true,
    },
    {
      name: 'OCI_AUTH_TYPE',
      description: 'empty (API key); instance_principal and user_principal are not supported by acmekit',
    },
    {
      name: 'OCI_API_URL',
      description: 'DNS API base URL, for tests or a proxy',
      default: 'https://dns.<region>.oraclecloud.com/20180115',
    },
  ],
  configure(env) {
    const authType = env.string('OCI_AUTH_TYPE');
    if (authType !== undefined)
      throw new InvalidInputError(
        `${CODE}: OCI_AUTH_TYPE=${authType} is not supported by acmekit; unset it and sign with an API key ` +
          '(OCI_PRIVATE_KEY_PATH, OCI_TENANCY_OCID, OCI_USER_OCID, OCI_FINGERPRINT)',
        authType,
      );
    const region = env.required('OCI_REGION');
    if (!/^[a-z0-9-]+$/.test(region))
      throw new InvalidInputError(
        `${CODE}: OCI_REGION must be a region name such as us-phoenix-1, got ${JSON.stringify(region)}`,
        region,
      );
    const keyId = `${env.required('OCI_TENANCY_OCID')}/${env.required('OCI_USER_OCID')}/${env.required('OCI_PUBKEY_FINGERPRINT')}`;
    return {
      keyId,
      privateKey: new Secret(privateKeyOf(env)),
      compartmentId: env.required('OCI_COMPARTMENT_OCID'),
      apiUrl: apiUrlSetting(env, CODE, 'OCI_API_URL', `https://dns.${region}.oraclecloud.com/20180115`),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<OciConfig>;
