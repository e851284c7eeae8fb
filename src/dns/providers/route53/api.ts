import { AcmekitError, NetworkError, TimeoutError } from '../../../errors/base.ts';
import { type DnsOperation, DnsProviderError } from '../../../errors/dns.ts';
import { throwIfAborted } from '../../../internal/abort.ts';
import { backoffDelay } from '../../../internal/backoff.ts';
import { type HttpResponse, networkErrorCode, RETRYABLE_NETWORK_CODES } from '../../../protocol/transport.ts';
import { type AwsErrorInfo, isRetryableAnswer, parseAwsError } from './aws-error.ts';
import type { AwsContext, AwsCredentials } from './credential-types.ts';
import type { AwsCredentialChain } from './credentials.ts';
import { amzDate, canonicalQuery, signRequest } from './sigv4.ts';
import { parseXml, type XmlElement } from './xml.ts';

export type Route53Action =
  | 'ListHostedZonesByName'
  | 'ListResourceRecordSets'
  | 'ChangeResourceRecordSets'
  | 'GetChange';

export interface Route53Request {
  readonly action: Route53Action;
  readonly method: 'GET' | 'POST';
  /** Below the endpoint, e.g. "/2013-04-01/hostedzone/Z1/rrset". */
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  readonly body?: string;
  /** The hosted zone the request is about, for a NoSuchHostedZone message. */
  readonly zoneId?: string;
}

export type Route53Answer =
  | { readonly ok: true; readonly xml: XmlElement }
  | { readonly ok: false; readonly status: number; readonly error: AwsErrorInfo };

export interface Route53ApiOptions {
  readonly ctx: AwsContext;
  readonly credentials: AwsCredentialChain;
  readonly endpoint: URL;
  /** Route 53 is global: requests are signed for its partition's region (us-east-1 in the aws partition). */
  readonly region: string;
  readonly maxRetries: number;
  /** Said in a NoSuchHostedZone message when the zone came from AWS_HOSTED_ZONE_ID. */
  readonly zoneFromEnv: boolean;
}

const PERMISSIONS =
  'route53:GetChange, route53:ChangeResourceRecordSets, route53:ListResourceRecordSets and route53:ListHostedZonesByName';

/**
 * Signed calls to the Route 53 REST/XML API: retried with backoff on throttling (Throttling,
 * PriorRequestNotComplete), 5xx and dropped connections, up to AWS_MAX_RETRIES; every other refusal
 * becomes a DnsProviderError that says what to do. Messages never carry headers, signatures or bodies.
 */
export class Route53Api {
  readonly #o: Route53ApiOptions;

  constructor(options: Route53ApiOptions) {
    this.#o = options;
  }

