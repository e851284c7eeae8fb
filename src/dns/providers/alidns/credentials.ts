import { NetworkError, TimeoutError } from '../../../errors/base.ts';
import type { Clock } from '../../../internal/clock.ts';
import type { Logger } from '../../../internal/logger.ts';
import { Secret } from '../../../internal/secret.ts';
import type { ProviderHttp } from '../../definition.ts';
import { parseJsonObject } from '../../json-api.ts';
import type { Acs3Credentials } from './acs3-signer.ts';

/** Where request-signing credentials come from: an AccessKey pair (maybe STS) or an ECS instance RAM role. */
export interface CredentialSource {
  /** Names the credentials in error messages: what the user should check. */
  readonly hint: string;
  get(signal: AbortSignal): Promise<Acs3Credentials>;
  /** Forgets cached credentials the API refused; true when a retry could get different ones. */
  invalidate(): boolean;
  /** Every secret string currently in use, to scrub from any text shown to the user. */
  secrets(): string[];
}

/** The credentials could not be obtained; the message says what to do and holds no secret. */
export class CredentialFetchError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'CredentialFetchError';
    this.status = status;
  }
}

export class StaticCredentials implements CredentialSource {
  readonly hint: string;
  readonly #creds: Acs3Credentials;
  constructor(creds: Acs3Credentials) {
    this.#creds = creds;
    this.hint =
      creds.securityToken === undefined
        ? 'ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY'
        : 'ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY/ALICLOUD_SECURITY_TOKEN';
  }
  async get(): Promise<Acs3Credentials> {
    return this.#creds;
  }
  invalidate(): boolean {
    return false;
  }
  secrets(): string[] {
    return secretsOf(this.#creds);
  }
}

export interface EcsRamRoleOptions {
  readonly role: string;
  /** Base URL of the instance metadata service, normally http://100.100.100.200. */
  readonly metadataUrl: string;
  readonly http: ProviderHttp;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** STS credentials are replaced this long before they expire, so a request never carries stale ones. */
export const REFRESH_BEFORE_EXPIRY_MS = 3 * 60_000;
/** Used when the metadata service gives no readable Expiration. */
const FALLBACK_LIFETIME_MS = 5 * 60_000;
/** Lifetime asked for the metadata session token (hardened mode), the documented maximum. */
const METADATA_TOKEN_TTL_SECONDS = '21600';

/**
 * Temporary credentials of the RAM role attached to this ECS instance, read from the metadata service
 * (hardened mode with a session token first, the plain GET when that is not available) and cached
 * until shortly before they expire.
 */
export class EcsRamRoleCredentials implements CredentialSource {
  readonly hint: string;
  readonly #o: EcsRamRoleOptions;
  #cached: { creds: Acs3Credentials; refreshAt: number } | undefined;
  #pending: { promise: Promise<Acs3Credentials>; signal: AbortSignal } | undefined;

  constructor(o: EcsRamRoleOptions) {
    this.#o = o;
    this.hint = `the credentials of RAM role ${o.role} (ALICLOUD_RAM_ROLE)`;
  }

  async get(signal: AbortSignal): Promise<Acs3Credentials> {
    for (;;) {
      const cached = this.#cached;
      if (cached && this.#o.clock.now() < cached.refreshAt) return cached.creds;
      // Concurrent callers (wildcard and apex at once) share one metadata request.
      if (!this.#pending) {
        const pending = this.#fetch(signal).finally(() => {
          if (this.#pending?.promise === pending) this.#pending = undefined;
        });
        this.#pending = { promise: pending, signal };
      }
      const { promise, signal: used } = this.#pending;
      try {
        return await promise;
      } catch (err) {
        // Another caller's abort ended the shared request; ours is still wanted.
        if (used !== signal && used.aborted && !signal.aborted) continue;
        throw err;
      }
    }
  }

  invalidate(): boolean {
    this.#cached = undefined;
    return true;
  }

  secrets(): string[] {
    return this.#cached ? secretsOf(this.#cached.creds) : [];
  }

  async #fetch(signal: AbortSignal): Promise<Acs3Credentials> {
    const base = this.#o.metadataUrl.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    try {
      const res = await this.#o.http.request('PUT', `${base}/latest/api/token`, {
        headers: { 'x-aliyun-ecs-metadata-token-ttl-seconds': METADATA_TOKEN_TTL_SECONDS },
        body: '',
        signal,
      });
      const token = res.body.toString('utf8').trim();
      if (res.status === 200 && token !== '') headers['x-aliyun-ecs-metadata-token'] = token;
    } catch (err) {
      if (signal.aborted) throw err;
      // No hardened mode here; the GET below reports an unreachable service.
    }

    const url = `${base}/latest/meta-data/ram/security-credentials/${encodeURIComponent(this.#o.role)}`;
    let res: Awaited<ReturnType<ProviderHttp['request']>>;
    try {
      res = await this.#o.http.request('GET', url, { headers, signal });
    } catch (err) {
      if (signal.aborted || !(err instanceof NetworkError || err instanceof TimeoutError)) throw err;
      const why = err instanceof TimeoutError ? 'no answer in time' : describeCause(err);
      throw new CredentialFetchError(
        `cannot reach the ECS metadata service at ${base} (${why}): ALICLOUD_RAM_ROLE works only on an ECS ` +
          'instance with that role attached; elsewhere set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY',
      );
    }
    if (res.status === 404) {
      throw new CredentialFetchError(
        `the ECS metadata service has no RAM role named ${this.#o.role}: check ALICLOUD_RAM_ROLE and that ` +
          'the role is attached to this instance',
        404,
      );
    }
    if (res.status !== 200) {
      throw new CredentialFetchError(
        `the ECS metadata service answered HTTP ${res.status} for RAM role ${this.#o.role}: check that the ` +
          'role is attached to this instance and that the metadata service is enabled',
        res.status,
      );
    }
    // The body holds the secret: parse it without ever quoting it (JSON.parse errors quote their input).
    const doc = parseJsonObject(res.body);
    const id = doc?.AccessKeyId;
    const secret = doc?.AccessKeySecret;
    const token = doc?.SecurityToken;
    if (
      doc?.Code !== 'Success' ||
      typeof id !== 'string' ||
      typeof secret !== 'string' ||
      typeof token !== 'string'
    ) {
      const code = typeof doc?.Code === 'string' ? ` (Code ${doc.Code.slice(0, 40)})` : '';
      throw new CredentialFetchError(
        `the ECS metadata service gave no usable credentials for RAM role ${this.#o.role}${code}: check that ` +
          'the role is attached to this instance',
      );
    }
    const creds: Acs3Credentials = {
      accessKeyId: id,
      accessKeySecret: new Secret(secret),
      securityToken: new Secret(token),
    };
    const now = this.#o.clock.now();
    const expires = typeof doc.Expiration === 'string' ? Date.parse(doc.Expiration) : Number.NaN;
    const lifetimeEnd = Number.isFinite(expires) ? expires : now + FALLBACK_LIFETIME_MS;
    this.#cached = { creds, refreshAt: lifetimeEnd - REFRESH_BEFORE_EXPIRY_MS };
    this.#o.logger.debug(
      { provider: 'alidns', role: this.#o.role, expires: new Date(lifetimeEnd).toISOString() },
      'alidns: fetched RAM role credentials from the ECS metadata service',
    );
    return creds;
  }
}

function secretsOf(creds: Acs3Credentials): string[] {
  const out = [creds.accessKeySecret.reveal()];
  if (creds.securityToken) out.push(creds.securityToken.reveal());
  return out;
}

function describeCause(err: NetworkError): string {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? 'connection failed';
}
