import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProviderHttp } from '../../../src/dns/definition.ts';
import type { AwsContext } from '../../../src/dns/providers/route53/credential-types.ts';
import {
  AwsCredentialChain,
  type CredentialSettings,
} from '../../../src/dns/providers/route53/credentials.ts';
import { parseSharedFile } from '../../../src/dns/providers/route53/shared-config.ts';
import { InvalidInputError, NetworkError } from '../../../src/errors/base.ts';
import { DnsProviderError } from '../../../src/errors/dns.ts';
import { silentLogger } from '../../../src/internal/logger.ts';
import { Secret } from '../../../src/internal/secret.ts';
import type { HttpResponse, RequestOptions } from '../../../src/protocol/transport.ts';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}
type Handler = (req: Seen) => { status: number; body: string } | Promise<{ status: number; body: string }>;

/** An in-memory ProviderHttp: records each request and answers from `handler`; refused when none fits. */
function stubHttp(handler: Handler): ProviderHttp & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    async request(method: string, url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
      const req = { method, url, headers: { ...opts.headers }, body: opts.body };
      seen.push(req);
      const answer = await handler(req);
      if (answer.status === 0) {
        throw new NetworkError(`${method} ${url} failed: ECONNREFUSED`, url, {
          cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
        });
      }
      return { url, status: answer.status, headers: {}, body: Buffer.from(answer.body) };
    },
  };
}

const refused = (): { status: number; body: string } => ({ status: 0, body: '' });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-awscreds-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function clockAt(start: number): AwsContext['clock'] & { t: number } {
  const c = {
    t: start,
    now: () => c.t,
    sleep: async () => {},
  };
  return c;
}

function chain(
  http: ProviderHttp,
  over: Partial<CredentialSettings> = {},
  clock = clockAt(Date.parse('2025-01-01T00:00:00Z')),
): AwsCredentialChain {
  const settings: CredentialSettings = {
    credentialsFile: join(dir, 'missing-credentials'),
    configFile: join(dir, 'missing-config'),
    imdsEndpoint: 'http://imds.invalid',
    imdsDisabled: true,
    ...over,
  };
  return new AwsCredentialChain(settings, { http, clock, logger: silentLogger });
}

const imdsCreds = (key: string, expiration: string): string =>
  JSON.stringify({
    Code: 'Success',
    Type: 'AWS-HMAC',
    AccessKeyId: key,
    SecretAccessKey: `secret-of-${key}`,
    Token: `token-of-${key}`,
    Expiration: expiration,
  });

function stsXml(action: string, key: string, expiration: string): string {
  return (
    `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials>` +
    `<AccessKeyId>${key}</AccessKeyId><SecretAccessKey>s-${key}</SecretAccessKey><SessionToken>t-${key}</SessionToken>` +
    `<Expiration>${expiration}</Expiration></Credentials></${action}Result></${action}Response>`
  );
}

describe('aws credentials: shared files', () => {
  test('credentials file sections are profile names; config file uses [profile x] and [default]', () => {
    const creds = parseSharedFile(
      '# comment\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1 ; note\n\n[ops]\nAWS_ACCESS_KEY_ID=AKIA2\n',
      'credentials',
    );
    assert.deepEqual(Object.fromEntries(creds), {
      default: { aws_access_key_id: 'AKIA1', aws_secret_access_key: 's1' },
      ops: { aws_access_key_id: 'AKIA2' },
    });
    const config = parseSharedFile(
      '[default]\nregion = eu-west-1\n[profile dns]\nrole_arn = arn:aws:iam::1:role/r\ns3 =\n  max_concurrent_requests = 2\n[ops]\nregion=x\n[sso-session s]\nsso_region=y\n',
      'config',
    );
    assert.deepEqual(Object.fromEntries(config), {
      default: { region: 'eu-west-1' },
      dns: { role_arn: 'arn:aws:iam::1:role/r', s3: '' },
    });
  });
});

