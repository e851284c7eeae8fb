// acmekit/server: automatic HTTPS inside a Node server (node:https, node:http2, node:tls).

export { OnDemandRefusedError } from '../errors/server.ts';
export { HttpChallengeSolver, type Middleware, type RequestHandler } from '../solvers/http01-store.ts';
export { TlsAlpnChallengeSolver } from '../solvers/tls-alpn01-store.ts';
export {
  type Attachable,
  type AutoHttps,
  type AutoHttpsOptions,
  type AutoHttpsStatus,
  autoHttps,
  type CertificateStatus,
  defaultStoragePath,
} from './auto-https.ts';
export type {
  AutoHttpsEventName,
  AutoHttpsEvents,
  CertificateEvent,
  ExpiringEvent,
  FailureEvent,
} from './events.ts';
export type { MetricsOptions, MetricsRegistry } from './metrics.ts';
export type { OnDemandOptions, OnDemandOutcome } from './on-demand.ts';
export { type CachedCertificate, describeChain, SniCache, type SniCacheListener } from './sni-cache.ts';
