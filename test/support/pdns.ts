import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DnsServer, queryDns } from '../../src/dns/wire/client.ts';
import { removeOnExit, type Tracked, track } from './child-process.ts';
import { freePort } from './free-port.ts';

/**
 * A real PowerDNS Authoritative Server (Debian's pdns-server with the gsqlite3 backend) on 127.0.0.1:
 * a fresh sqlite database made from the schema Debian ships, the HTTP API enabled with a random key,
 * caches off (so a DNS answer shows the API's last change), and the zones created through the API.
 *
 *   const pdns = await startPdns({ zones: ['example.test.'] });
 *   after(() => pdns.stop());
 *   // PDNS_API_URL = pdns.apiUrl, PDNS_API_KEY = pdns.apiKey
 */
export interface PdnsOptions {
  /** Zones to create through the API (Native kind unless listed in `primaryZones`). Default: example.test. */
  readonly zones?: readonly string[];
  /** Zones created with kind Master, for which a change is followed by a NOTIFY request. */
  readonly primaryZones?: readonly string[];
  /** The api-key to configure; default a random one. */
  readonly apiKey?: string;
  /** How long to wait for the API to answer. Default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface PdnsServer {
  /** Base URL of the webserver, e.g. http://127.0.0.1:41234 (the API is under /api/v1). */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Where pdns answers DNS queries. */
  readonly dns: DnsServer;
  readonly dir: string;
  /** The TXT values pdns serves at an absolute name right now. */
  txt(fqdn: string): Promise<string[]>;
  /** One API call with the key, for test set-up and checks. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  logs(): string;
  /** Stops pdns_server and removes its folder; safe to call more than once. */
  stop(): Promise<void>;
}

const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
const abs = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** True when pdns_server, its sqlite3 backend and the sqlite3 tool are installed (scripts/setup.sh). */
export function pdnsInstalled(): boolean {
  const which = spawnSync('sh', ['-c', 'command -v pdns_server && command -v sqlite3'], { stdio: 'ignore' });
  return which.status === 0 && existsSync(SCHEMA);
}

export async function startPdns(opts: PdnsOptions = {}): Promise<PdnsServer> {
  const zones = (opts.zones ?? ['example.test.']).map(abs);
  const primary = new Set((opts.primaryZones ?? []).map(abs));
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-pdns-'));
  const forgetDir = removeOnExit(dir);
  const apiKey = opts.apiKey ?? randomBytes(18).toString('hex');
  try {
    const db = join(dir, 'pdns.sqlite3');
    const made = spawnSync('sqlite3', [db], {
      input: await readFile(SCHEMA),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    if (made.status !== 0) throw new Error(`sqlite3 could not create the database: ${made.stderr}`);
    // An empty pdns.conf in our own folder: nothing from /etc/powerdns is read.
    await writeFile(join(dir, 'pdns.conf'), '');
    for (let attempt = 1; ; attempt++) {
      const [dnsPort, webPort] = [await freePort(), await freePort()];
      const child = spawn(
        'pdns_server',
        [
          `--config-dir=${dir}`,
          `--socket-dir=${dir}`,
          '--launch=gsqlite3',
          `--gsqlite3-database=${db}`,
          `--local-address=127.0.0.1:${dnsPort}`,
          '--webserver=yes',
          '--api=yes',
          `--api-key=${apiKey}`,
          '--webserver-address=127.0.0.1',
          `--webserver-port=${webPort}`,
          '--webserver-allow-from=127.0.0.0/8',
          // Answers straight from the database: a test reads what the API wrote a moment ago.
          '--cache-ttl=0',
          '--query-cache-ttl=0',
          '--negquery-cache-ttl=0',
          '--security-poll-suffix=',
          '--guardian=no',
          '--daemon=no',
          '--write-pid=no',
          '--disable-syslog',
          '--loglevel=4',
        ],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const proc = track(child);
      const apiUrl = `http://127.0.0.1:${webPort}`;
      const dns: DnsServer = { host: '127.0.0.1', port: dnsPort };
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${apiUrl}/api/v1/servers/localhost${path}`, {
          method,
          headers: {
            'x-api-key': apiKey,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        let json: unknown = text;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Plain text (401, 404 pages).
        }
        return { status: res.status, json };
      };
      try {
        await waitForApi(proc, api, opts.startTimeoutMs ?? 20_000);
      } catch (err) {
        await proc.stop();
        if (attempt < 3 && /address already in use|unable to bind/i.test(proc.logs())) continue;
        throw err;
      }
      for (const zone of zones) {
        const created = await api('POST', '/zones', {
          name: zone,
          kind: primary.has(zone) ? 'Master' : 'Native',
          nameservers: [`ns1.${zone}`],
        });
        if (created.status !== 201) {
          await proc.stop();
          throw new Error(
            `pdns refused to create ${zone}: HTTP ${created.status} ${JSON.stringify(created.json)}`,
          );
        }
      }
      let stopping: Promise<void> | undefined;
      return {
        apiUrl,
        apiKey,
        dns,
        dir,
        api,
        async txt(fqdn) {
          const res = await queryDns(dns, fqdn, 'TXT', { recursionDesired: false, timeoutMs: 3000 });
          const name = abs(fqdn);
          return res.answers.flatMap((rr) =>
            rr.typeName === 'TXT' && rr.name === name ? [rr.data.text] : [],
          );
        },
        logs: () => proc.logs(),
        stop: () => {
          stopping ??= (async () => {
            await proc.stop();
            await rm(dir, { recursive: true, force: true });
            forgetDir();
          })();
          return stopping;
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    forgetDir();
    throw err;
  }
}

async function waitForApi(
  proc: Tracked,
  api: (method: string, path: string) => Promise<{ status: number }>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited()) throw new Error(`pdns_server exited during start-up:\n${tail(proc.logs())}`);
    if (Date.now() > deadline)
      throw new Error(`pdns_server's API did not answer within ${timeoutMs} ms:\n${tail(proc.logs())}`);
    try {
      if ((await api('GET', '')).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