  /** The parsed answer; codes listed in `tolerate` come back as `{ ok: false }` instead of throwing. */
  async send(
    op: DnsOperation,
    req: Route53Request,
    signal: AbortSignal,
    tolerate: readonly string[] = [],
  ): Promise<Route53Answer> {
    const { ctx, endpoint, credentials } = this.#o;
    const path = endpoint.pathname.replace(/\/+$/, '') + req.path;
    const query = canonicalQuery(req.query);
    const url = `${endpoint.origin}${path}${query ? `?${query}` : ''}`;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      const creds = await credentials.get(op, signal);
      const headers: Record<string, string> = {};
      if (req.body !== undefined) headers['content-type'] = 'application/xml';
      const signed = signRequest(
        {
          method: req.method,
          host: endpoint.host,
          path,
          query: req.query ?? [],
          headers,
          body: req.body ?? '',
        },
        { credentials: creds, region: this.#o.region, service: 'route53', date: new Date(ctx.clock.now()) },
      );
      let res: HttpResponse;
      try {
        res = await ctx.http.request(req.method, url, {
          headers: signed.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal,
        });
      } catch (err) {
        if (signal.aborted || !(err instanceof AcmekitError)) throw err;
        if (retryableFailure(err) && attempt < this.#o.maxRetries) {
          await this.#pause(attempt, req, err.code, signal);
          continue;
        }
        throw new DnsProviderError(
          'route53',
          op,
          `${req.action}: could not reach Route 53 at ${endpoint.host}: ${err.message}`,
          {
            cause: err,
          },
        );
      }
      if (res.status >= 200 && res.status < 300) {
        try {
          return { ok: true, xml: parseXml(res.body.toString()) };
        } catch {
          throw new DnsProviderError(
            'route53',
            op,
            `${req.action}: Route 53 answered HTTP ${res.status} with unreadable XML`,
            {
              status: res.status,
            },
          );
        }
      }
      const info = parseAwsError(res.body);
      if (isRetryableAnswer(res.status, info?.code) && attempt < this.#o.maxRetries) {
        await this.#pause(attempt, req, info?.code ?? `HTTP ${res.status}`, signal);
        continue;
      }
      if (info?.code === 'ExpiredToken' && !renewed) {
        // Temporary credentials ran out earlier than announced: fetch new ones once.
        renewed = true;
        credentials.invalidate();
        continue;
      }
      if (info && tolerate.includes(info.code)) return { ok: false, status: res.status, error: info };
      throw new DnsProviderError('route53', op, this.#describe(req, res.status, info, creds, attempt), {
        status: res.status,
      });
    }
  }

  async #pause(attempt: number, req: Route53Request, why: string, signal: AbortSignal): Promise<void> {
    const ms = backoffDelay(attempt + 1, { baseMs: 300, maxMs: 20_000 });
    this.#o.ctx.logger.debug(
      { provider: 'route53', action: req.action, reason: why, retryInMs: ms, attempt: attempt + 1 },
      'route53: retrying',
    );
    await this.#o.ctx.clock.sleep(ms, signal);
  }

  #describe(
    req: Route53Request,
    status: number,
    info: AwsErrorInfo | undefined,
    creds: AwsCredentials,
    attempts: number,
  ): string {
    const action = req.action;
    const from = `credentials from ${creds.source}`;
    if (!info) {
      const tries = attempts > 0 ? ` (after ${attempts + 1} attempts)` : '';
      return `${action}: Route 53 answered HTTP ${status}${tries}`;
    }
    const { code, message } = info;
    switch (code) {
      case 'InvalidClientTokenId':
      case 'UnrecognizedClientException':
        return `credentials refused: AWS does not know this access key ID or session token (${code}, ${from}); check AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN, or the profile's keys`;
      case 'SignatureDoesNotMatch':
      case 'InvalidSignatureException':
        if (/signature (expired|not yet current)/i.test(message)) {
          return `credentials refused: this machine's clock (${amzDate(new Date(this.#o.ctx.clock.now()))}) is more than 5 minutes away from AWS's (${code}: ${message}); correct the system time (NTP)`;
        }
        return `credentials refused: the signature does not match (${code}, ${from}); the secret access key does not belong to this access key ID, check AWS_SECRET_ACCESS_KEY`;
      case 'ExpiredToken':
        return `credentials refused: the session token has expired (${code}, ${from}); renew AWS_SESSION_TOKEN, or use a profile, role or web identity that acmekit can renew`;
      case 'IncompleteSignature':
      case 'MissingAuthenticationToken':
        return `credentials refused: ${code}: ${message}`;
      case 'AccessDenied':
      case 'AccessDeniedException':
        return `access denied: missing IAM permission route53:${action} (${code}: ${message}); grant ${PERMISSIONS} to the identity behind the ${from}${action === 'ListHostedZonesByName' ? ', or set AWS_HOSTED_ZONE_ID to skip the zone lookup' : ''}`;
      case 'NoSuchHostedZone':
        return `hosted zone ${req.zoneId ?? ''} does not exist in this AWS account (NoSuchHostedZone)${this.#o.zoneFromEnv ? '; check AWS_HOSTED_ZONE_ID' : ''}`;
      case 'InvalidChangeBatch':
        return `Route 53 refused the change: ${info.messages.length ? info.messages.join('; ') : message} (InvalidChangeBatch)`;
      default:
        if (isRetryableAnswer(status, code)) {
          return `${action}: Route 53 kept answering ${code} (HTTP ${status}) after ${attempts + 1} attempts; retry later or raise AWS_MAX_RETRIES`;
        }
        return `${action}: Route 53 answered HTTP ${status} ${code}${message ? `: ${message}` : ''}`;
    }
  }
}

function retryableFailure(err: AcmekitError): boolean {
  if (err instanceof TimeoutError) return true;
  if (!(err instanceof NetworkError)) return false;
  const code = networkErrorCode(err);
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}
