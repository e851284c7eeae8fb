// Three sections, each printing figures; not a test: it asserts nothing.
//
// propagation  how long the dns-01 propagation check takes for 10 names on a local BIND 9, from "all
//              records presented" to "CA may be told", with the default settings (first check at once,
//              then every RFC2136_POLLING_INTERVAL).
// cli          wall time of the installed `acmekit dns check rfc2136 -d example.test --json` against a
//              real BIND (TSIG), and the time of each step as the command reports it.
// requests     HTTP requests each API provider sends to its fake (test/support/fake-cloud) for one
//              certificate for example.test + *.example.test: two values presented at
//              _acme-challenge.example.test. (at once, as the solver does), then both removed; with a
//              fresh provider instance, then once more with the same instance (what it keeps).
//
//   node --import tsx bench/dns.ts [--only propagation,cli,requests] [--runs 20] [--cli-runs 10]
//                                  [--providers cloudflare,ovh] [--verbose]
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { relativeName, type TxtRecord } from '../src/dns/provider.ts';
import { createDnsProvider, dnsProviderCodes } from '../src/dns/registry.ts';
import { Dns01Solver } from '../src/solvers/dns01.ts';
import type { ChallengeContext } from '../src/solvers/solver.ts';
import { type BindServer, startBind } from '../test/support/bind.ts';
import { installedCli, runCli } from '../test/support/cli.ts';
import { startFakeAccountStorage, startFakeAcmeDns } from '../test/support/fake-cloud/acmedns.ts';
import { startFakeAlidns } from '../test/support/fake-cloud/alidns.ts';
import { startFakeAzure } from '../test/support/fake-cloud/azure.ts';
import { startFakeBunny } from '../test/support/fake-cloud/bunny.ts';
import { startFakeCivo } from '../test/support/fake-cloud/civo.ts';
import { startFakeCloudflare } from '../test/support/fake-cloud/cloudflare.ts';
import { startFakeCloudns } from '../test/support/fake-cloud/cloudns.ts';
import { startFakeCpanel } from '../test/support/fake-cloud/cpanel.ts';
import { startFakeDesec } from '../test/support/fake-cloud/desec.ts';
import { startFakeDesignate } from '../test/support/fake-cloud/designate.ts';
import { startFakeDigitalOcean } from '../test/support/fake-cloud/digitalocean.ts';
import { startFakeDirectAdmin } from '../test/support/fake-cloud/directadmin.ts';
import { startFakeDnsimple } from '../test/support/fake-cloud/dnsimple.ts';
import { startFakeDnsMadeEasy } from '../test/support/fake-cloud/dnsmadeeasy.ts';
import { startFakeDuckDns } from '../test/support/fake-cloud/duckdns.ts';
import { startFakeDynu } from '../test/support/fake-cloud/dynu.ts';
import { startFakeEasyDns } from '../test/support/fake-cloud/easydns.ts';
import { startFakeEdgeDns } from '../test/support/fake-cloud/edgedns.ts';
import { startFakeExoscale } from '../test/support/fake-cloud/exoscale.ts';
import { startFakeGandi } from '../test/support/fake-cloud/gandiv5.ts';
import { startFakeGcloud } from '../test/support/fake-cloud/gcloud.ts';
import { startFakeGcore } from '../test/support/fake-cloud/gcore.ts';
import { startFakeGodaddy } from '../test/support/fake-cloud/godaddy.ts';
import { startFakeHetzner } from '../test/support/fake-cloud/hetzner.ts';
import { startFakeHostingde } from '../test/support/fake-cloud/hostingde.ts';
import { startFakeHttpReq } from '../test/support/fake-cloud/httpreq.ts';
import { startFakeHuawei } from '../test/support/fake-cloud/huaweicloud.ts';
import { startFakeHurricane } from '../test/support/fake-cloud/hurricane.ts';
import { startFakeInfoblox } from '../test/support/fake-cloud/infoblox.ts';
import { startFakeInfomaniak } from '../test/support/fake-cloud/infomaniak.ts';
import { startFakeInwx } from '../test/support/fake-cloud/inwx.ts';
import { startFakeIonos } from '../test/support/fake-cloud/ionos.ts';
import { startFakeJoker } from '../test/support/fake-cloud/joker.ts';
import { startFakeLightsail } from '../test/support/fake-cloud/lightsail.ts';
import { startFakeLinode } from '../test/support/fake-cloud/linode.ts';
import { startFakeLoopia } from '../test/support/fake-cloud/loopia.ts';
import { startFakeLuadns } from '../test/support/fake-cloud/luadns.ts';
import { startFakeMythicBeasts } from '../test/support/fake-cloud/mythicbeasts.ts';
import { startFakeNamecheap } from '../test/support/fake-cloud/namecheap.ts';
import { startFakeNamecom } from '../test/support/fake-cloud/namedotcom.ts';
import { startFakeNamesilo } from '../test/support/fake-cloud/namesilo.ts';
import { startFakeNfsn } from '../test/support/fake-cloud/nearlyfreespeech.ts';
import { startFakeNetcup } from '../test/support/fake-cloud/netcup.ts';
import { startFakeNetlify } from '../test/support/fake-cloud/netlify.ts';
import { startFakeNjalla } from '../test/support/fake-cloud/njalla.ts';
import { startFakeNs1 } from '../test/support/fake-cloud/ns1.ts';
import { startFakeOci } from '../test/support/fake-cloud/oraclecloud.ts';
import { startFakeOvh } from '../test/support/fake-cloud/ovh.ts';
import { startFakePlesk } from '../test/support/fake-cloud/plesk.ts';
import { startFakePorkbun } from '../test/support/fake-cloud/porkbun.ts';
import { startFakeRackspace } from '../test/support/fake-cloud/rackspace.ts';
import { startFakeRegru } from '../test/support/fake-cloud/regru.ts';
import { FakeRoute53 } from '../test/support/fake-cloud/route53.ts';
import { startFakeScaleway } from '../test/support/fake-cloud/scaleway.ts';
import { startFakeSelectel } from '../test/support/fake-cloud/selectel.ts';
import { startFakeTechnitium } from '../test/support/fake-cloud/technitium.ts';
import { startFakeTencent } from '../test/support/fake-cloud/tencentcloud.ts';
import { startFakeTransip } from '../test/support/fake-cloud/transip.ts';
import { startFakeVercel } from '../test/support/fake-cloud/vercel.ts';
import { startFakeVultr } from '../test/support/fake-cloud/vultr.ts';
import { startFakeYandex } from '../test/support/fake-cloud/yandexcloud.ts';
import { createTestCa, type TestCa } from '../test/support/test-ca.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'propagation,cli,requests' },
    runs: { type: 'string', default: '20' },
    'cli-runs': { type: 'string', default: '10' },
    providers: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const sections = new Set(args.only.split(','));
