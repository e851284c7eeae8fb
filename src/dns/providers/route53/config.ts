import { InvalidInputError } from '../../../errors/base.ts';
import type { EnvVarSpec, ProviderEnv } from '../../env.ts';
import type { CredentialSettings } from './credentials.ts';
import { defaultConfigFile, defaultCredentialsFile, expandHome } from './shared-config.ts';

export interface Route53Config {
  /** AWS_HOSTED_ZONE_ID without the "/hostedzone/" prefix; otherwise zones are looked up by name. */
  readonly hostedZoneId?: string | undefined;
  readonly privateZone: boolean;
  readonly maxRetries: number;
  readonly waitForChange: boolean;
  readonly endpoint: URL;
  readonly signingRegion: string;
  readonly credentials: CredentialSettings;
}

export const route53Env: EnvVarSpec[] = [
  {
    name: 'AWS_ACCESS_KEY_ID',
    description: 'access key ID; leave unset to use a profile, web identity, a container or an instance role',
  },
  {
    name: 'AWS_SECRET_ACCESS_KEY',
    description: 'secret access key belonging to AWS_ACCESS_KEY_ID',
    secret: true,
  },
  { name: 'AWS_SESSION_TOKEN', description: 'session token, for temporary keys', secret: true },
  {
    name: 'AWS_REGION',
    fallbacks: ['AWS_DEFAULT_REGION'],
    description: 'region of the STS endpoint, and the partition (cn-*, us-gov-*); Route 53 itself is global',
    default: 'us-east-1',
  },
  {
    name: 'AWS_PROFILE',
    fallbacks: ['AWS_DEFAULT_PROFILE'],
    description:
      'profile in the shared credentials and config files; when set, it comes before AWS_ACCESS_KEY_ID',
    default: 'default',
  },
  {
    name: 'AWS_SHARED_CREDENTIALS_FILE',
    description: 'shared credentials file',
    default: '~/.aws/credentials',
  },
  { name: 'AWS_CONFIG_FILE', description: 'shared config file', default: '~/.aws/config' },
  {
    name: 'AWS_HOSTED_ZONE_ID',
    description: 'hosted zone to write to; default: found by name (ListHostedZonesByName)',
  },
  {
    name: 'AWS_PRIVATE_ZONE',
    description: 'look up private hosted zones instead of public ones',
    default: 'false',
  },
  { name: 'AWS_ASSUME_ROLE_ARN', description: 'role to assume (STS AssumeRole) with the credentials found' },
  { name: 'AWS_EXTERNAL_ID', description: 'external ID the role to assume requires' },
  { name: 'AWS_MAX_RETRIES', description: 'retries of a throttled or failed Route 53 request', default: '5' },
  {
    name: 'AWS_WAIT_FOR_RECORD_SETS_CHANGED',
    description: 'wait until Route 53 reports each change INSYNC on all its servers',
    default: 'true',
  },
  {
    name: 'AWS_ENDPOINT_URL_ROUTE_53',
    fallbacks: ['AWS_ENDPOINT_URL'],
    description:
      'Route 53 API endpoint; default https://route53.amazonaws.com (.com.cn, us-gov by AWS_REGION)',
  },
  {
    name: 'AWS_ENDPOINT_URL_STS',
    fallbacks: ['AWS_ENDPOINT_URL'],
    description: 'STS endpoint for web identity and assumed roles',
    default: 'https://sts.<region>.amazonaws.com',
  },
  {
    name: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
    description: 'EC2 instance metadata endpoint',
    default: 'http://169.254.169.254',
  },
  { name: 'AWS_EC2_METADATA_DISABLED', description: 'never ask EC2 instance metadata', default: 'false' },
  {
    name: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    description: 'ECS task role: path on 169.254.170.2 (set by ECS)',
  },
  {
    name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    description:
      'container credentials URL (EKS Pod Identity, local tools): https, or http to loopback or the ECS/EKS addresses',
  },
  {
    name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
    description: 'Authorization header for the container credentials URL',
    secret: true,
  },
  {
    name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    description: 'file holding that header, read again on every fetch (EKS Pod Identity)',
  },
  {
    name: 'AWS_WEB_IDENTITY_TOKEN_FILE',
    description: 'OIDC token file for STS AssumeRoleWithWebIdentity (EKS IRSA)',
  },
  { name: 'AWS_ROLE_ARN', description: 'role to assume with the web identity token' },
  { name: 'AWS_ROLE_SESSION_NAME', description: 'session name for the web identity role' },
];

/** The variables of route53Env that feed the AWS credential chain (other AWS providers read them too). */
export const AWS_CREDENTIAL_VARIABLES: ReadonlySet<string> = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_ASSUME_ROLE_ARN',
  'AWS_EXTERNAL_ID',
  'AWS_ENDPOINT_URL_STS',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
]);

/**
 * Reads and checks the credential chain's variables (those of AWS_CREDENTIAL_VARIABLES, which the
 * provider must declare); `code` prefixes the messages. Nothing here touches the network.
 */