describe('aws credentials: the chain', () => {
  test('environment keys come first and need no request', async () => {
    const http = stubHttp(refused);
    const c = chain(http, {
      accessKeyId: 'AKIAENV',
      secretAccessKey: new Secret('env-secret'),
      imdsDisabled: false,
    });
    const creds = await c.get('present');
    assert.equal(creds.accessKeyId, 'AKIAENV');
    assert.equal(creds.source, 'environment variables');
    assert.equal(http.seen.length, 0);
  });

  test('an explicit AWS_PROFILE comes before environment keys; the credentials file wins over the config file', async () => {
    const credentials = join(dir, 'c1');
    const config = join(dir, 'k1');
    await writeFile(
      credentials,
      '[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = from-credentials\n',
    );
    await writeFile(config, '[profile ops]\naws_secret_access_key = from-config\naws_session_token = tok\n');
    const c = chain(stubHttp(refused), {
      credentialsFile: credentials,
      configFile: config,
      profile: 'ops',
      accessKeyId: 'AKIAENV',
      secretAccessKey: new Secret('env-secret'),
    });
    const creds = await c.get('present');
    assert.equal(creds.accessKeyId, 'AKIAOPS');
    assert.equal(creds.secretAccessKey.reveal(), 'from-credentials');
    assert.equal(creds.sessionToken?.reveal(), 'tok');
    assert.equal(creds.source, 'profile "ops"');
  });

  test('without AWS_PROFILE the [default] profile is used after environment and web identity', async () => {
    const credentials = join(dir, 'c2');
    await writeFile(credentials, '[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = def\n');
    const creds = await chain(stubHttp(refused), { credentialsFile: credentials }).get('present');
    assert.equal(creds.accessKeyId, 'AKIADEF');
  });

  test('profile problems fail with InvalidInputError that says what to do', async () => {
    const credentials = join(dir, 'c3');
    const config = join(dir, 'k3');
    await writeFile(credentials, '[half]\naws_access_key_id = AKIAHALF\n');
    await writeFile(
      config,
      '[profile sso]\nsso_session = corp\n[profile proc]\ncredential_process = /bin/creds\n',
    );
    const files = { credentialsFile: credentials, configFile: config };
    await assert.rejects(
      chain(stubHttp(refused), { ...files, profile: 'half' }).get('present'),
      (e: unknown) => e instanceof InvalidInputError && /no aws_secret_access_key/.test(e.message),
    );
    await assert.rejects(
      chain(stubHttp(refused), { ...files, profile: 'proc' }).get('present'),
      (e: unknown) =>
        e instanceof InvalidInputError &&
        /credential_process/.test(e.message) &&
        /export-credentials/.test(e.message),
    );
    await assert.rejects(
      chain(stubHttp(refused), { ...files, profile: 'sso' }).get('present'),
      (e: unknown) => e instanceof InvalidInputError && /sso_session/.test(e.message),
    );
    await assert.rejects(
      chain(stubHttp(refused), { ...files, profile: 'nope' }).get('present'),
      (e: unknown) => e instanceof InvalidInputError && /profile "nope" is not in/.test(e.message),
    );
  });

  test('role_arn + source_profile: AssumeRole is signed for STS with the source profile keys', async () => {
    const credentials = join(dir, 'c4');
    const config = join(dir, 'k4');
    await writeFile(
      credentials,
      '[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n',
    );
    await writeFile(
      config,
      '[profile dns]\nrole_arn = arn:aws:iam::1:role/dns\nsource_profile = base\nexternal_id = ext\nrole_session_name = s1\nregion = eu-central-1\n',
    );
    const http = stubHttp(() => ({
      status: 200,
      body: stsXml('AssumeRole', 'ASIAROLE', '2025-01-01T01:00:00Z'),
    }));
    const creds = await chain(http, { credentialsFile: credentials, configFile: config, profile: 'dns' }).get(
      'present',
    );
    assert.equal(creds.accessKeyId, 'ASIAROLE');
    assert.equal(creds.sessionToken?.reveal(), 't-ASIAROLE');
    assert.equal(creds.expiresAt, Date.parse('2025-01-01T01:00:00Z'));
    const [req] = http.seen;
    assert.equal(
      req?.url,
      'https://sts.eu-central-1.amazonaws.com/',
      'the profile region picks the STS endpoint',
    );
    assert.match(
      req?.headers.authorization ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIABASE\/20250101\/eu-central-1\/sts\/aws4_request, /,
    );
    const form = new URLSearchParams(req?.body);
    assert.equal(form.get('Action'), 'AssumeRole');
    assert.equal(form.get('RoleArn'), 'arn:aws:iam::1:role/dns');
    assert.equal(form.get('RoleSessionName'), 's1');
    assert.equal(form.get('ExternalId'), 'ext');
  });

  test('AWS_ASSUME_ROLE_ARN refused by STS → DnsProviderError naming sts:AssumeRole and the external ID', async () => {
    const http = stubHttp(() => ({
      status: 403,
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>',
    }));
    const c = chain(http, {
      accessKeyId: 'AKIAENV',
      secretAccessKey: new Secret('env-secret'),
      assumeRoleArn: 'arn:aws:iam::1:role/x',
      externalId: 'e',
    });
    await assert.rejects(c.get('cleanup'), (e: unknown) => {
      assert.ok(e instanceof DnsProviderError);
      assert.equal(e.operation, 'cleanup');
      assert.match(e.message, /^route53: cleanup: STS denied AssumeRole for arn:aws:iam::1:role\/x/);
      assert.match(e.message, /sts:AssumeRole/);
      assert.match(e.message, /AWS_EXTERNAL_ID/);
      assert.ok(!e.message.includes('env-secret'));
      return true;
    });
  });

  test('web identity: unsigned AssumeRoleWithWebIdentity with the token file, read again on refresh', async () => {
    const tokenFile = join(dir, 'jwt');
    await writeFile(tokenFile, 'first-token\n');
    const clock = clockAt(Date.parse('2025-01-01T00:00:00Z'));
    let n = 0;
    const http = stubHttp(() => {
      n += 1;
      return {
        status: 200,
        body: stsXml('AssumeRoleWithWebIdentity', `ASIAWEB${n}`, '2025-01-01T01:00:00Z'),
      };
    });
    const c = chain(
      http,
      { webIdentityTokenFile: tokenFile, roleArn: 'arn:aws:iam::1:role/w', region: 'us-west-2' },
      clock,
    );
    assert.equal((await c.get('present')).accessKeyId, 'ASIAWEB1');
    assert.equal(http.seen[0]?.headers.authorization, undefined, 'not signed');
    assert.equal(new URLSearchParams(http.seen[0]?.body).get('WebIdentityToken'), 'first-token');
    assert.equal(http.seen[0]?.url, 'https://sts.us-west-2.amazonaws.com/');
    await writeFile(tokenFile, 'rotated-token\n');
    clock.t = Date.parse('2025-01-01T00:56:00Z');
    assert.equal((await c.get('present')).accessKeyId, 'ASIAWEB2');
    assert.equal(new URLSearchParams(http.seen[1]?.body).get('WebIdentityToken'), 'rotated-token');
  });
});