const secret = randomBytes(32).toString('base64');
const live = new AbortController().signal;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------------
// propagation

function ctx(name: string, run: number): ChallengeContext {
  const value = randomBytes(32).toString('base64url');
  // Only the fields the dns-01 solver reads.
  return {
    identifier: { type: 'dns', value: name },
    authorization: { url: `urn:bench:${run}:${name}` },
    challenge: {
      url: `urn:bench:${run}:${name}:c`,
      dnsRecordName: `_acme-challenge.${name}`,
      dnsTxtValue: value,
      token: value,
      keyAuthorization: `${value}.bench`,
    },
  } as unknown as ChallengeContext;
}

async function propagation(bind: BindServer, mode: 'authoritative' | 'resolver') {
  const runs = Number(args.runs);
  const NAMES = 10;
  const loaded = await createDnsProvider('rfc2136', {
    env: {
      RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
      RFC2136_TSIG_KEY: 'bench-key.',
      RFC2136_TSIG_SECRET: secret,
    },
  });
  const solver = new Dns01Solver({
    provider: loaded,
    resolvers: [`127.0.0.1:${bind.port}`],
    nameserverPort: bind.port,
    propagation: { authoritative: mode === 'authoritative' },
  });
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const ctxs = Array.from({ length: NAMES }, (_, i) => ctx(`n${i}.example.test`, run));
    await Promise.all(ctxs.map((c) => solver.present(c, live)));
    const t0 = performance.now();
    await Promise.all(ctxs.map((c) => solver.wait(c, live)));
    times.push(performance.now() - t0);
    await Promise.all(ctxs.map((c) => solver.cleanup(c, live)));
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(
    `${mode.padEnd(13)} ${NAMES} names, ${runs} runs: presented → visible median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms`,
  );
}

// ---------------------------------------------------------------------------------------------------
// cli: the environment and flags of test/e2e/cli-dns-check.test.ts

async function cliCheck(bind: BindServer) {
  const runs = Number(args['cli-runs']);
  const bin = await installedCli();
  const env = {
    RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
    RFC2136_TSIG_KEY: 'bench-key.',
    RFC2136_TSIG_SECRET: secret,
    RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
    RFC2136_POLLING_INTERVAL: '0.1',
    RFC2136_PROPAGATION_TIMEOUT: '2',
  };
  const argv = [
    'dns',
    'check',
    'rfc2136',
    '-d',
    'example.test',
    '--dns.resolvers',
    `127.0.0.1:${bind.port}`,
    '--json',
  ];
  const STEPS = ['record', 'present', 'propagation', 'cleanup'] as const;
  const timed = async (file: string, a: string[], e: Env = {}) => {
    const t0 = performance.now();
    const r = await runCli(file, a, { env: e });
    return { ...r, ms: performance.now() - t0 };
  };
  console.log(`\nacmekit ${argv.join(' ')}\n  (${bin})`);
  console.log('Floors, timed in the same loop: `node -e 0` and `acmekit --version` (start-up, no DNS).');
  console.log(
    `run  node -e 0  --version   dns check   ${STEPS.map((s) => s.padStart(11)).join(' ')}   (steps: ms, from --json)`,
  );
  const rows: number[][] = [];
  for (let run = 1; run <= runs; run++) {
    const node = await timed(process.execPath, ['-e', '0']);
    const version = await timed(bin, ['--version']);
    const r = await timed(bin, argv, env);
    let doc: { ok: boolean; checks: { steps: { step: string; ms: number }[] }[] };
    try {
      doc = JSON.parse(r.stdout);
    } catch {
      console.log(`${String(run).padStart(3)}  exit ${r.code}, no JSON: ${r.stdout}${r.stderr}`);
      continue;
    }
    const steps = STEPS.map((s) => doc.checks[0]?.steps.find((x) => x.step === s)?.ms ?? Number.NaN);
    const row = [node.ms, version.ms, r.ms, ...steps];
    rows.push(row);
    console.log(`${String(run).padStart(3)}  ${cells(row)}${doc.ok ? '' : '   NOT ok'}`);
  }
  if (rows.length === 0) return;
  const col = (i: number) => rows.map((r) => r[i]!);
  for (const [label, f] of [
    ['med', median],
    ['min', (xs: number[]) => Math.min(...xs)],
  ] as const) {
    console.log(`${label}  ${cells(rows[0]!.map((_, i) => f(col(i))))}`);
  }
}
function cells(row: readonly number[]): string {
  const w = [9, 9, 11, 11, 11, 11, 11];
  return row.map((m, i) => m.toFixed(1).padStart(w[i]!)).join(' ');
}

