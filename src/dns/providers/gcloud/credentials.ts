import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import type { Clock } from '../../../internal/clock.ts';
import { redactSecrets } from '../../../internal/redact.ts';
import { Secret } from '../../../internal/secret.ts';
import type { ProviderHttp } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import { rsaPrivateKey } from '../../jwt.ts';
import {
  type AccessToken,
  readTokenAnswer,
  requestToken,
  TokenCache,
  tokenCall,
  tokenRefused,
} from '../../oauth-token.ts';
import { JWT_BEARER_GRANT, serviceAccountAssertion } from './assertion.ts';

// Google's Application Default Credentials, in the order lego's gcloud provider takes them: the key in
// GCE_SERVICE_ACCOUNT (or the file named by GCE_SERVICE_ACCOUNT_FILE), then the file named by
// GOOGLE_APPLICATION_CREDENTIALS, then gcloud's application_default_credentials.json, then the metadata
// server of a Compute Engine VM, GKE or Cloud Run
// (https://cloud.google.com/docs/authentication/application-default-credentials). A service account
// key is traded for a token with a signed JWT (assertion.ts); a gcloud user login with its refresh
// token (https://developers.google.com/identity/protocols/oauth2/web-server#offline); the metadata
// server hands out the attached service account's token
// (https://cloud.google.com/compute/docs/access/authenticate-workloads#applications). With
// GCE_IMPERSONATE_SERVICE_ACCOUNT, that token asks the IAM Service Account Credentials API
// (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken)
// for a token of the impersonated account.

const CODE = 'gcloud';
export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const DNS_SCOPE = 'https://www.googleapis.com/auth/ndev.clouddns.readwrite';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** The metadata server answers within milliseconds where there is one; elsewhere nothing answers. */
const METADATA_TIMEOUT_MS = 3000;

export type GoogleCredential =
  | {
      readonly kind: 'service_account';
      /** Where it was read from, for messages: "GCE_SERVICE_ACCOUNT_FILE". */
      readonly source: string;
      readonly email: string;
      readonly keyId?: string | undefined;
      readonly key: Secret<import('node:crypto').KeyObject>;
      readonly tokenUri: string;
      readonly projectId?: string | undefined;
    }
  | {
      readonly kind: 'authorized_user';
      readonly source: string;
      readonly clientId: string;
      readonly clientSecret: Secret;
      readonly refreshToken: Secret;
      readonly tokenUri: string;
    }
  | {
      readonly kind: 'metadata';
      /** http://host[:port] of the metadata server. */
      readonly origin: string;
      /** The sources looked at before, for the message when there is no metadata server either. */
      readonly tried: readonly string[];
    };

export interface GoogleAuthConfig {
  readonly credential: GoogleCredential;
  /** GCE_PROJECT, else the key's project_id; undefined: asked from the metadata server. */
  readonly project?: string | undefined;
  readonly impersonate?: string | undefined;
  /** Base URL of the IAM Service Account Credentials API. */
  readonly iamCredentialsUrl: string;
}

/** Reads a credentials file's JSON (the variable's value or the file it names); throws naming `source`. */
export function parseCredentialJson(text: string, source: string): GoogleCredential {
  const json = parseJsonObject(Buffer.from(text, 'utf8'));
  if (!json) throw new InvalidInputError(`${CODE}: ${source} does not hold a JSON credentials file`, source);
  const str = (k: string): string | undefined =>
    typeof json[k] === 'string' && json[k] !== '' ? (json[k] as string) : undefined;
  const type = str('type') ?? 'service_account';
  if (type === 'service_account') {
    const email = str('client_email');
    const pem = str('private_key');
    if (!email || !pem) {
      throw new InvalidInputError(
        `${CODE}: the service account key in ${source} has no ${email ? 'private_key' : 'client_email'}; ` +
          'download a JSON key (IAM → Service accounts → Keys → Add key)',
        source,
      );
    }
    const key = rsaPrivateKey(pem);
    if (!key)
      throw new InvalidInputError(
        `${CODE}: the private_key in ${source} is not an RSA private key in PEM form`,
        source,
      );
    return {
      kind: 'service_account',
      source,
      email,
      keyId: str('private_key_id'),
      key: new Secret(key),
      tokenUri: str('token_uri') ?? DEFAULT_TOKEN_URI,
      projectId: str('project_id'),
    };
  }
  if (type === 'authorized_user') {
    const clientId = str('client_id');
    const clientSecret = str('client_secret');
    const refreshToken = str('refresh_token');
    if (!clientId || !clientSecret || !refreshToken) {
      throw new InvalidInputError(
        `${CODE}: the user credentials in ${source} lack client_id, client_secret or refresh_token; ` +
          'run `gcloud auth application-default login` again',
        source,
      );
    }
    return {
      kind: 'authorized_user',
      source,
      clientId,
      clientSecret: new Secret(clientSecret),
      refreshToken: new Secret(refreshToken),
      tokenUri: str('token_uri') ?? DEFAULT_TOKEN_URI,
    };
  }
  throw new InvalidInputError(
    `${CODE}: ${source} holds credentials of type ${JSON.stringify(type)}; acmekit reads service_account ` +
      'keys and authorized_user (gcloud) credentials. For workload identity federation, run acmekit where ' +
      'the metadata server answers or use GCE_IMPERSONATE_SERVICE_ACCOUNT with a supported source',
    source,
  );
}

