import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import type { Clock } from '../../../internal/clock.ts';
import { decodePem, encodePem } from '../../../internal/pem.ts';
import { redactSecrets } from '../../../internal/redact.ts';
import { Secret } from '../../../internal/secret.ts';
import type { ProviderHttp } from '../../definition.ts';
import type { ProviderEnv } from '../../env.ts';
import { parseJsonObject } from '../../json-api.ts';
import { type AccessToken, readTokenAnswer, requestToken, TokenCache, tokenCall } from '../../oauth-token.ts';
import { CLIENT_ASSERTION_TYPE, clientAssertion } from './client-assertion.ts';

// Microsoft Entra ID credentials, as lego's azuredns takes them (AZURE_AUTH_METHOD, else the order of
// azidentity's DefaultAzureCredential): an app registration's client secret or certificate
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow), a
// federated token (AKS workload identity, AZURE_FEDERATED_TOKEN_FILE; or lego's OIDC variables), or
// the managed identity of an Azure VM (IMDS,
// https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token)
// or App Service (IDENTITY_ENDPOINT and IDENTITY_HEADER). Each yields an access token for Azure
// Resource Manager.

const CODE = 'azuredns';
const IMDS_HOST = 'http://169.254.169.254';
const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

export type AzureCredential =
  | {
      readonly kind: 'secret';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: Secret;
    }
  | {
      readonly kind: 'certificate';
      readonly tenantId: string;
      readonly clientId: string;
      readonly certificateDer: Buffer;
      readonly key: Secret<KeyObject>;
      readonly path: string;
    }
  | {
      readonly kind: 'federated';
      readonly tenantId: string;
      readonly clientId: string;
      /** Where the federated token comes from, read again for every Entra ID token. */
      readonly source:
        | { readonly file: string; readonly variable: string }
        | { readonly token: Secret }
        | { readonly requestUrl: string; readonly requestToken: Secret };
    }
  | {
      readonly kind: 'managed';
      /** A user-assigned identity (AZURE_CLIENT_ID); default the system-assigned one. */
      readonly clientId?: string | undefined;
      readonly endpoint:
        | { readonly type: 'imds'; readonly host: string }
        | { readonly type: 'appservice'; readonly url: string; readonly header: Secret };
      readonly timeoutMs: number;
      /** What was looked at before, for the message when no managed identity answers either. */
      readonly tried: readonly string[];
    };

export interface AzureAuthConfig {
  readonly credential: AzureCredential;
  /** https://login.microsoftonline.com (AZURE_AUTHORITY_HOST, or by AZURE_ENVIRONMENT). */
  readonly authorityHost: string;
  /** The Resource Manager audience the token is for: https://management.azure.com */
  readonly audience: string;
}