// ---------------------------------------------------------------------------------------------------
// requests: one starter per provider that has a fake. Each starts the fake as the provider's integration
// test does (test/integration/dns/<code>.test.ts) with only example.test and one credential, at the
// fake's default page sizes, and names the variables the provider needs.

/** What a fake records: `requests` (RecordedRequest), or the AWS fakes' `calls`, or alidns's `log`. */
interface Seen {
  readonly method?: string;
  readonly path?: string;
  readonly url?: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly action?: string;
}
interface Fake {
  readonly requests?: readonly Seen[];
  readonly calls?: readonly Seen[];
  readonly log?: readonly Seen[];
  /** Several fakes behind one provider (acme-dns and its account storage), each with its own record. */
  readonly parts?: readonly Fake[];
  values?(fqdn: string): unknown;
  close(): Promise<void>;
}
type Env = Record<string, string>;
interface Starter {
  start(ca: TestCa, dir: string): Promise<Fake>;
  env(fake: never, dir: string): Env;
  /** The certificate's name when the service only serves its own (Duck DNS). */
  domain?: string;
}
/** Binds a fake's type to its env function. */
const fake = <F extends Fake>(
  start: (ca: TestCa, dir: string) => Promise<F>,
  env: (f: F, dir: string) => Env,
  domain?: string,
): Starter => ({ start, env: env as Starter['env'], ...(domain ? { domain } : {}) });
const seen = (f: Fake): (readonly Seen[])[] =>
  f.parts ? f.parts.flatMap(seen) : [f.requests ?? f.calls ?? f.log ?? []];
/** "POST /RPCSERV" and the like say little: the RPC method or action goes with it. */
function label(r: Seen): string {
  if (!r.method) return String(r.action);
  const text = `${r.url ?? ''} ${r.body ?? ''}`;
  const action = r.headers?.['x-tc-action'] ?? r.headers?.['x-amz-target'];
  if (typeof action === 'string') return `${r.method} ${r.path} (${action})`;
  const rpc =
    /<methodName>([^<]+)</.exec(text) ??
    /<packet[^>]*>\s*<(\w+>\s*<\w+)>/.exec(text) ??
    /"(?:method|action)"\s*:\s*"([^"]+)"/.exec(text) ??
    /[?&\s](?:command|action)=([^&\s]+)/i.exec(text);
  return `${r.method} ${r.path}${rpc ? ` (${rpc[1]})` : ''}`;
}

const Z = ['example.test'];
const S = `bench-${randomBytes(12).toString('hex')}`; // every password, token and API secret
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: ReturnType<typeof rsa>['privateKey']) =>
  k.export({ type: 'pkcs8', format: 'pem' }).toString();
const spki = (k: ReturnType<typeof rsa>['publicKey']) => k.export({ type: 'spki', format: 'pem' }).toString();
const TENANT = randomUUID();
const SUB = randomUUID();
const APP = randomUUID();
const PROJECT = '23d4522a987d4ab529f722a007c27846';
const OCI = {
  tenancy: 'ocid1.tenancy.oc1..aaaatenancy',
  user: 'ocid1.user.oc1..aaaauser',
  fingerprint: '20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34',
  compartment: 'ocid1.compartment.oc1..aaaacompartment',
};
const gcloudKey = rsa();
const ociKey = rsa();
const transipKey = rsa();
const yandexKey = rsa();
const AWS_ID = 'AKIAACMEKITBENCH0001';
const awsEnv = (dir: string): Env => ({
  AWS_ACCESS_KEY_ID: AWS_ID,
  AWS_SECRET_ACCESS_KEY: S,
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  AWS_CONFIG_FILE: join(dir, 'no-config'),
  AWS_EC2_METADATA_DISABLED: 'true',
});
const HURRICANE_KEY = randomBytes(12).toString('hex');