export interface CredentialEnv {
  /** GCE_SERVICE_ACCOUNT (or its _FILE): the key's JSON. */
  readonly serviceAccountJson?: string | undefined;
  /** GOOGLE_APPLICATION_CREDENTIALS: a path. */
  readonly applicationCredentials?: string | undefined;
  /** CLOUDSDK_CONFIG: gcloud's configuration folder. */
  readonly gcloudConfigDir?: string | undefined;
  /** GCE_METADATA_HOST: host[:port]. */
  readonly metadataHost?: string | undefined;
}

/** The first source that is set, read and checked now (no network). */
export function findCredential(e: CredentialEnv): GoogleCredential {
  if (e.serviceAccountJson !== undefined)
    return parseCredentialJson(e.serviceAccountJson, 'GCE_SERVICE_ACCOUNT');
  const tried = ['GCE_SERVICE_ACCOUNT and GCE_SERVICE_ACCOUNT_FILE not set'];
  if (e.applicationCredentials !== undefined) {
    return parseCredentialJson(
      readCredentialFile(e.applicationCredentials, 'GOOGLE_APPLICATION_CREDENTIALS'),
      `GOOGLE_APPLICATION_CREDENTIALS (${e.applicationCredentials})`,
    );
  }
  tried.push('GOOGLE_APPLICATION_CREDENTIALS not set');
  const dir = e.gcloudConfigDir ?? join(homedir(), '.config', 'gcloud');
  const wellKnown = join(dir, 'application_default_credentials.json');
  if (existsSync(wellKnown))
    return parseCredentialJson(readCredentialFile(wellKnown, 'CLOUDSDK_CONFIG'), wellKnown);
  tried.push(`no gcloud application default credentials at ${wellKnown}`);
  return { kind: 'metadata', origin: `http://${e.metadataHost ?? '169.254.169.254'}`, tried };
}

function readCredentialFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidInputError(`${CODE}: ${variable} names ${path}, which cannot be read (${code})`, path, {
      cause: err,
    });
  }
}

export interface CallContext {
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
}

/** Access tokens and the project, fetched on first use and cached. */
export class GoogleAuth {
  readonly #c: GoogleAuthConfig;
  readonly #http: ProviderHttp;
  readonly #clock: Clock;
  readonly #token: TokenCache;
  readonly #source: TokenCache;
  #project: Promise<string> | undefined;

  constructor(config: GoogleAuthConfig, deps: { http: ProviderHttp; clock: Clock }) {
    this.#c = config;
    this.#http = deps.http;
    this.#clock = deps.clock;
    this.#token = new TokenCache(deps.clock);
    this.#source = new TokenCache(deps.clock);
    if (config.project !== undefined) this.#project = Promise.resolve(config.project);
  }

  /** What to check when Google refuses the credentials. */
  get hint(): string {
    const c = this.#c.credential;
    const what =
      c.kind === 'service_account'
        ? `the service account key in ${c.source} (${c.email})`
        : c.kind === 'authorized_user'
          ? `the gcloud login in ${c.source} (gcloud auth application-default login)`
          : `the service account attached to this VM or workload (metadata server ${c.origin})`;
    return this.#c.impersonate
      ? `${what} and its right to impersonate ${this.#c.impersonate} (GCE_IMPERSONATE_SERVICE_ACCOUNT, role Service Account Token Creator)`
      : what;
  }

  secrets(): Secret[] {
    const c = this.#c.credential;
    const own = c.kind === 'authorized_user' ? [c.clientSecret, c.refreshToken] : ([] as Secret[]);
    return [...own, ...this.#token.secrets(), ...this.#source.secrets()];
  }

  redact(text: string): string {
    return redactSecrets(text, this.secrets());
  }

  /** Forgets the cached token (the DNS API refused it). */
  invalidate(): void {
    this.#token.invalidate();
    this.#source.invalidate();
  }

  token(call: CallContext): Promise<Secret> {
    if (!this.#c.impersonate) return this.#token.get(() => this.#own(call, [DNS_SCOPE]), call.signal);
    const target = this.#c.impersonate;
    return this.#token.get(async () => {
      const source = await this.#source.get(() => this.#own(call, [CLOUD_PLATFORM_SCOPE]), call.signal);
      return this.#impersonate(call, source, target);
    }, call.signal);
  }

