import { readFile } from 'node:fs/promises';
import type { AcmeClient } from '../acme/client.ts';
import { UsageError } from '../errors/usage.ts';
import { mark } from '../internal/timing.ts';
import { secondsOption } from './option-readers.ts';
import type { Options } from './options.ts';
import type { Output } from './output.ts';
import { progressLogger } from './progress-logger.ts';

/** The ACME client the options ask for: --server (or --dry-run's staging CA), --ca-bundle, timeouts, --user-agent. */
export async function makeClient(o: Options, out: Output): Promise<AcmeClient> {
  const bundlePath = o.str('caBundle');
  let caBundle: string | undefined;
  if (bundlePath) {
    caBundle = await readFile(bundlePath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the CA bundle ${bundlePath}: ${err.code ?? err.message}`);
    });
    if (!caBundle.includes('BEGIN CERTIFICATE'))
      throw new UsageError(`${bundlePath} holds no PEM certificate`);
  }
  let server = o.str('server') ?? 'letsencrypt';
  if (o.bool('dryRun')) {
    // As certbot does: a trial against a production CA goes to its staging CA, which has the same rules.
    const { resolveDirectoryUrl, stagingPresetOf } = await import('../protocol/ca-presets.ts');
    const staging = stagingPresetOf(resolveDirectoryUrl(server));
    if (staging) server = staging;
    out.line(
      `dry run: ordering at ${staging ? `${staging} (${resolveDirectoryUrl(staging)})` : server}; nothing will be saved`,
    );
  }
  const logger = progressLogger(out);
  const httpTimeout = secondsOption(o, 'httpTimeout', '--http-timeout');
  const certTimeout = secondsOption(o, 'certTimeout', '--cert.timeout');
  const userAgent = o.str('userAgent');
  if (userAgent !== undefined && !/^[\x20-\x7e]+$/.test(userAgent)) {
    throw new UsageError('--user-agent takes printable ASCII only (it is sent as an HTTP header)');
  }
  // Loaded here, not at start-up: list and --help never talk to a CA.
  const { AcmeClient } = await import('../acme/client.ts');
  const client = new AcmeClient(server, {
    ...(caBundle ? { caBundle } : {}),
    logger,
    // lego's --http-timeout: the deadline of each request; --cert.timeout: of each wait for the CA.
    ...(httpTimeout !== undefined ? { timeoutMs: Math.round(httpTimeout * 1000) } : {}),
    ...(certTimeout !== undefined ? { polling: { timeoutMs: Math.round(certTimeout * 1000) } } : {}),
    // lego's --user-agent: put in front of acmekit's own (RFC 8555 §6.1 wants the client named).
    ...(userAgent ? { userAgent } : {}),
  });
  mark('client');
  return client;
}