describe('aws credentials: instance metadata and containers', () => {
  function imds(
    role: string | undefined,
    key = 'ASIAIMDS',
    expiration = '2025-01-01T06:00:00Z',
  ): ReturnType<typeof stubHttp> {
    return stubHttp((req) => {
      const path = new URL(req.url).pathname;
      if (path === '/latest/api/token')
        return req.method === 'PUT' ? { status: 200, body: 'imds-session' } : { status: 405, body: '' };
      if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-session') return { status: 401, body: '' };
      if (path === '/latest/meta-data/iam/security-credentials/')
        return role ? { status: 200, body: `${role}\n` } : { status: 404, body: '' };
      if (path === `/latest/meta-data/iam/security-credentials/${role}`)
        return { status: 200, body: imdsCreds(key, expiration) };
      return { status: 404, body: '' };
    });
  }

  test('IMDSv2: token PUT with a TTL header, then role and credentials with the token; cached until 5 min before expiry', async () => {
    const http = imds('web-role');
    const clock = clockAt(Date.parse('2025-01-01T00:00:00Z'));
    const c = chain(http, { imdsDisabled: false }, clock);
    const creds = await c.get('present');
    assert.equal(creds.accessKeyId, 'ASIAIMDS');
    assert.equal(creds.source, 'EC2 instance role web-role');
    assert.deepEqual(
      http.seen.map((r) => [r.method, new URL(r.url).pathname]),
      [
        ['PUT', '/latest/api/token'],
        ['GET', '/latest/meta-data/iam/security-credentials/'],
        ['GET', '/latest/meta-data/iam/security-credentials/web-role'],
      ],
    );
    assert.equal(http.seen[0]?.headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600');
    clock.t = Date.parse('2025-01-01T05:54:00Z');
    await c.get('present');
    assert.equal(http.seen.length, 3, 'still cached 6 minutes before expiry');
    clock.t = Date.parse('2025-01-01T05:56:00Z');
    await c.get('present');
    assert.equal(http.seen.length, 6, 'renewed 4 minutes before expiry');
  });

  test('concurrent callers share one fetch', async () => {
    const http = imds('r');
    const c = chain(http, { imdsDisabled: false });
    const all = await Promise.all([c.get('present'), c.get('present'), c.get('cleanup')]);
    assert.equal(new Set(all.map((x) => x.accessKeyId)).size, 1);
    assert.equal(http.seen.length, 3);
  });

  test('an instance without a role, or no metadata service at all: InvalidInputError listing what was tried', async () => {
    await assert.rejects(chain(imds(undefined), { imdsDisabled: false }).get('present'), (e: unknown) => {
      assert.ok(e instanceof InvalidInputError);
      assert.match(e.message, /no IAM role attached/);
      assert.match(
        e.message,
        /environment variables.*web identity.*shared files.*container endpoint.*EC2 instance metadata/,
      );
      return true;
    });
    await assert.rejects(
      chain(stubHttp(refused), { imdsDisabled: false }).get('present'),
      (e: unknown) =>
        e instanceof InvalidInputError && /unreachable: ECONNREFUSED; not an EC2 instance/.test(e.message),
    );
    const http = stubHttp(refused);
    await assert.rejects(
      chain(http, { imdsDisabled: true }).get('present'),
      (e: unknown) => e instanceof InvalidInputError && /AWS_EC2_METADATA_DISABLED/.test(e.message),
    );
    assert.equal(http.seen.length, 0);
  });

  test('container endpoint: the token file is read again on every fetch (EKS Pod Identity rotates it)', async () => {
    const tokenFile = join(dir, 'pod-token');
    await writeFile(tokenFile, 'token-1\n');
    const http = stubHttp(() => ({ status: 200, body: imdsCreds('ASIAPOD', '2025-01-01T01:00:00Z') }));
    const c = chain(http, { containerFullUri: 'http://127.0.0.1:9/creds', containerTokenFile: tokenFile });
    assert.equal((await c.get('present')).source, 'container endpoint');
    await writeFile(tokenFile, 'token-2\n');
    c.invalidate();
    await c.get('present');
    assert.deepEqual(
      http.seen.map((r) => r.headers.authorization),
      ['token-1', 'token-2'],
    );
  });

  test('ECS relative URI goes to 169.254.170.2; a refusal is a DnsProviderError without the path or token', async () => {
    const http = stubHttp(() => ({ status: 403, body: 'no' }));
    const c = chain(http, {
      containerRelativeUri: '/v2/credentials/abc-123',
      containerToken: new Secret('ecs-token'),
    });
    await assert.rejects(c.get('present'), (e: unknown) => {
      assert.ok(e instanceof DnsProviderError);
      assert.match(e.message, /answered HTTP 403/);
      assert.ok(!e.message.includes('abc-123') && !e.message.includes('ecs-token'));
      return true;
    });
    assert.equal(http.seen[0]?.url, 'http://169.254.170.2/v2/credentials/abc-123');
    assert.equal(http.seen[0]?.headers.authorization, 'ecs-token');
  });

  test('an aborted caller stops waiting at once; the shared fetch is unaffected', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const http = stubHttp(async () => {
      await gate;
      return { status: 200, body: imdsCreds('ASIASLOW', '2025-01-01T01:00:00Z') };
    });
    const c = chain(http, { containerFullUri: 'http://127.0.0.1:9/creds' });
    const ac = new AbortController();
    const first = c.get('present', ac.signal);
    const second = c.get('present');
    ac.abort(new Error('stop'));
    await assert.rejects(first);
    release();
    assert.equal((await second).accessKeyId, 'ASIASLOW');
  });
});