/** Reads a PEM file holding the certificate and its private key (AZURE_CLIENT_CERTIFICATE_PATH). */
function readCertificate(path: string, password: string | undefined): { der: Buffer; key: KeyObject } {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidInputError(
      `${CODE}: AZURE_CLIENT_CERTIFICATE_PATH names ${path}, which cannot be read (${code})`,
      path,
      {
        cause: err,
      },
    );
  }
  const blocks = text.includes('-----BEGIN') ? decodePem(text) : [];
  const cert = blocks.find((b) => b.label === 'CERTIFICATE');
  const keyBlock = blocks.find((b) => /PRIVATE KEY$/.test(b.label));
  if (!cert || !keyBlock) {
    throw new InvalidInputError(
      `${CODE}: AZURE_CLIENT_CERTIFICATE_PATH (${path}) must be a PEM file with the certificate and its private key; ` +
        'acmekit does not read PKCS#12: convert it with `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`',
      path,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: encodePem(keyBlock.label, keyBlock.der),
      format: 'pem',
      ...(password !== undefined ? { passphrase: password } : {}),
    });
  } catch {
    throw new InvalidInputError(
      `${CODE}: the private key in ${path} cannot be read${password === undefined ? ' (encrypted? set AZURE_CLIENT_CERTIFICATE_PASSWORD)' : ' with AZURE_CLIENT_CERTIFICATE_PASSWORD'}`,
      path,
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new InvalidInputError(
      `${CODE}: the key in ${path} must be RSA (Entra ID signs client assertions with RS256)`,
      path,
    );
  const x509 = new X509Certificate(cert.der);
  if (!x509.checkPrivateKey(key))
    throw new InvalidInputError(
      `${CODE}: the private key in ${path} does not belong to its certificate`,
      path,
    );
  return { der: cert.der, key };
}

/** The credential lego would use, read and checked now (no network). */
export function readCredential(env: ProviderEnv): AzureCredential {
  const method = (env.string('AZURE_AUTH_METHOD') ?? '').toLowerCase();
  const tenantId = env.string('AZURE_TENANT_ID');
  const clientId = env.string('AZURE_CLIENT_ID');
  const clientSecret = env.secret('AZURE_CLIENT_SECRET');
  const certPath = env.string('AZURE_CLIENT_CERTIFICATE_PATH');
  const federatedFile = env.string('AZURE_FEDERATED_TOKEN_FILE');
  const timeoutMs = env.durationMs('AZURE_AUTH_MSI_TIMEOUT', 2000);
  const need = (what: string, names: [string, string | undefined][]): void => {
    const missing = names.filter(([, v]) => v === undefined).map(([n]) => n);
    if (missing.length > 0)
      throw new InvalidInputError(`${CODE}: ${what} needs ${missing.join(' and ')}`, missing[0]!);
  };
  const secret = (): AzureCredential => ({
    kind: 'secret',
    tenantId: tenantId!,
    clientId: clientId!,
    clientSecret: clientSecret!,
  });
  const certificate = (): AzureCredential => {
    const { der, key } = readCertificate(certPath!, env.string('AZURE_CLIENT_CERTIFICATE_PASSWORD'));
    return {
      kind: 'certificate',
      tenantId: tenantId!,
      clientId: clientId!,
      certificateDer: der,
      key: new Secret(key),
      path: certPath!,
    };
  };
  const managed = (tried: string[]): AzureCredential => {
    const identityEndpoint = env.string('IDENTITY_ENDPOINT');
    const identityHeader = env.secret('IDENTITY_HEADER');
    if (
      identityEndpoint !== undefined &&
      identityHeader === undefined &&
      env.string('IMDS_ENDPOINT') !== undefined
    ) {
      throw new InvalidInputError(
        `${CODE}: IDENTITY_ENDPOINT and IMDS_ENDPOINT point to Azure Arc, whose managed identity acmekit does not support; ` +
          'use a service principal (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID)',
        'IDENTITY_ENDPOINT',
      );
    }
    const endpoint =
      identityEndpoint !== undefined && identityHeader !== undefined
        ? { type: 'appservice' as const, url: identityEndpoint, header: identityHeader }
        : {
            type: 'imds' as const,
            host: (env.string('AZURE_POD_IDENTITY_AUTHORITY_HOST') ?? IMDS_HOST).replace(/\/+$/, ''),
          };
    return { kind: 'managed', clientId, endpoint, timeoutMs, tried };
  };
  const federated = (): AzureCredential => {
    need('workload identity', [
      ['AZURE_TENANT_ID', tenantId],
      ['AZURE_CLIENT_ID', clientId],
      ['AZURE_FEDERATED_TOKEN_FILE', federatedFile],
    ]);
    return {
      kind: 'federated',
      tenantId: tenantId!,
      clientId: clientId!,
      source: { file: federatedFile!, variable: 'AZURE_FEDERATED_TOKEN_FILE' },
    };
  };

  switch (method) {
    case 'env':
      if (clientSecret !== undefined) {
        need('AZURE_AUTH_METHOD=env', [
          ['AZURE_TENANT_ID', tenantId],
          ['AZURE_CLIENT_ID', clientId],
        ]);
        return secret();
      }
      need('AZURE_AUTH_METHOD=env', [
        ['AZURE_TENANT_ID', tenantId],
        ['AZURE_CLIENT_ID', clientId],
        ['AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH', certPath],
      ]);
      return certificate();
    case 'wli':
      return federated();
    case 'msi':
      return managed([]);
    case 'oidc': {
      need('AZURE_AUTH_METHOD=oidc', [
        ['AZURE_TENANT_ID', tenantId],
        ['AZURE_CLIENT_ID', clientId],
      ]);
      const token = env.secret('AZURE_OIDC_TOKEN');
      const file = env.string('AZURE_OIDC_TOKEN_FILE_PATH');
      const requestUrl = env.string('AZURE_OIDC_REQUEST_URL');
      const requestToken = env.secret('AZURE_OIDC_REQUEST_TOKEN');
      const source = token
        ? { token }
        : file
          ? { file, variable: 'AZURE_OIDC_TOKEN_FILE_PATH' }
          : requestUrl && requestToken
            ? { requestUrl, requestToken }
            : undefined;
      if (!source) {
        throw new InvalidInputError(
          `${CODE}: AZURE_AUTH_METHOD=oidc needs AZURE_OIDC_TOKEN, AZURE_OIDC_TOKEN_FILE_PATH, or AZURE_OIDC_REQUEST_URL ` +
            'with AZURE_OIDC_REQUEST_TOKEN (GitHub Actions sets ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN)',
          'AZURE_OIDC_TOKEN',
        );
      }
      return { kind: 'federated', tenantId: tenantId!, clientId: clientId!, source };
    }
    case 'cli':
    case 'pipeline':
      throw new InvalidInputError(
        `${CODE}: AZURE_AUTH_METHOD=${method} is not supported by acmekit; use a service principal (env), workload ` +
          'identity (wli), a managed identity (msi) or OIDC (oidc)',
        'AZURE_AUTH_METHOD',
      );
    case '':
      break;
    default:
      throw new InvalidInputError(
        `${CODE}: AZURE_AUTH_METHOD must be env, wli, msi or oidc (or unset), got ${JSON.stringify(method)}`,
        method,
      );
  }
  // Unset: the first source that is configured.
  if (tenantId && clientId && clientSecret) return secret();
  if (tenantId && clientId && certPath) return certificate();
  if (tenantId && clientId && federatedFile) return federated();
  return managed([
    'AZURE_TENANT_ID, AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH not set',
    'AZURE_FEDERATED_TOKEN_FILE not set',
  ]);
}

export interface CallContext {
  readonly operation: DnsOperation;
  readonly signal: AbortSignal;
}

/** Tokens for Azure Resource Manager, fetched on first use and cached. */
export class AzureAuth {
  readonly #c: AzureAuthConfig;
  readonly #http: ProviderHttp;
  readonly #clock: Clock;
  readonly #cache: TokenCache;

  constructor(config: AzureAuthConfig, deps: { http: ProviderHttp; clock: Clock }) {
    this.#c = config;
    this.#http = deps.http;
    this.#clock = deps.clock;
    this.#cache = new TokenCache(deps.clock);
  }

  get hint(): string {
    const c = this.#c.credential;
    switch (c.kind) {
      case 'secret':
        return 'AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID (the app registration and its client secret)';
      case 'certificate':
        return `AZURE_CLIENT_ID, AZURE_TENANT_ID and the certificate in AZURE_CLIENT_CERTIFICATE_PATH (${c.path}), registered on the app`;
      case 'federated':
        return 'AZURE_CLIENT_ID, AZURE_TENANT_ID and the federated credential of the app (issuer and subject)';
      default:
        return c.clientId
          ? `the user-assigned managed identity ${c.clientId} (AZURE_CLIENT_ID)`
          : 'the managed identity of this VM or app';
    }
  }

  secrets(): Secret[] {
    const c = this.#c.credential;
    const own =
      c.kind === 'secret'
        ? [c.clientSecret]
        : c.kind === 'federated' && 'token' in c.source
          ? [c.source.token]
          : c.kind === 'federated' && 'requestToken' in c.source
            ? [c.source.requestToken]
            : c.kind === 'managed' && c.endpoint.type === 'appservice'
              ? [c.endpoint.header]
              : [];
    return [...own, ...this.#cache.secrets()];
  }

  redact(text: string): string {
    return redactSecrets(text, this.secrets());
  }

  token(call: CallContext): Promise<Secret> {
    return this.#cache.get(() => this.#fetch(call), call.signal);
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

  async #fetch(call: CallContext): Promise<AccessToken> {
    const c = this.#c.credential;
    if (c.kind === 'managed') return this.#managed(call, c);
    const url = `${this.#c.authorityHost}/${encodeURIComponent(c.tenantId)}/oauth2/v2.0/token`;
    const base = {
      client_id: c.clientId,
      scope: `${this.#c.audience}/.default`,
      grant_type: 'client_credentials',
    };
    let proof: Record<string, string>;
    if (c.kind === 'secret') proof = { client_secret: c.clientSecret.reveal() };
    else if (c.kind === 'certificate') {
      proof = {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: clientAssertion({
          clientId: c.clientId,
          audience: url,
          certificateDer: c.certificateDer,
          key: c.key.reveal(),
          now: this.#clock.now(),
        }),
      };
    } else {
      proof = {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await this.#federatedToken(call, c.source),
      };
    }
    return requestToken({
      ...this.#request(call, `Microsoft Entra ID (${url})`),
      url,
      form: { ...base, ...proof },
      urlVariable: 'AZURE_AUTHORITY_HOST',
    });
  }

  async #federatedToken(
    call: CallContext,
    source: Extract<AzureCredential, { kind: 'federated' }>['source'],
  ): Promise<string> {
    if ('token' in source) return source.token.reveal();
    if ('file' in source) {
      try {
        const token = readFileSync(source.file, 'utf8').trim();
        if (token !== '') return token;
      } catch (err) {
        throw new DnsProviderError(
          CODE,
          call.operation,
          `${source.variable} names ${source.file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      throw new DnsProviderError(
        CODE,
        call.operation,
        `${source.variable} names ${source.file}, which is empty`,
      );
    }
    const sep = source.requestUrl.includes('?') ? '&' : '?';
    const r = {
      ...this.#request(call, 'the OIDC token request URL (AZURE_OIDC_REQUEST_URL)'),
      hint: 'AZURE_OIDC_REQUEST_URL and AZURE_OIDC_REQUEST_TOKEN',
    };
    const res = await tokenCall(
      r,
      'GET',
      `${source.requestUrl}${sep}audience=${encodeURIComponent(FEDERATED_AUDIENCE)}`,
      {
        headers: { authorization: `Bearer ${source.requestToken.reveal()}` },
      },
    );
    const value = parseJsonObject(res.body)?.value;
    if (res.status !== 200 || typeof value !== 'string' || value === '') {
      throw new DnsProviderError(
        CODE,
        call.operation,
        `the OIDC token request URL answered HTTP ${res.status} without a token: check AZURE_OIDC_REQUEST_URL and AZURE_OIDC_REQUEST_TOKEN`,
        { status: res.status },
      );
    }
    return value;
  }

  async #managed(call: CallContext, c: Extract<AzureCredential, { kind: 'managed' }>): Promise<AccessToken> {
    const resource = `${this.#c.audience}/`;
    const client = c.clientId ? `&client_id=${encodeURIComponent(c.clientId)}` : '';
    const [url, headers, where] =
      c.endpoint.type === 'imds'
        ? [
            `${c.endpoint.host}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}${client}`,
            { metadata: 'true' },
            `the instance metadata service at ${c.endpoint.host}`,
          ]
        : [
            `${c.endpoint.url}${c.endpoint.url.includes('?') ? '&' : '?'}api-version=2019-08-01&resource=${encodeURIComponent(resource)}${client}`,
            { 'x-identity-header': c.endpoint.header.reveal() },
            'the App Service identity endpoint (IDENTITY_ENDPOINT)',
          ];
    const deadline = AbortSignal.any([call.signal, AbortSignal.timeout(c.timeoutMs)]);
    let res: Awaited<ReturnType<ProviderHttp['request']>>;
    try {
      res = await this.#http.request('GET', url, { headers, signal: deadline });
    } catch (err) {
      if (call.signal.aborted) throw err;
      const before = c.tried.length > 0 ? `no Azure credentials found: ${c.tried.join('; ')}; and ` : '';
      throw new DnsProviderError(
        CODE,
        call.operation,
        `${before}no managed identity: ${where} did not answer within ${c.timeoutMs / 1000} s (not on Azure? ` +
          'AZURE_AUTH_MSI_TIMEOUT sets the wait). Set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID for a service principal',
        { cause: err },
      );
    }
    const token = readTokenAnswer(this.#request(call, where), res);
    // App Service gives expires_on (epoch seconds) and no expires_in.
    const expiresOn = Number(parseJsonObject(res.body)?.expires_on);
    return Number.isFinite(expiresOn) && expiresOn > 0 && parseJsonObject(res.body)?.expires_in === undefined
      ? { token: token.token, expiresAt: expiresOn * 1000 }
      : token;
  }
}
