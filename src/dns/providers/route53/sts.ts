import { AcmekitError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import { backoffDelay } from '../../../internal/backoff.ts';
import { Secret } from '../../../internal/secret.ts';
import type { HttpResponse } from '../../../protocol/transport.ts';
import { isRetryableAnswer, parseAwsError } from './aws-error.ts';
import type { AwsContext, AwsCredentials } from './credential-types.ts';
import { signRequest } from './sigv4.ts';
import { parseXml, textAt } from './xml.ts';

export interface StsEndpoint {
  readonly url: URL;
  /** Region the request is signed for. */
  readonly region: string;
}

/** The regional STS endpoint the SDKs use today, or the AWS_ENDPOINT_URL_STS override. */
export function stsEndpoint(region: string, override?: string): StsEndpoint {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { url: new URL(override ?? `https://sts.${region}.${domain}/`), region };
}

export interface WebIdentityParams {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly token: Secret;
  /** Named in messages (the file the token came from). */
  readonly tokenSource: string;
}

/** STS AssumeRoleWithWebIdentity: an OIDC token (EKS service account, GitHub Actions…) for role credentials. Unsigned. */
export async function assumeRoleWithWebIdentity(
  ctx: AwsContext,
  ep: StsEndpoint,
  p: WebIdentityParams,
  op: DnsOperation,
  signal: AbortSignal | undefined,
): Promise<AwsCredentials> {
  const params: [string, string][] = [
    ['Action', 'AssumeRoleWithWebIdentity'],
    ['Version', '2011-06-15'],
    ['RoleArn', p.roleArn],
    ['RoleSessionName', p.sessionName],
    ['WebIdentityToken', p.token.reveal()],
  ];
  return call(ctx, ep, 'AssumeRoleWithWebIdentity', params, undefined, op, signal, (code, message) =>
    code === 'InvalidIdentityToken' || code === 'ExpiredTokenException' || code === 'IDPRejectedClaim'
      ? `STS refused the web identity token from ${p.tokenSource} for role ${p.roleArn} (${code}: ${message}); check the token file and the identity provider set up in IAM`
      : `STS AssumeRoleWithWebIdentity for role ${p.roleArn} failed (${code}: ${message}); check AWS_ROLE_ARN and that the role's trust policy allows this identity provider and subject`,
  );
}

export interface AssumeRoleParams {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: string | undefined;
}

/** STS AssumeRole, signed with `base`: the role credentials AWS_ASSUME_ROLE_ARN or a profile's role_arn asks for. */
export async function assumeRole(
  ctx: AwsContext,
  ep: StsEndpoint,
  base: AwsCredentials,
  p: AssumeRoleParams,
  op: DnsOperation,
  signal: AbortSignal | undefined,
): Promise<AwsCredentials> {
  const params: [string, string][] = [
    ['Action', 'AssumeRole'],
    ['Version', '2011-06-15'],
    ['RoleArn', p.roleArn],
    ['RoleSessionName', p.sessionName],
  ];
  if (p.externalId !== undefined) params.push(['ExternalId', p.externalId]);
  return call(ctx, ep, 'AssumeRole', params, base, op, signal, (code, message) => {
    if (code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch' || code === 'ExpiredToken') {
      return `credentials refused by STS (${code}) for the credentials from ${base.source}, needed to assume role ${p.roleArn}; check those credentials`;
    }
    if (code === 'AccessDenied') {
      return `STS denied AssumeRole for ${p.roleArn} (AccessDenied: ${message}); the identity from ${base.source} needs sts:AssumeRole on the role, and the role's trust policy must allow it${p.externalId === undefined ? '' : ' with this external ID (AWS_EXTERNAL_ID)'}`;
    }
    return `STS AssumeRole for ${p.roleArn} failed (${code}: ${message})`;
  });
}

const MAX_ATTEMPTS = 3;

async function call(
  ctx: AwsContext,
  ep: StsEndpoint,
  action: string,
  params: [string, string][],
  base: AwsCredentials | undefined,
  op: DnsOperation,
  signal: AbortSignal | undefined,
  describe: (code: string, message: string) => string,
): Promise<AwsCredentials> {
  const body = new URLSearchParams(params).toString();
  const contentType = 'application/x-www-form-urlencoded; charset=utf-8';
  for (let attempt = 1; ; attempt++) {
    let headers: Record<string, string> = { 'content-type': contentType };
    if (base) {
      const signed = signRequest(
        { method: 'POST', host: ep.url.host, path: ep.url.pathname, headers, body },
        { credentials: base, region: ep.region, service: 'sts', date: new Date(ctx.clock.now()) },
      );
      headers = signed.headers;
    }
    let res: HttpResponse;
    try {
      res = await ctx.http.request('POST', ep.url.href, { body, headers, signal });
    } catch (err) {
      if (signal?.aborted || !(err instanceof AcmekitError)) throw err;
      if (attempt >= MAX_ATTEMPTS) {
        const text = `could not reach STS at ${ep.url.host} for ${action}: ${err.message}`;
        throw new DnsProviderError(ctx.provider ?? 'route53', op, text, { cause: err });
      }
      await ctx.clock.sleep(backoffDelay(attempt, { baseMs: 300, maxMs: 5000 }), signal);
      continue;
    }
    if (res.status >= 200 && res.status < 300)
      return readCredentials(res, action, op, ctx.provider ?? 'route53');
    const info = parseAwsError(res.body);
    if (isRetryableAnswer(res.status, info?.code) && attempt < MAX_ATTEMPTS) {
      await ctx.clock.sleep(backoffDelay(attempt, { baseMs: 300, maxMs: 5000 }), signal);
      continue;
    }
    const text = info ? describe(info.code, info.message) : `STS ${action} answered HTTP ${res.status}`;
    throw new DnsProviderError(ctx.provider ?? 'route53', op, text, { status: res.status });
  }
}

function readCredentials(
  res: HttpResponse,
  action: string,
  op: DnsOperation,
  provider: string,
): AwsCredentials {
  const bad = (): DnsProviderError =>
    new DnsProviderError(provider, op, `STS ${action} answered without usable credentials`, {
      status: res.status,
    });
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(res.body.toString());
  } catch {
    throw bad();
  }
  const at = (field: string): string | undefined => textAt(root, `${action}Result/Credentials/${field}`);
  const accessKeyId = at('AccessKeyId');
  const secret = at('SecretAccessKey');
  const token = at('SessionToken');
  const expiration = Date.parse(at('Expiration') ?? '');
  if (!accessKeyId || !secret || !token || Number.isNaN(expiration)) throw bad();
  const role = textAt(root, `${action}Result/AssumedRoleUser/Arn`);
  return {
    accessKeyId,
    secretAccessKey: new Secret(secret),
    sessionToken: new Secret(token),
    expiresAt: expiration,
    source: role ? `assumed role ${role}` : `STS ${action}`,
  };
}
