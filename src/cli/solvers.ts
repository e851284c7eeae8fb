import { resolve } from 'node:path';
import { UsageError } from '../errors/usage.ts';
import type { Solver } from '../solvers/solver.ts';
import type { ChallengeRecord } from '../storage/lego/certificate-record.ts';
import { delayed } from './delayed-solver.ts';
import { parseAddress } from './listen-address.ts';
import { challengeDelayMs } from './option-readers.ts';
import type { Options } from './options.ts';
import type { Output } from './output.ts';
import { progressLogger } from './progress-logger.ts';

/** The solvers the flags ask for, and how to remember the choice in the certificate record. */
export async function solversFor(
  o: Options,
  out: Output,
): Promise<{ solvers: Solver[]; challenge: ChallengeRecord } | undefined> {
  const webroot = o.str('httpWebroot');
  const logger = progressLogger(out);
  const { dnsReplayFrom, dnsSolversFrom } = await import('./dns-solvers.ts');
  const dns = dnsReplayFrom(o);
  if (dns) {
    if (webroot || o.bool('http') || o.bool('tls')) {
      throw new UsageError(
        '--dns cannot be combined with --http, --http.webroot or --tls; choose one challenge',
      );
    }
    return { solvers: await dnsSolversFrom(dns, logger), challenge: { type: 'dns-01', dns } };
  }
  const httpDelayMs = challengeDelayMs(o, 'http-01');
  const httpDelay = httpDelayMs ? { delayMs: httpDelayMs } : {};
  if (webroot) {
    const { Http01WebrootSolver } = await import('../solvers/http01-webroot.ts');
    return {
      solvers: delayed([new Http01WebrootSolver({ root: resolve(webroot) })], httpDelayMs, logger),
      challenge: { type: 'http-01', webroot: resolve(webroot), ...httpDelay },
    };
  }
  if (o.bool('http')) {
    const address = o.str('httpAddress') ?? ':80';
    const { host, port } = parseAddress(address, '--http.address');
    const { Http01ListenerSolver } = await import('../solvers/http01-listener.ts');
    return {
      solvers: delayed([new Http01ListenerSolver({ port, ...(host ? { host } : {}) })], httpDelayMs, logger),
      challenge: { type: 'http-01', httpAddress: address, ...httpDelay },
    };
  }
  if (o.bool('tls')) {
    const address = o.str('tlsAddress') ?? ':443';
    const { host, port } = parseAddress(address, '--tls.address');
    const { TlsAlpn01ListenerSolver } = await import('../solvers/tls-alpn01.ts');
    const tlsDelayMs = challengeDelayMs(o, 'tls-alpn-01');
    return {
      solvers: delayed(
        [new TlsAlpn01ListenerSolver({ port, ...(host ? { host } : {}) })],
        tlsDelayMs,
        logger,
      ),
      challenge: { type: 'tls-alpn-01', tlsAddress: address, ...(tlsDelayMs ? { delayMs: tlsDelayMs } : {}) },
    };
  }
  return undefined;
}

/** Solvers from a stored record, for renewals without challenge flags (like certbot's renewal configs). */
export async function solversFromRecord(challenge: ChallengeRecord, out: Output): Promise<Solver[]> {
  const logger = progressLogger(out);
  if (challenge.webroot) {
    const { Http01WebrootSolver } = await import('../solvers/http01-webroot.ts');
    return delayed([new Http01WebrootSolver({ root: challenge.webroot })], challenge.delayMs, logger);
  }
  if (challenge.type === 'http-01') {
    const { host, port } = parseAddress(challenge.httpAddress ?? ':80', 'stored http address');
    const { Http01ListenerSolver } = await import('../solvers/http01-listener.ts');
    return delayed(
      [new Http01ListenerSolver({ port, ...(host ? { host } : {}) })],
      challenge.delayMs,
      logger,
    );
  }
  if (challenge.type === 'tls-alpn-01') {
    const { host, port } = parseAddress(challenge.tlsAddress ?? ':443', 'stored tls address');
    const { TlsAlpn01ListenerSolver } = await import('../solvers/tls-alpn01.ts');
    return delayed(
      [new TlsAlpn01ListenerSolver({ port, ...(host ? { host } : {}) })],
      challenge.delayMs,
      logger,
    );
  }
  if (challenge.type === 'dns-01' && challenge.dns) {
    const { dnsSolversFrom } = await import('./dns-solvers.ts');
    return dnsSolversFrom(challenge.dns, logger);
  }
  throw new UsageError(
    `the stored certificate was obtained with ${challenge.type}, which needs flags this version cannot replay; pass --http, --http.webroot, --tls or --dns`,
  );
}
