import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TestCa } from '../test-ca.ts';
import { checkSignature, type FakeAwsKey } from './aws-sigv4-check.ts';
import { type FakeReply, jsonBody, type RecordedRequest, startFakeHttpsServer } from './server.ts';

/**
 * Amazon Lightsail's DNS operations as AWS documents them (Lightsail API reference, AWS JSON 1.1):
 * POST / with Content-Type application/x-amz-json-1.1 and X-Amz-Target Lightsail_20161128.<Operation>,
 * signed with Signature Version 4 for service "lightsail" in us-east-1 (checked by aws-sigv4-check.ts,
 * written apart from src/), IAM actions per key (lightsail:GetDomain, CreateDomainEntry,
 * DeleteDomainEntry), and the three operations: GetDomain (the domain and its entries), CreateDomainEntry
 * (name inside the domain, a type, a target; TXT targets quoted) and DeleteDomainEntry (by id, or by
 * name, type and target). Errors are HTTP 400 (403 for signature failures) with {__type, message}.
 */

export interface FakeLightsailKey extends FakeAwsKey {
  /** IAM actions allowed; default all three. */
  readonly actions?: readonly string[];
}

export interface FakeLightsailOptions {
  readonly ca: TestCa;
  readonly domains: readonly string[];
  readonly keys: readonly FakeLightsailKey[];
}

export interface FakeLightsail {
  /** For AWS_ENDPOINT_URL_LIGHTSAIL. */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  values(fqdn: string): Promise<string[]>;
  /** Adds keys later (temporary credentials minted for a metadata fake). */
  addKey(key: FakeLightsailKey): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface Entry {
  readonly id: string;
  readonly domain: string;
  /** Lower case, without the trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly target: string;
}

const ALL = ['lightsail:GetDomain', 'lightsail:CreateDomainEntry', 'lightsail:DeleteDomainEntry'];
const TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT']);
/** The names SigV4 refusals have in AWS JSON services. */
const JSON_NAMES: Readonly<Record<string, string>> = {
  InvalidClientTokenId: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  ExpiredToken: 'ExpiredTokenException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
};

export const lightsailError = (type: string, message: string, status = 400): FakeReply => ({
  status,
  headers: { 'x-amzn-errortype': type },
  json: { __type: type, message },
});

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** What aws-sigv4-check reads of a request, rebuilt from the recorded one. */
function asIncoming(req: RecordedRequest): IncomingMessage {
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) distinct[k] = Array.isArray(v) ? v : [v];
  return {
    method: req.method,
    url: req.url,
    headers: req.headers,
    headersDistinct: distinct,
  } as unknown as IncomingMessage;
}

export async function startFakeLightsail(o: FakeLightsailOptions): Promise<FakeLightsail> {
  const keys = new Map(o.keys.map((k) => [k.accessKeyId, k]));
  const domains = new Set(o.domains.map(norm));
  const entries = new Map<string, Entry>();

  function handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST' || req.path !== '/')
      return lightsailError('UnknownOperationException', 'Unknown operation');
    const check = checkSignature(asIncoming(req), req.body, keys, {
      region: 'us-east-1',
      service: 'lightsail',
      now: Date.now(),
    });
    if (!check.ok) return lightsailError(JSON_NAMES[check.code] ?? check.code, check.message, check.status);
    if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1'))
      return lightsailError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
    const m = /^Lightsail_20161128\.(\w+)$/.exec(String(req.headers['x-amz-target'] ?? ''));
    if (!m) return lightsailError('UnknownOperationException', 'Missing or unknown X-Amz-Target');
    const operation = m[1]!;
    const allowed = (keys.get(check.key.accessKeyId) as FakeLightsailKey | undefined)?.actions ?? ALL;
    if (!allowed.includes(`lightsail:${operation}`)) {
      return lightsailError(
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/acmekit is not authorized to perform: lightsail:${operation}`,
      );
    }
    const b = jsonBody(req);
    if (!b) return lightsailError('SerializationException', 'The request body is not JSON');
    const domain = typeof b.domainName === 'string' ? norm(b.domainName) : '';
    if (!domain) return lightsailError('InvalidInputException', 'domainName is required');
    if (!domains.has(domain))
      return lightsailError('NotFoundException', `The Domain does not exist: ${b.domainName}`);
    const operationResult = (type: string) => ({
      status: 200,
      json: {
        operation: {
          id: randomUUID(),
          resourceName: domain,
          resourceType: 'Domain',
          location: { availabilityZone: 'all', regionName: 'global' },
          isTerminal: true,
          operationType: type,
          status: 'Succeeded',
        },
      },
    });
    switch (operation) {
      case 'GetDomain':
        return {
          status: 200,
          json: {
            domain: {
              name: domain,
              arn: `arn:aws:lightsail:global:123456789012:Domain/${domain}`,
              resourceType: 'Domain',
              domainEntries: [...entries.values()]
                .filter((e) => e.domain === domain)
                .map((e) => ({ id: e.id, name: e.name, target: e.target, isAlias: false, type: e.type })),
            },
          },
        };
      case 'CreateDomainEntry': {
        const e = b.domainEntry as Record<string, unknown> | undefined;
        if (!e || typeof e.name !== 'string' || typeof e.target !== 'string' || typeof e.type !== 'string')
          return lightsailError('InvalidInputException', 'domainEntry needs name, target and type');
        const name = norm(e.name);
        if (name !== domain && !name.endsWith(`.${domain}`))
          return lightsailError(
            'InvalidInputException',
            `The domain entry name ${e.name} is not in the domain ${domain}`,
          );
        if (!TYPES.has(e.type))
          return lightsailError('InvalidInputException', `Invalid domain entry type ${e.type}`);
        if (e.type === 'TXT' && !/^".*"$/s.test(e.target))
          return lightsailError('InvalidInputException', 'TXT record targets must be enclosed in quotes');
        const id = `-${Math.floor(Math.random() * 1e12)}`;
        entries.set(id, { id, domain, name, type: e.type, target: e.target });
        return operationResult('CreateDomainEntry');
      }
      case 'DeleteDomainEntry': {
        const e = b.domainEntry as Record<string, unknown> | undefined;
        if (!e || typeof e.name !== 'string' || typeof e.type !== 'string')
          return lightsailError('InvalidInputException', 'domainEntry needs name and type');
        const found =
          typeof e.id === 'string'
            ? entries.get(e.id)
            : [...entries.values()].find(
                (x) =>
                  x.domain === domain &&
                  x.name === norm(String(e.name)) &&
                  x.type === e.type &&
                  x.target === e.target,
              );
        if (!found || found.domain !== domain || found.name !== norm(e.name) || found.type !== e.type)
          return lightsailError('NotFoundException', 'The domain entry does not exist');
        entries.delete(found.id);
        return operationResult('DeleteDomainEntry');
      }
      default:
        return lightsailError('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    endpoint: server.origin,
    requests: server.requests,
    values: async (fqdn) =>
      [...entries.values()]
        .filter((e) => e.type === 'TXT' && e.name === norm(fqdn))
        .map((e) => e.target.slice(1, -1)),
    addKey: (key) => keys.set(key.accessKeyId, key),
    failNext: server.failNext,
    close: server.close,
  };
}
