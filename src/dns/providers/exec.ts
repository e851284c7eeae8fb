import { isAbsolute } from 'node:path';
import { InvalidInputError } from '../../errors/base.ts';
import { DnsProviderError } from '../../errors/dns.ts';
import { runProcess } from '../../internal/run-process.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import type { DnsProvider, TxtRecord } from '../provider.ts';

interface ExecConfig {
  readonly path: string;
  readonly raw: boolean;
  readonly timeoutMs: number;
}

/**
 * Runs the user's program for every record: `PROGRAM present|cleanup FQDN VALUE` (lego's default),
 * or in RAW mode `PROGRAM present|cleanup DOMAIN -- TOKEN KEY_AUTH`. Arguments never pass through a
 * shell. acme.sh-style hook scripts (`dns_x_add FQDN VALUE`) fit through a three-line wrapper.
 */
export const definition = {
  code: 'exec',
  title: 'External program',
  description:
    'Runs a program to add and remove each TXT record: `PROGRAM present FQDN VALUE`, then `PROGRAM cleanup FQDN VALUE`. ' +
    'A non-zero exit fails the step; the program is killed (with its children) after EXEC_TIMEOUT.',
  docsUrl: 'https://go-acme.github.io/lego/dns/exec/',
  permissions: 'whatever the program needs; acmekit passes only the arguments above and its own environment',
  example: [
    'EXEC_PATH=/usr/local/bin/update-dns.sh \\',
    "  acmekit --dns exec --domains example.com --domains '*.example.com' --email you@example.com --accept-tos run",
    '# update-dns.sh is then called as: update-dns.sh present _acme-challenge.example.com. <value>',
  ].join('\n'),
  envPrefix: 'EXEC',
  defaults: { propagationTimeoutMs: 60_000, pollingIntervalMs: 3_000 },
  env: [
    {
      name: 'EXEC_PATH',
      description: 'the program to run (absolute path, or a name on PATH)',
      required: true,
    },
    { name: 'EXEC_MODE', description: 'RAW: pass DOMAIN -- TOKEN KEY_AUTH instead of FQDN VALUE' },
    { name: 'EXEC_TIMEOUT', description: 'kill the program after this many seconds', default: '60' },
  ],
  configure(env) {
    const path = env.required('EXEC_PATH');
    const mode = env.string('EXEC_MODE')?.toUpperCase();
    if (mode !== undefined && mode !== 'RAW') {
      throw new InvalidInputError(`exec: EXEC_MODE must be RAW or unset, got ${JSON.stringify(mode)}`, mode);
    }
    if (path.includes('/') && !isAbsolute(path) && !path.startsWith('./') && !path.startsWith('../')) {
      throw new InvalidInputError(
        `exec: EXEC_PATH ${JSON.stringify(path)} is neither absolute nor on PATH`,
        path,
      );
    }
    return { path, raw: mode === 'RAW', timeoutMs: env.durationMs('EXEC_TIMEOUT', 60_000) };
  },
  create(config, deps) {
    return new ExecProvider(config, deps.logger);
  },
} satisfies DnsProviderDefinition<ExecConfig>;

class ExecProvider implements DnsProvider {
  /** Writes by the full name: no zone lookup needed. */
  readonly zoneless = true;
  readonly #config: ExecConfig;
  readonly #logger: { debug(obj: object, msg?: string): void };
  /**
   * The program runs once at a time: a certificate for example.com and *.example.com presents two values
   * at one name together, and most scripts edit a zone file or call an API without locking (lego runs
   * them one after another too).
   */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(config: ExecConfig, logger: { debug(obj: object, msg?: string): void }) {
    this.#config = config;
    this.#logger = logger;
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#inTurn(() => this.#run('present', record, signal));
  }

  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    return this.#inTurn(() => this.#run('cleanup', record, signal));
  }

  #inTurn(run: () => Promise<void>): Promise<void> {
    const mine = this.#turn.then(run);
    this.#turn = mine.catch(() => {});
    return mine;
  }

  async #run(action: 'present' | 'cleanup', record: TxtRecord, signal: AbortSignal): Promise<void> {
    const args = this.#args(action, record);
    this.#logger.debug({ program: this.#config.path, action, fqdn: record.fqdn }, 'dns exec: running');
    const result = await runProcess({
      file: this.#config.path,
      args,
      env: {},
      timeoutMs: this.#config.timeoutMs,
      signal,
      maxOutputBytes: 4096,
    });
    if (result.exitCode === 0) return;
    const how = result.timedOut
      ? `did not finish within ${Math.round(this.#config.timeoutMs / 1000)} s (EXEC_TIMEOUT) and was killed`
      : result.exitCode === null
        ? `ended by ${result.signal ?? 'a signal'}`
        : `exited with status ${result.exitCode}`;
    const tail = lastLine(result.stderr) || lastLine(result.stdout);
    throw new DnsProviderError(
      'exec',
      action,
      `${this.#config.path} ${action} ${record.fqdn} ${how}${tail ? `: ${tail}` : ''}`,
      { status: result.exitCode ?? result.signal ?? 'timeout' },
    );
  }

  #args(action: string, record: TxtRecord): string[] {
    if (!this.#config.raw) return [action, record.fqdn, record.value];
    if (!record.acme) {
      throw new DnsProviderError(
        'exec',
        action as 'present',
        'EXEC_MODE=RAW needs the ACME token, which this caller did not give',
      );
    }
    return [action, record.acme.domain, '--', record.acme.token, record.acme.keyAuthorization];
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