export function readCredentialSettings(e: ProviderEnv, code: string): CredentialSettings {
  const accessKeyId = e.string('AWS_ACCESS_KEY_ID');
  const secretAccessKey = e.secret('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const [set, unset] = accessKeyId
      ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
      : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
    throw new InvalidInputError(
      `${code}: ${set} is set but ${unset} is not; set both, or neither to use another source`,
      unset,
    );
  }
  const webIdentityTokenFile = e.string('AWS_WEB_IDENTITY_TOKEN_FILE');
  const roleArn = e.string('AWS_ROLE_ARN');
  if (webIdentityTokenFile !== undefined && roleArn === undefined) {
    throw new InvalidInputError(
      `${code}: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set the role to assume`,
      'AWS_ROLE_ARN',
    );
  }
  const containerFullUri = e.string('AWS_CONTAINER_CREDENTIALS_FULL_URI');
  if (containerFullUri !== undefined) checkContainerUri(containerFullUri, code);
  const relative = e.string('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
  const imdsEndpoint = e.string('AWS_EC2_METADATA_SERVICE_ENDPOINT') ?? 'http://169.254.169.254';
  parseUrl(imdsEndpoint, 'AWS_EC2_METADATA_SERVICE_ENDPOINT', code);
  const stsOverride = e.string('AWS_ENDPOINT_URL_STS');
  if (stsOverride !== undefined) parseUrl(stsOverride, 'AWS_ENDPOINT_URL_STS', code);
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken: e.secret('AWS_SESSION_TOKEN'),
    region: e.string('AWS_REGION'),
    profile: e.string('AWS_PROFILE'),
    credentialsFile: expandHome(e.string('AWS_SHARED_CREDENTIALS_FILE') ?? defaultCredentialsFile()),
    configFile: expandHome(e.string('AWS_CONFIG_FILE') ?? defaultConfigFile()),
    webIdentityTokenFile,
    roleArn,
    roleSessionName: e.string('AWS_ROLE_SESSION_NAME'),
    containerRelativeUri: relative,
    containerFullUri,
    containerToken: e.secret('AWS_CONTAINER_AUTHORIZATION_TOKEN'),
    containerTokenFile: e.string('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'),
    imdsEndpoint,
    imdsDisabled: e.bool('AWS_EC2_METADATA_DISABLED', false),
    stsEndpoint: stsOverride,
    assumeRoleArn: e.string('AWS_ASSUME_ROLE_ARN'),
    externalId: e.string('AWS_EXTERNAL_ID'),
  };
}

/** Reads and checks every variable; nothing here touches the network. */
export function configure(e: ProviderEnv): Route53Config {
  const credentials = readCredentialSettings(e, 'route53');
  const partition = partitionOf(credentials.region ?? 'us-east-1');
  const override = e.string('AWS_ENDPOINT_URL_ROUTE_53');
  const endpoint =
    override !== undefined
      ? parseUrl(override, 'AWS_ENDPOINT_URL_ROUTE_53', 'route53')
      : new URL(partition.endpoint);

  const rawZone = e.string('AWS_HOSTED_ZONE_ID');
  const hostedZoneId = rawZone?.replace(/^\/?hostedzone\//, '');
  if (hostedZoneId !== undefined && !/^[A-Za-z0-9]+$/.test(hostedZoneId)) {
    throw new InvalidInputError(
      `route53: AWS_HOSTED_ZONE_ID must look like Z0123456789ABC, got ${JSON.stringify(rawZone)}`,
      rawZone,
    );
  }

  return {
    hostedZoneId,
    privateZone: e.bool('AWS_PRIVATE_ZONE', false),
    maxRetries: e.int('AWS_MAX_RETRIES', 5),
    waitForChange: e.bool('AWS_WAIT_FOR_RECORD_SETS_CHANGED', true),
    endpoint,
    signingRegion: partition.signingRegion,
    credentials,
  };
}

/** Route 53 is global; each partition has one endpoint, signed for one region. */
function partitionOf(region: string): { endpoint: string; signingRegion: string } {
  if (region.startsWith('cn-'))
    return { endpoint: 'https://route53.amazonaws.com.cn', signingRegion: 'cn-northwest-1' };
  if (region.startsWith('us-gov-'))
    return { endpoint: 'https://route53.us-gov.amazonaws.com', signingRegion: 'us-gov-west-1' };
  return { endpoint: 'https://route53.amazonaws.com', signingRegion: 'us-east-1' };
}

export function parseUrl(text: string, name: string, code: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(
      `${code}: ${name} must be an http or https URL, got ${JSON.stringify(text)}`,
      text,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(
      `${code}: ${name} must be an http or https URL, got ${JSON.stringify(text)}`,
      text,
    );
  }
  return url;
}

/** The SDKs send the container token in clear only to loopback or the ECS/EKS link-local agents. */
function checkContainerUri(text: string, code: string): void {
  const url = parseUrl(text, 'AWS_CONTAINER_CREDENTIALS_FULL_URI', code);
  if (url.protocol === 'https:') return;
  const host = url.hostname;
  const allowed =
    host === 'localhost' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === '[::1]' ||
    host === '169.254.170.2' ||
    host === '169.254.170.23' ||
    host === '[fd00:ec2::23]';
  if (!allowed) {
    throw new InvalidInputError(
      `${code}: AWS_CONTAINER_CREDENTIALS_FULL_URI over http must point to loopback or 169.254.170.2/.23, got host ${host}`,
      text,
    );
  }
}