const STARTERS: Record<string, Starter> = {
  acmedns: fake(
    async (ca) => {
      // acme-dns itself and lego's HTTP account storage; the storage answers 201 ("CNAME created").
      const [api, storage] = await Promise.all([startFakeAcmeDns({ ca }), startFakeAccountStorage({ ca })]);
      return {
        apiBase: api.apiBase,
        storageUrl: storage.baseUrl,
        parts: [api, storage],
        close: () => Promise.all([api.close(), storage.close()]).then(() => {}),
      };
    },
    (f) => ({ ACME_DNS_API_BASE: f.apiBase, ACME_DNS_STORAGE_BASE_URL: f.storageUrl }),
  ),
  alidns: fake(
    (ca) => startFakeAlidns(ca, { domains: Z, keys: { LTAI5tAcmekitBench01: S } }),
    (f) => ({ ALICLOUD_API_URL: f.url, ALICLOUD_ACCESS_KEY: 'LTAI5tAcmekitBench01', ALICLOUD_SECRET_KEY: S }),
  ),
  azuredns: fake(
    (ca) =>
      startFakeAzure({
        ca,
        apps: [{ tenantId: TENANT, clientId: APP, secrets: [S] }],
        zones: [{ subscriptionId: SUB, resourceGroup: 'rg-dns', name: 'example.test', contributors: [APP] }],
      }),
    (f) => ({
      AZURE_AUTHORITY_HOST: f.authorityHost,
      AZURE_RESOURCE_MANAGER_URL: f.armUrl,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9',
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: S,
      AZURE_SUBSCRIPTION_ID: SUB,
      AZURE_RESOURCE_GROUP: 'rg-dns',
    }),
  ),
  bunny: fake(
    (ca) => startFakeBunny({ ca, zones: Z, apiKeys: [S] }),
    (f) => ({ BUNNY_API_URL: f.apiUrl, BUNNY_API_KEY: S }),
  ),
  civo: fake(
    (ca) => startFakeCivo({ ca, domains: Z, tokens: [S] }),
    (f) => ({ CIVO_API_URL: f.apiUrl, CIVO_TOKEN: S }),
  ),
  cloudflare: fake(
    (ca) => startFakeCloudflare({ ca, zones: Z, tokens: { [S]: {} } }),
    (f) => ({ CLOUDFLARE_BASE_URL: f.baseUrl, CLOUDFLARE_DNS_API_TOKEN: S }),
  ),
  cloudns: fake(
    (ca) => startFakeCloudns({ ca, zones: Z, users: [{ id: '1234', password: S }] }),
    (f) => ({ CLOUDNS_API_URL: f.apiUrl, CLOUDNS_AUTH_ID: '1234', CLOUDNS_AUTH_PASSWORD: S }),
  ),
  cpanel: fake(
    (ca) => startFakeCpanel({ ca, mode: 'cpanel', zones: { 'example.test': 'alice' }, tokens: { alice: S } }),
    (f) => ({ CPANEL_BASE_URL: f.baseUrl, CPANEL_USERNAME: 'alice', CPANEL_TOKEN: S }),
  ),
  desec: fake(
    (ca) => startFakeDesec({ ca, domains: { 'example.test': {} }, tokens: [S] }),
    (f) => ({ DESEC_API_URL: f.apiUrl, DESEC_TOKEN: S }),
  ),
  designate: fake(
    (ca) =>
      startFakeDesignate({
        ca,
        users: [
          {
            id: 'u-1',
            name: 'acme',
            domain: { id: 'default', name: 'Default' },
            password: S,
            projects: [PROJECT],
          },
        ],
        projects: { [PROJECT]: { name: 'dns-project', domainId: 'default' } },
        zones: { 'example.test': PROJECT },
        regions: ['RegionOne'],
      }),
    (f) => ({
      OS_AUTH_URL: f.authUrl,
      OS_REGION_NAME: 'RegionOne',
      OS_PROJECT_ID: PROJECT,
      OS_USERNAME: 'acme',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PASSWORD: S,
    }),
  ),
  digitalocean: fake(
    (ca) => startFakeDigitalOcean({ ca, domains: Z, tokens: { [S]: {} } }),
    (f) => ({ DO_API_URL: f.apiUrl, DO_AUTH_TOKEN: S }),
  ),
  directadmin: fake(
    (ca) => startFakeDirectAdmin({ ca, domains: { 'example.test': 'alice' }, users: { alice: [S] } }),
    (f) => ({ DIRECTADMIN_API_URL: f.apiUrl, DIRECTADMIN_USERNAME: 'alice', DIRECTADMIN_PASSWORD: S }),
  ),
  dnsimple: fake(
    (ca) => startFakeDnsimple({ ca, accountId: 1385, zones: Z, tokens: { [S]: 'account' } }),
    (f) => ({ DNSIMPLE_BASE_URL: f.baseUrl, DNSIMPLE_OAUTH_TOKEN: S }),
  ),
  dnsmadeeasy: fake(
    (ca) => startFakeDnsMadeEasy({ ca, domains: Z, keys: { '1c1a3c91-4770-4ce7-96f4-54c0eb0e457a': S } }),
    (f) => ({
      DNSMADEEASY_API_URL: f.apiUrl,
      DNSMADEEASY_API_KEY: '1c1a3c91-4770-4ce7-96f4-54c0eb0e457a',
      DNSMADEEASY_API_SECRET: S,
    }),
  ),
  duckdns: fake(
    (ca) => startFakeDuckDns({ ca, accounts: { [S]: ['my'] } }),
    (f) => ({ DUCKDNS_API_URL: f.apiUrl, DUCKDNS_TOKEN: S }),
    'my.duckdns.org',
  ),
  dynu: fake(
    (ca) => startFakeDynu({ ca, domains: Z, apiKeys: [S] }),
    (f) => ({ DYNU_API_URL: f.apiUrl, DYNU_API_KEY: S }),
  ),
  easydns: fake(
    (ca) => startFakeEasyDns({ ca, domains: Z, users: { 'bench-token': S } }),
    (f) => ({ EASYDNS_ENDPOINT: f.endpoint, EASYDNS_TOKEN: 'bench-token', EASYDNS_KEY: S }),
  ),
  edgedns: fake(
    (ca) =>
      startFakeEdgeDns({
        ca,
        clients: { 'akab-client-token-0001': { accessToken: `access-${S}`, clientSecret: S, zones: Z } },
      }),
    (f) => ({
      AKAMAI_HOST: f.host,
      AKAMAI_CLIENT_TOKEN: 'akab-client-token-0001',
      AKAMAI_CLIENT_SECRET: S,
      AKAMAI_ACCESS_TOKEN: `access-${S}`,
    }),
  ),
  exoscale: fake(
    (ca) => startFakeExoscale({ ca, domains: Z, keys: { EXO0123456789abcdef01234567: S } }),
    (f) => ({
      EXOSCALE_ENDPOINT: f.endpoint,
      EXOSCALE_API_KEY: 'EXO0123456789abcdef01234567',
      EXOSCALE_API_SECRET: S,
    }),
  ),
  gandiv5: fake(
    (ca) => startFakeGandi({ ca, domains: Z, tokens: { [S]: {} }, apiKeys: [] }),
    (f) => ({ GANDIV5_API_URL: f.apiUrl, GANDIV5_PERSONAL_ACCESS_TOKEN: S }),
  ),
  gcloud: fake(
    async (ca, dir) => {
      const email = 'dns-writer@acme-dns-project.iam.gserviceaccount.com';
      const f = await startFakeGcloud({
        ca,
        project: 'acme-dns-project',
        zones: [{ name: 'example-test', dnsName: 'example.test.' }],
        serviceAccounts: [{ email, keyId: 'kid-dns-writer', publicKey: gcloudKey.publicKey }],
      });
      await mkdir(join(dir, 'gcloud-empty'), { recursive: true });
      await writeFile(
        join(dir, 'sa.json'),
        JSON.stringify({
          type: 'service_account',
          project_id: 'acme-dns-project',
          private_key_id: 'kid-dns-writer',
          private_key: pem(gcloudKey.privateKey),
          client_email: email,
          client_id: '1234567890',
          token_uri: f.tokenUri,
        }),
      );
      return f;
    },
    (f, dir) => ({
      GCE_DNS_API_URL: f.dnsUrl,
      GCE_IAM_CREDENTIALS_API_URL: f.iamUrl,
      CLOUDSDK_CONFIG: join(dir, 'gcloud-empty'),
      GCE_METADATA_HOST: '127.0.0.1:9',
      GCE_SERVICE_ACCOUNT_FILE: join(dir, 'sa.json'),
    }),
  ),
  gcore: fake(
    (ca) => startFakeGcore({ ca, zones: Z, tokens: { [S]: {} } }),
    (f) => ({ GCORE_API_URL: f.apiUrl, GCORE_PERMANENT_API_TOKEN: S }),
  ),
  godaddy: fake(
    (ca) => startFakeGodaddy({ ca, domains: Z, keys: { 'bench-key': S } }),
    (f) => ({ GODADDY_API_URL: f.apiUrl, GODADDY_API_KEY: 'bench-key', GODADDY_API_SECRET: S }),
  ),
  hetzner: fake(
    (ca) => startFakeHetzner({ ca, zones: Z, tokens: { [S]: {} } }),
    (f) => ({ HETZNER_API_URL: f.apiUrl, HETZNER_API_TOKEN: S }),
  ),
  hostingde: fake(
    (ca) => startFakeHostingde({ ca, zones: Z, keys: [S] }),
    (f) => ({ HOSTINGDE_API_URL: f.apiUrl, HOSTINGDE_API_KEY: S }),
  ),
  httpreq: fake(
    (ca) =>
      startFakeHttpReq({ ca, basePath: '/api/dns', credentials: { username: 'acme-agent', password: S } }),
    (f) => ({ HTTPREQ_ENDPOINT: f.endpoint, HTTPREQ_USERNAME: 'acme-agent', HTTPREQ_PASSWORD: S }),
  ),
  huaweicloud: fake(
    (ca) =>
      startFakeHuawei({
        ca,
        region: 'ap-southeast-1',
        keys: { HPUAFAKEACCESSKEY01: { sk: S, projectId: '0c9a1d2e3f4a5b6c7d8e9f0a1b2c3d4e', zones: Z } },
      }),
    (f) => ({
      HUAWEICLOUD_API_URL: f.url,
      HUAWEICLOUD_IAM_URL: f.url,
      HUAWEICLOUD_ACCESS_KEY_ID: 'HPUAFAKEACCESSKEY01',
      HUAWEICLOUD_SECRET_ACCESS_KEY: S,
      HUAWEICLOUD_REGION: 'ap-southeast-1',
    }),
  ),
  hurricane: fake(
    // The record and its key are set up at dns.he.net beforehand, as its users do.
    (ca) =>
      startFakeHurricane({ ca, records: { '_acme-challenge.example.test': HURRICANE_KEY }, initial: '.' }),
    (f) => ({ HURRICANE_API_URL: f.apiUrl, HURRICANE_TOKENS: `example.test:${HURRICANE_KEY}` }),
  ),
  infoblox: fake(
    (ca) => startFakeInfoblox({ ca, admins: { 'api-user': S }, views: { External: Z } }),
    (f) => ({
      INFOBLOX_HOST: f.host,
      INFOBLOX_PORT: String(f.port),
      INFOBLOX_USERNAME: 'api-user',
      INFOBLOX_PASSWORD: S,
    }),
  ),
  infomaniak: fake(
    (ca) => startFakeInfomaniak({ ca, zones: Z, tokens: { [S]: {} } }),
    (f) => ({ INFOMANIAK_ENDPOINT: f.apiUrl, INFOMANIAK_ACCESS_TOKEN: S }),
  ),
  inwx: fake(
    (ca) => startFakeInwx({ ca, accounts: { plain: { password: S, domains: Z } } }),
    (f) => ({ INWX_API_URL: f.apiUrl, INWX_USERNAME: 'plain', INWX_PASSWORD: S }),
  ),
  ionos: fake(
    (ca) => startFakeIonos({ ca, zones: Z, keys: [`prefix.${S}`] }),
    (f) => ({ IONOS_API_URL: f.apiUrl, IONOS_API_KEY: `prefix.${S}` }),
  ),
  joker: fake(
    (ca) => startFakeJoker({ ca, accounts: { 'me@example.test': { password: S, domains: Z } } }),
    (f) => ({
      JOKER_DMAPI_URL: f.dmapiUrl,
      JOKER_SVC_URL: f.svcUrl,
      JOKER_USERNAME: 'me@example.test',
      JOKER_PASSWORD: S,
    }),
  ),
  lightsail: fake(
    (ca) => startFakeLightsail({ ca, domains: Z, keys: [{ accessKeyId: AWS_ID, secretAccessKey: S }] }),
    (f, dir) => ({ AWS_ENDPOINT_URL_LIGHTSAIL: f.endpoint, ...awsEnv(dir) }),
  ),
  linode: fake(
    (ca) => startFakeLinode({ ca, domains: Z, tokens: { [S]: {} } }),
    (f) => ({ LINODE_API_URL: f.apiUrl, LINODE_TOKEN: S }),
  ),
  loopia: fake(
    (ca) => startFakeLoopia({ ca, users: { 'acmekit@loopiaapi': { password: S, domains: Z } } }),
    (f) => ({ LOOPIA_API_URL: f.apiUrl, LOOPIA_API_USER: 'acmekit@loopiaapi', LOOPIA_API_PASSWORD: S }),
  ),
  luadns: fake(
    (ca) => startFakeLuadns({ ca, zones: Z, accounts: { 'owner@example.test': S } }),
    (f) => ({ LUADNS_API_URL: f.apiUrl, LUADNS_API_USERNAME: 'owner@example.test', LUADNS_API_TOKEN: S }),
  ),
  mythicbeasts: fake(
    (ca) => startFakeMythicBeasts({ ca, keys: { acmekitkey01: { secret: S, zones: Z } } }),
    (f) => ({
      MYTHICBEASTS_API_ENDPOINT: f.apiUrl,
      MYTHICBEASTS_AUTH_API_ENDPOINT: f.authUrl,
      MYTHICBEASTS_USERNAME: 'acmekitkey01',
      MYTHICBEASTS_PASSWORD: S,
    }),
  ),
  namecheap: fake(
    (ca) =>
      startFakeNamecheap({
        ca,
        users: { acmekituser: { key: S, whitelist: ['198.51.100.7'], domains: Z } },
        publicIp: '198.51.100.7',
      }),
    (f) => ({
      NAMECHEAP_API_URL: f.apiUrl,
      NAMECHEAP_IP_LOOKUP_URL: f.ipLookupUrl,
      NAMECHEAP_API_USER: 'acmekituser',
      NAMECHEAP_API_KEY: S,
      NAMECHEAP_CLIENT_IP: '198.51.100.7',
    }),
  ),
  namedotcom: fake(
    (ca) => startFakeNamecom({ ca, domains: Z, users: { 'foo.bar': S } }),
    (f) => ({ NAMECOM_SERVER: f.apiUrl, NAMECOM_USERNAME: 'foo.bar', NAMECOM_API_TOKEN: S }),
  ),
  namesilo: fake(
    (ca) => startFakeNamesilo({ ca, domains: Z, apiKeys: [S] }),
    (f) => ({ NAMESILO_API_URL: f.apiUrl, NAMESILO_API_KEY: S }),
  ),
  nearlyfreespeech: fake(
    (ca) => startFakeNfsn({ ca, members: { acmekituser: { apiKey: S, domains: Z } } }),
    (f) => ({
      NEARLYFREESPEECH_API_URL: f.apiUrl,
      NEARLYFREESPEECH_LOGIN: 'acmekituser',
      NEARLYFREESPEECH_API_KEY: S,
    }),
  ),
  netcup: fake(
    (ca) => startFakeNetcup({ ca, customers: { '12345': { apiKey: `key-${S}`, apiPassword: S, zones: Z } } }),
    (f) => ({
      NETCUP_API_URL: f.apiUrl,
      NETCUP_CUSTOMER_NUMBER: '12345',
      NETCUP_API_KEY: `key-${S}`,
      NETCUP_API_PASSWORD: S,
    }),
  ),
  netlify: fake(
    (ca) => startFakeNetlify({ ca, zones: Z, tokens: [S] }),
    (f) => ({ NETLIFY_API_URL: f.apiUrl, NETLIFY_TOKEN: S }),
  ),
  njalla: fake(
    (ca) => startFakeNjalla({ ca, tokens: { [S]: Z } }),
    (f) => ({ NJALLA_API_URL: f.apiUrl, NJALLA_TOKEN: S }),
  ),
  ns1: fake(
    (ca) => startFakeNs1({ ca, zones: Z, keys: { [S]: {} } }),
    (f) => ({ NS1_API_URL: f.apiUrl, NS1_API_KEY: S }),
  ),
  oraclecloud: fake(
    async (ca, dir) => {
      await writeFile(join(dir, 'oci_api_key.pem'), pem(ociKey.privateKey));
      return startFakeOci({
        ca,
        keys: {
          [`${OCI.tenancy}/${OCI.user}/${OCI.fingerprint}`]: {
            publicKeyPem: spki(ociKey.publicKey),
            compartments: [OCI.compartment],
          },
        },
        zones: { 'example.test': OCI.compartment },
      });
    },
    (f, dir) => ({
      OCI_API_URL: f.apiUrl,
      OCI_PRIVATE_KEY_PATH: join(dir, 'oci_api_key.pem'),
      OCI_TENANCY_OCID: OCI.tenancy,
      OCI_USER_OCID: OCI.user,
      OCI_FINGERPRINT: OCI.fingerprint,
      OCI_REGION: 'us-phoenix-1',
      OCI_COMPARTMENT_OCID: OCI.compartment,
    }),
  ),
  ovh: fake(
    (ca) =>
      startFakeOvh({
        ca,
        zones: Z,
        applications: { appkey1234567890: S },
        consumerKeys: { [`consumer-${S}`]: { application: 'appkey1234567890' } },
      }),
    (f) => ({
      OVH_ENDPOINT: f.endpoint,
      OVH_APPLICATION_KEY: 'appkey1234567890',
      OVH_APPLICATION_SECRET: S,
      OVH_CONSUMER_KEY: `consumer-${S}`,
    }),
  ),
  plesk: fake(
    (ca) => startFakePlesk({ ca, sites: { 'example.test': ['admin'] }, logins: { admin: S } }),
    (f) => ({ PLESK_SERVER_BASE_URL: f.baseUrl, PLESK_USERNAME: 'admin', PLESK_PASSWORD: S }),
  ),
  porkbun: fake(
    (ca) => startFakePorkbun({ ca, domains: { 'example.test': {} }, keys: { 'pk1-bench': S } }),
    (f) => ({ PORKBUN_API_URL: f.apiUrl, PORKBUN_API_KEY: 'pk1-bench', PORKBUN_SECRET_API_KEY: S }),
  ),
  rackspace: fake(
    (ca) => startFakeRackspace({ ca, users: { acmekit: { apiKey: S, tenant: '123456', domains: Z } } }),
    (f) => ({ RACKSPACE_IDENTITY_URL: f.identityUrl, RACKSPACE_USER: 'acmekit', RACKSPACE_API_KEY: S }),
  ),
  regru: fake(
    (ca) => startFakeRegru({ ca, domains: Z, users: { 'acmekit-user': S } }),
    (f) => ({ REGRU_API_URL: f.apiUrl, REGRU_USERNAME: 'acmekit-user', REGRU_PASSWORD: S }),
  ),
  route53: fake(
    async (ca) => {
      const f = await FakeRoute53.start(ca);
      f.addZone('example.test.');
      f.addKey({ accessKeyId: AWS_ID, secretAccessKey: S });
      return f;
    },
    (f, dir) => ({
      AWS_ENDPOINT_URL_ROUTE_53: f.url,
      AWS_ENDPOINT_URL_STS: f.url,
      AWS_POLLING_INTERVAL: '20ms',
      ...awsEnv(dir),
    }),
  ),
  scaleway: fake(
    (ca) => startFakeScaleway({ ca, zones: Z, keys: { [S]: {} } }),
    (f) => ({ SCW_API_URL: f.apiUrl, SCW_SECRET_KEY: S }),
  ),
  selectel: fake(
    (ca) => startFakeSelectel({ ca, domains: Z, tokens: [S] }),
    (f) => ({ SELECTEL_API_URL: f.apiUrl, SELECTEL_API_TOKEN: S }),
  ),
  technitium: fake(
    (ca) => startFakeTechnitium({ ca, zones: Z, tokens: { [S]: {} } }),
    (f) => ({ TECHNITIUM_SERVER_BASE_URL: f.baseUrl, TECHNITIUM_API_TOKEN: S }),
  ),
  tencentcloud: fake(
    (ca) =>
      startFakeTencent({ ca, domains: Z, keys: { AKIDbenchbenchbenchbenchbenchbe1234: { secretKey: S } } }),
    (f) => ({
      TENCENTCLOUD_API_URL: f.apiUrl,
      TENCENTCLOUD_SECRET_ID: 'AKIDbenchbenchbenchbenchbenchbe1234',
      TENCENTCLOUD_SECRET_KEY: S,
    }),
  ),
  transip: fake(
    async (ca, dir) => {
      await writeFile(join(dir, 'transip.key'), pem(transipKey.privateKey));
      return startFakeTransip({ ca, accounts: { acmekit: { publicKey: transipKey.publicKey, domains: Z } } });
    },
    (f, dir) => ({
      TRANSIP_API_URL: f.apiUrl,
      TRANSIP_ACCOUNT_NAME: 'acmekit',
      TRANSIP_PRIVATE_KEY_PATH: join(dir, 'transip.key'),
    }),
  ),
  vercel: fake(
    (ca) => startFakeVercel({ ca, domains: { 'example.test': null }, tokens: { [S]: [] } }),
    (f) => ({ VERCEL_API_URL: f.apiUrl, VERCEL_API_TOKEN: S }),
  ),
  vultr: fake(
    (ca) => startFakeVultr({ ca, domains: Z, apiKeys: [S] }),
    (f) => ({ VULTR_API_URL: f.apiUrl, VULTR_API_KEY: S }),
  ),
  yandexcloud: fake(
    (ca) =>
      startFakeYandex({
        ca,
        keys: {
          ajeq1k5jfmvqaveb1s0c: {
            serviceAccountId: 'aje5rr4l5kj0lqvp4b5t',
            publicKeyPem: spki(yandexKey.publicKey),
          },
        },
        folders: { b1gfolder0000000001: { editors: ['aje5rr4l5kj0lqvp4b5t'], zones: Z } },
      }),
    (f) => ({
      YANDEX_CLOUD_API_URL: f.url,
      YANDEX_CLOUD_IAM_URL: f.url,
      YANDEX_CLOUD_FOLDER_ID: 'b1gfolder0000000001',
      YANDEX_CLOUD_IAM_TOKEN: Buffer.from(
        JSON.stringify({
          id: 'ajeq1k5jfmvqaveb1s0c',
          service_account_id: 'aje5rr4l5kj0lqvp4b5t',
          created_at: '2024-05-01T10:00:00Z',
          key_algorithm: 'RSA_2048',
          public_key: spki(yandexKey.publicKey),
          private_key: pem(yandexKey.privateKey),
        }),
      ).toString('base64'),
    }),
  ),
};
/** Providers in the registry without a fake here, and why. */
const NO_FAKE: Record<string, string> = {
  exec: 'runs a program, no API',
  manual: 'asks a person, no API',
  pdns: 'tested against a real PowerDNS (test/support/pdns.ts), no fake',
  rfc2136: 'DNS UPDATE, not HTTP (the other two sections)',
};