  project(call: CallContext): Promise<string> {
    if (!this.#project) {
      const pending = this.#metadataProject(call);
      pending.catch(() => {
        if (this.#project === pending) this.#project = undefined;
      });
      this.#project = pending;
    }
    return this.#project;
  }

  #request(call: CallContext, endpointName: string) {
    return {
      http: this.#http,
      clock: this.#clock,
      provider: CODE,
      operation: call.operation,
      signal: call.signal,
      endpointName,
      hint: this.hint,
      redact: (t: string) => this.redact(t),
    };
  }

  /** A token of the credential itself. */
  async #own(call: CallContext, scopes: readonly string[]): Promise<AccessToken> {
    const c = this.#c.credential;
    if (c.kind === 'service_account') {
      const assertion = serviceAccountAssertion({
        email: c.email,
        keyId: c.keyId,
        key: c.key.reveal(),
        scopes,
        audience: c.tokenUri,
        now: this.#clock.now(),
      });
      return requestToken({
        ...this.#request(call, `Google's token endpoint (${c.tokenUri})`),
        url: c.tokenUri,
        form: { grant_type: JWT_BEARER_GRANT, assertion },
      });
    }
    if (c.kind === 'authorized_user') {
      return requestToken({
        ...this.#request(call, `Google's token endpoint (${c.tokenUri})`),
        url: c.tokenUri,
        form: {
          grant_type: 'refresh_token',
          client_id: c.clientId,
          client_secret: c.clientSecret.reveal(),
          refresh_token: c.refreshToken.reveal(),
        },
      });
    }
    const res = await this.#metadata(call, '/computeMetadata/v1/instance/service-accounts/default/token');
    return readTokenAnswer(this.#request(call, `the metadata server at ${c.origin}`), res);
  }

  async #impersonate(call: CallContext, source: Secret, target: string): Promise<AccessToken> {
    const url = `${this.#c.iamCredentialsUrl}/projects/-/serviceAccounts/${encodeURIComponent(target)}:generateAccessToken`;
    const r = {
      ...this.#request(call, 'the IAM Service Account Credentials API'),
      urlVariable: 'GCE_IAM_CREDENTIALS_API_URL',
    };
    const res = await tokenCall(r, 'POST', url, {
      headers: { authorization: `Bearer ${source.reveal()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: [DNS_SCOPE], lifetime: '3600s' }),
    });
    const body = parseJsonObject(res.body);
    if (res.status !== 200) throw tokenRefused(r, res.status, body);
    const token = body?.accessToken;
    const expires = typeof body?.expireTime === 'string' ? Date.parse(body.expireTime) : Number.NaN;
    if (typeof token !== 'string' || token === '') {
      throw new DnsProviderError(CODE, call.operation, 'the IAM Credentials API answered without a token', {
        status: res.status,
      });
    }
    return {
      token: new Secret(token),
      expiresAt: Number.isNaN(expires) ? this.#clock.now() + 3000_000 : expires,
    };
  }

  async #metadataProject(call: CallContext): Promise<string> {
    const res = await this.#metadata(call, '/computeMetadata/v1/project/project-id');
    const project = res.body.toString('utf8').trim();
    if (res.status !== 200 || project === '') {
      throw new DnsProviderError(
        CODE,
        call.operation,
        `the metadata server did not give the project (HTTP ${res.status}); set GCE_PROJECT`,
        { status: res.status },
      );
    }
    return project;
  }

  /** A GET to the metadata server, which must answer as Google's (the Metadata-Flavor header). */
  async #metadata(call: CallContext, path: string) {
    const c = this.#c.credential;
    if (c.kind !== 'metadata') {
      throw new DnsProviderError(
        CODE,
        call.operation,
        'GCE_PROJECT is not set and the credentials name no project; set GCE_PROJECT to the project that holds the zone',
      );
    }
    const deadline = AbortSignal.any([call.signal, AbortSignal.timeout(METADATA_TIMEOUT_MS)]);
    let res: Awaited<ReturnType<ProviderHttp['request']>>;
    try {
      res = await this.#http.request('GET', `${c.origin}${path}`, {
        headers: { 'metadata-flavor': 'Google' },
        signal: deadline,
      });
    } catch (err) {
      if (call.signal.aborted) throw err;
      throw new DnsProviderError(
        CODE,
        call.operation,
        `no Google credentials found: ${c.tried.join('; ')}; and the metadata server at ${c.origin} did not ` +
          'answer (not on Google Cloud?). Set GCE_SERVICE_ACCOUNT_FILE to a service account key file',
        { cause: err },
      );
    }
    if (res.headers['metadata-flavor'] !== 'Google') {
      throw new DnsProviderError(
        CODE,
        call.operation,
        `${c.origin} answered without "Metadata-Flavor: Google" (HTTP ${res.status}), so it is not a Google ` +
          'metadata server; check GCE_METADATA_HOST or set GCE_SERVICE_ACCOUNT_FILE',
        { status: res.status },
      );
    }
    return res;
  }
}
