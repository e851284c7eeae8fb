import type { Clock } from '../../../internal/clock.ts';
import type { Logger } from '../../../internal/logger.ts';
import type { ProviderHttp } from '../../definition.ts';
import type { SigningCredentials } from './sigv4.ts';

/** Credentials ready for signing, with where they came from (for messages) and when they stop working. */
export interface AwsCredentials extends SigningCredentials {
  /** "environment variables", "profile \"ops\"", "web identity", "container endpoint", "EC2 instance metadata"… */
  readonly source: string;
  /** Epoch milliseconds; undefined for long-term keys. */
  readonly expiresAt?: number | undefined;
}

/** What every credential source and AWS call needs: the provider's HTTP client, clock and logger. */
export interface AwsContext {
  /** The provider code that errors and logs name (route53, lightsail); default route53. */
  readonly provider?: string;
  readonly http: ProviderHttp;
  readonly clock: Clock;
  readonly logger: Logger;
}