interface Tally {
  present: number;
  cleanup: number;
  log: string[];
}

/** What one certificate for `domain` + `*.domain` does with the provider: two values, then both removed. */
async function oneCertificate(
  provider: Awaited<ReturnType<typeof createDnsProvider>>['provider'],
  f: Fake,
  domain: string,
): Promise<Tally> {
  const fqdn = `_acme-challenge.${domain}.`;
  const zone = `${domain}.`;
  const records: TxtRecord[] = ['', '*.'].map((prefix, i) => {
    const value = randomBytes(32).toString('base64url');
    // `acme` as the solver fills it (acme-dns keys its accounts by the domain).
    return {
      fqdn,
      zone,
      name: relativeName(fqdn, zone),
      value,
      ttl: 120,
      acme: { domain: zone, token: `bench-${i}-${prefix}`, keyAuthorization: `${value}.bench` },
    };
  });
  const tally: Tally = { present: 0, cleanup: 0, log: [] };
  const phase = async (name: 'present' | 'cleanup', run: () => Promise<unknown>) => {
    const at = seen(f).map((list) => list.length);
    await run();
    for (const [i, list] of seen(f).entries()) {
      tally[name] += list.length - at[i]!;
      for (const r of list.slice(at[i])) tally.log.push(`${name}: ${label(r)}`);
    }
  };
  if (provider.sequentialIntervalMs !== undefined) {
    // One value per name: the solver presents and removes one challenge after the other.
    for (const r of records) {
      await phase('present', () => provider.present(r, live));
      await phase('cleanup', () => provider.cleanup(r, live));
    }
  } else {
    await phase('present', () => Promise.all(records.map((r) => provider.present(r, live))));
    // Both values must be there (a lost update of a read-modify-write shows here), and gone after cleanup.
    const held = async () => {
      const v = f.values ? await f.values(fqdn) : undefined;
      return Array.isArray(v) ? records.filter((r) => v.includes(r.value)).length : undefined;
    };
    const afterPresent = await held();
    if (afterPresent !== undefined && afterPresent < 2)
      tally.log.push(`CHECK: after present the fake holds ${afterPresent} of the 2 values`);
    await phase('cleanup', () => Promise.all(records.map((r) => provider.cleanup(r, live))));
    const afterCleanup = await held();
    if (afterCleanup)
      tally.log.push(`CHECK: after cleanup the fake still holds ${afterCleanup} of the 2 values`);
  }
  return tally;
}

