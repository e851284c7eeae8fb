import { readFile } from 'node:fs/promises';
import { AcmekitError, InvalidInputError, TimeoutError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import { abortable, throwIfAborted } from '../../../internal/abort.ts';
import { Secret } from '../../../internal/secret.ts';
import { type HttpResponse, networkErrorCode } from '../../../protocol/transport.ts';
import type { AwsContext, AwsCredentials } from './credential-types.ts';
import { loadSharedProfiles, type ProfileSettings, type SharedProfiles } from './shared-config.ts';
import { assumeRole, assumeRoleWithWebIdentity, type StsEndpoint, stsEndpoint } from './sts.ts';

/** Where credentials may come from, read from the environment by the provider's configure(). */
export interface CredentialSettings {
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: Secret | undefined;
  readonly sessionToken?: Secret | undefined;
  /** AWS_REGION when set; otherwise the profile's region, then us-east-1 (it only picks the STS endpoint). */
  readonly region?: string | undefined;
  /** AWS_PROFILE when set explicitly: the profile then comes before environment keys, as in the SDKs. */
  readonly profile?: string | undefined;
  readonly credentialsFile: string;
  readonly configFile: string;
  readonly webIdentityTokenFile?: string | undefined;
  readonly roleArn?: string | undefined;
  readonly roleSessionName?: string | undefined;
  readonly containerRelativeUri?: string | undefined;
  readonly containerFullUri?: string | undefined;
  readonly containerToken?: Secret | undefined;
  /** Read again on every fetch: EKS Pod Identity rotates it. */
  readonly containerTokenFile?: string | undefined;
  readonly imdsEndpoint: string;
  readonly imdsDisabled: boolean;
  readonly stsEndpoint?: string | undefined;
  /** AWS_ASSUME_ROLE_ARN: assumed with whatever the chain found. */
  readonly assumeRoleArn?: string | undefined;
  readonly externalId?: string | undefined;
}

/** IMDS answers within milliseconds on EC2; elsewhere nothing answers, so give up fast. */
export const IMDS_TIMEOUT_MS = 1000;
const CONTAINER_TIMEOUT_MS = 2000;
const ECS_HOST = 'http://169.254.170.2';
/** Temporary credentials are renewed this long before they expire (the SDKs use the same margin). */
const REFRESH_MARGIN_MS = 5 * 60_000;
const MAX_PROFILE_DEPTH = 5;

/**
 * The SDKs' default credential chain, first match wins: environment keys, web identity (STS
 * AssumeRoleWithWebIdentity), the shared credentials and config files, the container endpoint (ECS,
 * EKS Pod Identity), EC2 instance metadata (IMDSv2). An explicit AWS_PROFILE goes first instead. Then
 * AWS_ASSUME_ROLE_ARN, when set, is assumed with what was found. Temporary credentials are cached
 * until shortly before they expire; concurrent callers share one fetch.
 */
export class AwsCredentialChain {
  readonly #s: CredentialSettings;
  readonly #ctx: AwsContext;
  #cached: { creds: AwsCredentials; refreshAt: number } | undefined;
  #pending: Promise<AwsCredentials> | undefined;
  #shared: Promise<SharedProfiles> | undefined;

  constructor(settings: CredentialSettings, ctx: AwsContext) {
    this.#s = settings;
    this.#ctx = ctx;
  }

  /** The provider code in messages. */
  get #code(): string {
    return this.#ctx.provider ?? 'route53';
  }

  async get(op: DnsOperation, signal?: AbortSignal): Promise<AwsCredentials> {
    throwIfAborted(signal);
    const cached = this.#cached;
    if (cached && this.#ctx.clock.now() < cached.refreshAt) return cached.creds;
    // The fetch is shared, so it does not stop with one caller's signal; every step has its own deadline.
    this.#pending ??= this.#resolve(op).finally(() => {
      this.#pending = undefined;
    });
    const pending = this.#pending;
    return abortable(signal, (resolve, reject) => {
      pending.then(resolve, reject);
      return () => {};
    });
  }

  /** Forgets cached credentials, e.g. after AWS said the session token expired. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #resolve(op: DnsOperation): Promise<AwsCredentials> {
    let creds = await this.#base(op);
    const s = this.#s;
    if (s.assumeRoleArn !== undefined) {
      creds = await assumeRole(
        this.#ctx,
        await this.#sts(),
        creds,
        { roleArn: s.assumeRoleArn, sessionName: this.#sessionName(), externalId: s.externalId },
        op,
        undefined,
      );
    }
    const now = this.#ctx.clock.now();
    const refreshAt =
      creds.expiresAt === undefined
        ? Number.POSITIVE_INFINITY
        : creds.expiresAt - Math.min(REFRESH_MARGIN_MS, Math.max(0, (creds.expiresAt - now) / 2));
    this.#cached = { creds, refreshAt };
    this.#ctx.logger.debug(
      { provider: this.#code, source: creds.source, expiresAt: creds.expiresAt },
      `${this.#code}: using AWS credentials`,
    );
    return creds;
  }

  async #base(op: DnsOperation): Promise<AwsCredentials> {
    const s = this.#s;
    const tried: string[] = [];
    if (s.profile !== undefined) {
      const found = await this.#fromProfile(s.profile, op, true, tried, []);
      if (found) return found;
    } else {
      if (s.accessKeyId !== undefined && s.secretAccessKey !== undefined) {
        return {
          accessKeyId: s.accessKeyId,
          secretAccessKey: s.secretAccessKey,
          sessionToken: s.sessionToken,
          source: 'environment variables',
        };
      }
      tried.push('environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set)');
      if (s.webIdentityTokenFile !== undefined && s.roleArn !== undefined) {
        return this.#webIdentity(s.roleArn, s.webIdentityTokenFile, s.roleSessionName, op);
      }
      tried.push('web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set)');
      const found = await this.#fromProfile('default', op, false, tried, []);
      if (found) return found;
    }
    const container = await this.#fromContainer(op, tried);
    if (container) return container;
    const imds = await this.#fromImds(op, tried);
    if (imds) return imds;
    throw new InvalidInputError(
      `${this.#code}: no AWS credentials found; tried: ${tried.join('; ')}. Set AWS_ACCESS_KEY_ID and ` +
        'AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role is available (EC2, ECS, EKS)',
    );
  }

  #sharedProfiles(): Promise<SharedProfiles> {
    this.#shared ??= loadSharedProfiles(this.#s.credentialsFile, this.#s.configFile, this.#code);
    return this.#shared;
  }

  async #sts(): Promise<StsEndpoint> {
    let region = this.#s.region;
    if (region === undefined) {
      const shared = await this.#sharedProfiles();
      region = shared.profiles.get(this.#s.profile ?? 'default')?.region || 'us-east-1';
    }
    return stsEndpoint(region, this.#s.stsEndpoint);
  }

  #sessionName(): string {
    return `acmekit-${this.#ctx.clock.now()}`;
  }

  async #webIdentity(
    roleArn: string,
    tokenFile: string,
    sessionName: string | undefined,
    op: DnsOperation,
  ): Promise<AwsCredentials> {
    let token: string;
    try {
      // Read on every refresh: EKS and other issuers rotate the token file.
      token = (await readFile(tokenFile, 'utf8')).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidInputError(
        `${this.#code}: the web identity token file ${tokenFile} cannot be read (${code})`,
        tokenFile,
        {
          cause: err,
        },
      );
    }
    if (token === '')
      throw new InvalidInputError(
        `${this.#code}: the web identity token file ${tokenFile} is empty`,
        tokenFile,
      );
    const creds = await assumeRoleWithWebIdentity(
      this.#ctx,
      await this.#sts(),
      {
        roleArn,
        sessionName: sessionName ?? this.#sessionName(),
        token: new Secret(token),
        tokenSource: tokenFile,
      },
      op,
      undefined,
    );
    return { ...creds, source: `web identity for role ${roleArn}` };
  }

  async #fromProfile(
    name: string,
    op: DnsOperation,
    explicit: boolean,
    tried: string[],
    chain: string[],
  ): Promise<AwsCredentials | undefined> {
    const shared = await this.#sharedProfiles();
    const where = shared.paths.join(' or ');
    const p = shared.profiles.get(name);
    if (!p) {
      if (explicit) {
        throw new InvalidInputError(
          `${this.#code}: AWS profile "${name}" is not in ${where}; check AWS_PROFILE`,
          name,
        );
      }
      tried.push(`shared files (no profile "${name}" in ${where})`);
      return undefined;
    }
    const label = `profile "${name}"`;
    if (p.role_arn) return this.#profileRole(name, p, op, chain);
    const hasKey = Boolean(p.aws_access_key_id);
    const hasSecret = Boolean(p.aws_secret_access_key);
    if (hasKey && hasSecret) {
      return {
        accessKeyId: p.aws_access_key_id!,
        secretAccessKey: new Secret(p.aws_secret_access_key!),
        sessionToken: p.aws_session_token ? new Secret(p.aws_session_token) : undefined,
        source: label,
      };
    }
    if (hasKey !== hasSecret) {
      throw new InvalidInputError(
        `${this.#code}: AWS ${label} in ${where} has ${hasKey ? 'aws_access_key_id but no aws_secret_access_key' : 'aws_secret_access_key but no aws_access_key_id'}`,
        name,
      );
    }
    const unsupported = ['credential_process', 'sso_session', 'sso_start_url', 'login_session'].find(
      (k) => p[k],
    );
    if (unsupported) {
      throw new InvalidInputError(
        `${this.#code}: AWS ${label} uses ${unsupported}, which acmekit does not support; export temporary keys with ` +
          `\`aws configure export-credentials --profile ${name} --format env\`, or give the profile keys or a role`,
        name,
      );
    }
    tried.push(`shared files (${label} holds no credentials)`);
    return undefined;
  }

  /** A profile with role_arn: find its base credentials (source_profile, credential_source or a token file), then assume the role. */
  async #profileRole(
    name: string,
    p: ProfileSettings,
    op: DnsOperation,
    chain: string[],
  ): Promise<AwsCredentials> {
    const roleArn = p.role_arn!;
    const label = `profile "${name}"`;
    if (chain.includes(name) || chain.length >= MAX_PROFILE_DEPTH) {
      throw new InvalidInputError(
        `${this.#code}: AWS profiles ${[...chain, name].join(' → ')} form a loop or a chain too long`,
        name,
      );
    }
    if (p.web_identity_token_file) {
      const creds = await this.#webIdentity(roleArn, p.web_identity_token_file, p.role_session_name, op);
      return { ...creds, source: `${label} (web identity)` };
    }
    let base: AwsCredentials | undefined;
    if (p.source_profile) {
      const source = (await this.#sharedProfiles()).profiles.get(p.source_profile);
      if (source && p.source_profile === name && source.aws_access_key_id && source.aws_secret_access_key) {
        // A profile that is its own source uses its static keys for the first hop.
        base = {
          accessKeyId: source.aws_access_key_id,
          secretAccessKey: new Secret(source.aws_secret_access_key),
          source: label,
        };
      } else {
        base = await this.#fromProfile(p.source_profile, op, true, [], [...chain, name]);
      }
    } else if (p.credential_source) {
      base = await this.#credentialSource(p.credential_source, label, op);
    }
    if (!base) {
      throw new InvalidInputError(
        `${this.#code}: AWS ${label} has role_arn but no usable source_profile, credential_source or web_identity_token_file`,
        name,
      );
    }
    const creds = await assumeRole(
      this.#ctx,
      await this.#sts(),
      base,
      {
        roleArn,
        sessionName: p.role_session_name || this.#sessionName(),
        externalId: p.external_id || undefined,
      },
      op,
      undefined,
    );
    return { ...creds, source: `${label} (role ${roleArn})` };
  }

  async #credentialSource(
    kind: string,
    label: string,
    op: DnsOperation,
  ): Promise<AwsCredentials | undefined> {
    const s = this.#s;
    const none: string[] = [];
    switch (kind) {
      case 'Environment':
        if (s.accessKeyId !== undefined && s.secretAccessKey !== undefined) {
          return {
            accessKeyId: s.accessKeyId,
            secretAccessKey: s.secretAccessKey,
            sessionToken: s.sessionToken,
            source: 'environment variables',
          };
        }
        break;
      case 'EcsContainer': {
        const found = await this.#fromContainer(op, none);
        if (found) return found;
        break;
      }
      case 'Ec2InstanceMetadata': {
        const found = await this.#fromImds(op, none);
        if (found) return found;
        break;
      }
      default:
        throw new InvalidInputError(
          `${this.#code}: AWS ${label} has credential_source = ${kind}; use Environment, Ec2InstanceMetadata or EcsContainer`,
          kind,
        );
    }
    throw new InvalidInputError(
      `${this.#code}: AWS ${label} takes its credentials from ${kind}, which has none${none.length ? ` (${none.join('; ')})` : ''}`,
      kind,
    );
  }

  async #fromContainer(op: DnsOperation, tried: string[]): Promise<AwsCredentials | undefined> {
    const s = this.#s;
    const url =
      s.containerRelativeUri !== undefined ? `${ECS_HOST}${s.containerRelativeUri}` : s.containerFullUri;
    if (url === undefined) {
      tried.push('container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set)');
      return undefined;
    }
    const origin = new URL(url).origin;
    const headers: Record<string, string> = {};
    const token = await this.#containerToken();
    if (token !== undefined) headers.authorization = token.reveal();
    let res: HttpResponse;
    try {
      res = await this.#ctx.http.request('GET', url, {
        headers,
        signal: AbortSignal.timeout(CONTAINER_TIMEOUT_MS),
      });
    } catch (err) {
      if (!(err instanceof AcmekitError)) throw err;
      throw new DnsProviderError(
        this.#code,
        op,
        `the container credentials endpoint ${origin} did not answer (${networkErrorCode(err) ?? err.code}); check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI`,
        { cause: err },
      );
    }
    if (res.status !== 200) {
      throw new DnsProviderError(
        this.#code,
        op,
        `the container credentials endpoint ${origin} answered HTTP ${res.status}${res.status === 401 || res.status === 403 ? '; check AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE' : ''}`,
        { status: res.status },
      );
    }
    return this.#jsonCredentials(res, 'container endpoint', op);
  }

  async #containerToken(): Promise<Secret | undefined> {
    const file = this.#s.containerTokenFile;
    if (file === undefined) return this.#s.containerToken;
    try {
      const text = (await readFile(file, 'utf8')).trim();
      return text === '' ? undefined : new Secret(text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidInputError(
        `${this.#code}: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names ${file}, which cannot be read (${code})`,
        file,
        {
          cause: err,
        },
      );
    }
  }

  /** IMDSv2: a session token by PUT, then the role name, then its credentials; no fallback to IMDSv1. */
  async #fromImds(op: DnsOperation, tried: string[]): Promise<AwsCredentials | undefined> {
    const s = this.#s;
    if (s.imdsDisabled) {
      tried.push('EC2 instance metadata (AWS_EC2_METADATA_DISABLED is set)');
      return undefined;
    }
    const base = s.imdsEndpoint.replace(/\/+$/, '');
    const http = this.#ctx.http;
    const timeout = (): AbortSignal => AbortSignal.timeout(IMDS_TIMEOUT_MS);
    let res: HttpResponse;
    try {
      res = await http.request('PUT', `${base}/latest/api/token`, {
        body: '',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
        signal: timeout(),
      });
    } catch (err) {
      if (!(err instanceof AcmekitError)) throw err;
      const why =
        err instanceof TimeoutError
          ? `no answer from ${base} within ${IMDS_TIMEOUT_MS / 1000} s`
          : `${base} unreachable: ${networkErrorCode(err) ?? err.code}`;
      tried.push(`EC2 instance metadata (${why}; not an EC2 instance?)`);
      return undefined;
    }
    if (res.status !== 200) {
      tried.push(`EC2 instance metadata (token request answered HTTP ${res.status})`);
      return undefined;
    }
    const headers = { 'x-aws-ec2-metadata-token': res.body.toString().trim() };
    const get = async (path: string): Promise<HttpResponse> => {
      try {
        return await http.request('GET', `${base}${path}`, { headers, signal: timeout() });
      } catch (err) {
        if (!(err instanceof AcmekitError)) throw err;
        throw new DnsProviderError(
          this.#code,
          op,
          `EC2 instance metadata at ${base} stopped answering (${err.code})`,
          {
            cause: err,
          },
        );
      }
    };
    const list = await get('/latest/meta-data/iam/security-credentials/');
    if (list.status === 404) {
      tried.push('EC2 instance metadata (no IAM role attached to this instance)');
      return undefined;
    }
    const role = list.body
      .toString()
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (list.status !== 200 || role === undefined) {
      throw new DnsProviderError(
        this.#code,
        op,
        `EC2 instance metadata answered HTTP ${list.status} for the role name`,
        {
          status: list.status,
        },
      );
    }
    const res2 = await get(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`);
    if (res2.status !== 200) {
      throw new DnsProviderError(
        this.#code,
        op,
        `EC2 instance metadata answered HTTP ${res2.status} for role ${role}`,
        {
          status: res2.status,
        },
      );
    }
    return this.#jsonCredentials(res2, `EC2 instance role ${role}`, op);
  }

  /** The JSON both the container endpoint and IMDS answer with. */
  #jsonCredentials(res: HttpResponse, source: string, op: DnsOperation): AwsCredentials {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(res.body.toString()) as Record<string, unknown>;
    } catch {
      throw new DnsProviderError(this.#code, op, `the ${source} answered with something other than JSON`);
    }
    const str = (k: string): string | undefined =>
      typeof doc[k] === 'string' && doc[k] !== '' ? (doc[k] as string) : undefined;
    if (str('Code') !== undefined && str('Code') !== 'Success') {
      throw new DnsProviderError(
        this.#code,
        op,
        `the ${source} reports ${str('Code')}: ${str('Message') ?? 'no message'}`,
      );
    }
    const accessKeyId = str('AccessKeyId');
    const secret = str('SecretAccessKey');
    const token = str('Token');
    if (!accessKeyId || !secret)
      throw new DnsProviderError(this.#code, op, `the ${source} answered without credentials`);
    const expiresAt = str('Expiration') !== undefined ? Date.parse(str('Expiration')!) : Number.NaN;
    return {
      accessKeyId,
      secretAccessKey: new Secret(secret),
      sessionToken: token ? new Secret(token) : undefined,
      expiresAt: Number.isNaN(expiresAt) ? undefined : expiresAt,
      source,
    };
  }
}
