import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DnsServer, queryDns } from '../../src/dns/wire/client.ts';
import { removeOnExit, type Tracked, track } from './child-process.ts';
import { freePort } from './free-port.ts';

/**
 * A real BIND 9 (`named -g`) on 127.0.0.1, authoritative for a few zones, accepting TSIG-signed updates.
 *
 *   const bind = await startBind({ keys: [{ name: 'acme-key.' }] });
 *   after(() => bind.stop());
 *   // RFC2136_NAMESERVER = `${bind.host}:${bind.port}`, secret = bind.keys[0].secret
 */
export interface BindKeyOptions {
  /** Key name as BIND knows it, e.g. "acme-key." (written to named.conf with the trailing dot). */
  name: string;
  /** BIND's spelling, without the dot. Default hmac-sha256. */
  algorithm?: 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
  /** Base64; default 32 random bytes. */
  secret?: string;
  /** Granted `zonesub ANY` in every zone's update-policy. Default true; false for a key BIND knows but refuses. */
  canUpdate?: boolean;
}

export interface BindZoneOptions {
  /** Absolute zone name, e.g. "alias.test.". */
  name: string;
  /** Extra zone-file lines, e.g. `_acme-challenge.www CNAME _acme-challenge.alias.test.` */
  records?: readonly string[];
}

export interface BindOptions {
  /** Zones to serve; default one zone `example.test.`. Each gets SOA, `NS ns1.<zone>`, `ns1 A 127.0.0.1`. */
  zones?: readonly BindZoneOptions[];
  /** Extra records for the first zone (a shortcut for `zones: [{ name: 'example.test.', records }]`). */
  records?: readonly string[];
  keys?: readonly BindKeyOptions[];
  /** How long to wait for the zones to answer. Default 20 s. */
  startTimeoutMs?: number;
}

export interface BindKey {
  readonly name: string;
  readonly algorithm: NonNullable<BindKeyOptions['algorithm']>;
  readonly secret: string;
  readonly canUpdate: boolean;
}

export interface BindServer {
  readonly host: string;
  readonly port: number;
  readonly server: DnsServer;
  /** The zones served, absolute ("example.test."). */
  readonly zones: readonly string[];
  readonly keys: readonly BindKey[];
  /** The temp dir with named.conf, the zone files and their journals. */
  readonly dir: string;
  /** The TXT values BIND serves at an absolute name right now (each value's strings joined). */
  txt(fqdn: string): Promise<string[]>;
  /** Captured stdout and stderr of named. */
  logs(): string;
  /** Kills named and removes the temp dir; safe to call more than once. */
  stop(): Promise<void>;
}

const abs = (name: string): string => (name.endsWith('.') ? name : `${name}.`);

export async function startBind(opts: BindOptions = {}): Promise<BindServer> {
  const zones: BindZoneOptions[] = (opts.zones ?? [{ name: 'example.test.' }]).map((z, i) => ({
    name: abs(z.name).toLowerCase(),
    records: [...(z.records ?? []), ...(i === 0 ? (opts.records ?? []) : [])],
  }));
  if (zones.length === 0) zones.push({ name: 'example.test.', records: opts.records ?? [] });
  const keys: BindKey[] = (opts.keys ?? []).map((k) => ({
    name: abs(k.name),
    algorithm: k.algorithm ?? 'hmac-sha256',
    secret: k.secret ?? randomBytes(32).toString('base64'),
    canUpdate: k.canUpdate ?? true,
  }));

  const dir = await mkdtemp(join(tmpdir(), 'acmekit-bind-'));
  const forgetDir = removeOnExit(dir);
  try {
    for (const z of zones) await writeFile(join(dir, `${z.name}db`), zoneFile(z));
    // A port from freePort() is free for TCP a moment ago; named also needs it for UDP: retry on a clash.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const confPath = join(dir, 'named.conf');
      await writeFile(confPath, namedConf(dir, port, zones, keys));
      // -g: foreground, log to stderr; -4: IPv4 only; -n 1: one worker thread is plenty and starts fast.
      const child = spawn('named', ['-g', '-4', '-n', '1', '-c', confPath], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const proc = track(child);
      const server: DnsServer = { host: '127.0.0.1', port };
      try {
        await waitForZones(proc, server, zones, opts.startTimeoutMs ?? 20_000);
      } catch (err) {
        await proc.stop();
        if (attempt < 3 && /address in use|unable to listen/i.test(proc.logs())) continue;
        throw err;
      }
      let stopping: Promise<void> | undefined;
      return {
        host: server.host,
        port,
        server,
        zones: zones.map((z) => z.name),
        keys,
        dir,
        async txt(fqdn) {
          const res = await queryDns(server, fqdn, 'TXT', { recursionDesired: false, timeoutMs: 3000 });
          const name = abs(fqdn).toLowerCase();
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

function zoneFile(z: BindZoneOptions): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${z.name} hostmaster.${z.name} 1 3600 600 86400 60`,
    `@ IN NS ns1.${z.name}`,
    'ns1 IN A 127.0.0.1',
    ...(z.records ?? []),
    '',
  ].join('\n');
}

function namedConf(
  dir: string,
  port: number,
  zones: readonly BindZoneOptions[],
  keys: readonly BindKey[],
): string {
  const q = (s: string) => JSON.stringify(s);
  const granted = keys.filter((k) => k.canUpdate);
  const lines = [
    'options {',
    `  directory ${q(dir)};`,
    '  pid-file none;',
    '  session-keyfile none;',
    `  managed-keys-directory ${q(dir)};`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '  allow-query { any; };',
    '  allow-transfer { none; };',
    '};',
    // No rndc: an empty controls statement keeps named from opening port 953.
    'controls { };',
    ...keys.map((k) => `key ${q(k.name)} { algorithm ${k.algorithm}; secret ${q(k.secret)}; };`),
  ];
  for (const z of zones) {
    lines.push(`zone ${q(z.name)} {`, '  type primary;', `  file ${q(join(dir, `${z.name}db`))};`);
    if (granted.length > 0) {
      lines.push(`  update-policy { ${granted.map((k) => `grant ${q(k.name)} zonesub ANY;`).join(' ')} };`);
    }
    lines.push('};');
  }
  return `${lines.join('\n')}\n`;
}

async function waitForZones(
  proc: Tracked,
  server: DnsServer,
  zones: readonly BindZoneOptions[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(zones.map((z) => z.name));
  while (pending.size > 0) {
    if (proc.exited()) throw new Error(`named exited during start-up:\n${tail(proc.logs())}`);
    if (Date.now() > deadline) {
      throw new Error(
        `named did not serve ${[...pending].join(', ')} within ${timeoutMs} ms:\n${tail(proc.logs())}`,
      );
    }
    for (const zone of [...pending]) {
      try {
        const res = await queryDns(server, zone, 'SOA', { recursionDesired: false, timeoutMs: 300 });
        if (res.rcode === 0 && res.authoritative && res.answers.some((rr) => rr.typeName === 'SOA'))
          pending.delete(zone);
      } catch {
        // Not listening yet.
      }
    }
    if (pending.size > 0) await sleep(50);
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