async function requestCounts() {
  const ca = await createTestCa();
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-bench-dns-'));
  const wanted = args.providers?.split(',');
  const codes = dnsProviderCodes().filter((c) => !wanted || wanted.includes(c));
  console.log(
    '\nHTTP requests for one certificate example.test + *.example.test (two TXT values at one name):' +
      '\nfresh = a new provider instance (its first certificate); again = the same instance, a second certificate\n',
  );
  console.log(`${'provider'.padEnd(17)} | present | cleanup | total | again: present | cleanup | total`);
  console.log(`${'-'.repeat(17)}-|---------|---------|-------|----------------|---------|------`);
  const skipped: string[] = [];
  const notes: string[] = [];
  for (const code of codes) {
    const starter = STARTERS[code];
    if (!starter) {
      skipped.push(`${code}: ${NO_FAKE[code] ?? 'no fake in test/support/fake-cloud'}`);
      continue;
    }
    const f = await starter.start(ca, dir);
    try {
      const loaded = await createDnsProvider(code, {
        env: starter.env(f as never, dir),
        caBundle: ca.rootPem,
        clock: { now: () => Date.now(), sleep: async () => {} },
      });
      const domain = starter.domain ?? 'example.test';
      const first = await oneCertificate(loaded.provider, f, domain);
      const again = await oneCertificate(loaded.provider, f, domain);
      const cell = (n: number, w: number) => String(n).padStart(w);
      console.log(
        `${code.padEnd(17)} | ${cell(first.present, 7)} | ${cell(first.cleanup, 7)} | ${cell(first.present + first.cleanup, 5)} | ${cell(again.present, 14)} | ${cell(again.cleanup, 7)} | ${cell(again.present + again.cleanup, 5)}`,
      );
      if (starter.domain)
        notes.push(`${code}: for ${domain} + *.${domain} (the service serves only its own names)`);
      if (loaded.provider.sequentialIntervalMs !== undefined)
        notes.push(
          `${code}: one value per name, so the two challenges run one after the other (interval not waited)`,
        );
      for (const [round, t] of [
        ['fresh', first],
        ['again', again],
      ] as const)
        for (const line of t.log.filter((l) => l.startsWith('CHECK')))
          notes.push(`${code} (${round}): ${line}`);
      if (args.verbose) {
        for (const l of first.log) console.log(`    fresh ${l}`);
        for (const l of again.log) console.log(`    again ${l}`);
      }
    } catch (err) {
      console.log(`${code.padEnd(17)} | FAILED: ${(err as Error).message}`);
    } finally {
      await f.close();
    }
  }
  if (notes.length) console.log(`\nNotes:\n  ${notes.join('\n  ')}`);
  console.log(`\nSkipped:\n  ${skipped.join('\n  ')}`);
  await rm(dir, { recursive: true, force: true });
  await rm(ca.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------

if (sections.has('propagation') || sections.has('cli')) {
  const bind = await startBind({ keys: [{ name: 'bench-key.', algorithm: 'hmac-sha256', secret }] });
  try {
    if (sections.has('propagation')) {
      console.log(
        `BIND ${bind.host}:${bind.port}, polling interval ${(await createDnsProvider('rfc2136', { env: { RFC2136_NAMESERVER: 'x' } })).settings.pollingIntervalMs} ms (default)`,
      );
      await propagation(bind, 'authoritative');
      await propagation(bind, 'resolver');
    }
    if (sections.has('cli')) await cliCheck(bind);
  } finally {
    await bind.stop();
  }
}
if (sections.has('requests')) await requestCounts();
