import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type AwsRefusal, checkSignature, type FakeAwsKey } from './aws-sigv4-check.ts';

/** A role the fake STS lets callers assume. */
export interface FakeRole {
  readonly arn: string;
  /** AssumeRoleWithWebIdentity: the exact token accepted (no JWT checks in the fake). */
  readonly webIdentityToken?: string;
  /** AssumeRole: required when set. */
  readonly externalId?: string;
  /** AssumeRole: access key IDs allowed to assume it; any known key when unset. */
  readonly trusted?: readonly string[];
  /** Lifetime of the issued credentials (default 1 h). */
  readonly ttlMs?: number;
}

export interface StsCall {
  readonly action: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: string | undefined;
  /** Access key ID that signed an AssumeRole. */
  readonly signedBy?: string | undefined;
}

export interface StsAnswer {
  readonly status: number;
  readonly xml: string;
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Temporary credentials as STS makes them: ASIA… key, secret, long session token, expiry. */
export function mintTemporaryKey(now: number, ttlMs: number): Required<FakeAwsKey> {
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `FwoGZXIvYXdzE${randomBytes(120).toString('base64')}`,
    expiresAt: now + ttlMs,
  };
}

export function stsError(refusal: AwsRefusal): StsAnswer {
  const xml =
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${refusal.code}</Code>` +
    `<Message>${esc(refusal.message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;
  return { status: refusal.status, xml };
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** AssumeRole and AssumeRoleWithWebIdentity of the STS Query API, over form-encoded POST /. */
export class FakeSts {
  readonly calls: StsCall[] = [];
  readonly #roles = new Map<string, FakeRole>();
  readonly #keys: Map<string, FakeAwsKey>;
  /** Region requests must be signed for. */
  region = 'us-east-1';

  constructor(keys: Map<string, FakeAwsKey>) {
    this.#keys = keys;
  }

  addRole(role: FakeRole): void {
    this.#roles.set(role.arn, role);
  }

  handle(req: IncomingMessage, body: string, now: number): StsAnswer {
    const form = new URLSearchParams(body);
    const action = form.get('Action') ?? '';
    const roleArn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    if (form.get('Version') !== '2011-06-15') {
      return stsError({
        status: 400,
        code: 'InvalidAction',
        message: 'Could not find operation for version',
      });
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      return stsError({ status: 400, code: 'ValidationError', message: 'RoleSessionName is invalid' });
    }
    const role = this.#roles.get(roleArn);
    if (action === 'AssumeRoleWithWebIdentity') {
      this.calls.push({ action, roleArn, sessionName });
      if (req.headers.authorization) {
        return stsError({
          status: 400,
          code: 'InvalidParameterCombination',
          message: 'this call is not signed',
        });
      }
      const token = form.get('WebIdentityToken') ?? '';
      if (!role || role.webIdentityToken === undefined) {
        return stsError({
          status: 403,
          code: 'AccessDenied',
          message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
        });
      }
      if (token !== role.webIdentityToken) {
        return stsError({
          status: 400,
          code: 'InvalidIdentityToken',
          message: "Couldn't retrieve verification key from your identity provider",
        });
      }
      return this.#issue(action, role, now);
    }
    if (action === 'AssumeRole') {
      const check = checkSignature(req, body, this.#keys, { region: this.region, service: 'sts', now });
      const externalId = form.get('ExternalId') ?? undefined;
      this.calls.push({
        action,
        roleArn,
        sessionName,
        externalId,
        signedBy: check.ok ? check.key.accessKeyId : undefined,
      });
      if (!check.ok) return stsError(check);
      const denied =
        !role ||
        (role.trusted !== undefined && !role.trusted.includes(check.key.accessKeyId)) ||
        (role.externalId !== undefined && role.externalId !== externalId);
      if (denied) {
        return stsError({
          status: 403,
          code: 'AccessDenied',
          message: `User: arn:aws:iam::123456789012:user/test is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        });
      }
      return this.#issue(action, role, now);
    }
    return stsError({ status: 400, code: 'InvalidAction', message: `Could not find operation ${action}` });
  }

  #issue(action: string, role: FakeRole, now: number): StsAnswer {
    const key = mintTemporaryKey(now, role.ttlMs ?? 3_600_000);
    this.#keys.set(key.accessKeyId, key);
    const xml =
      `<${action}Response xmlns="${NS}"><${action}Result><Credentials>` +
      `<AccessKeyId>${key.accessKeyId}</AccessKeyId><SecretAccessKey>${esc(key.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${esc(key.sessionToken)}</SessionToken><Expiration>${new Date(key.expiresAt).toISOString()}</Expiration>` +
      `</Credentials><AssumedRoleUser><Arn>${role.arn.replace(':role/', ':assumed-role/')}/session</Arn>` +
      `<AssumedRoleId>AROA0000000000:session</AssumedRoleId></AssumedRoleUser></${action}Result>` +
      `<ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></${action}Response>`;
    return { status: 200, xml };
  }
}
