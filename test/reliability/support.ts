import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProxyLogEntry } from '../support/fault-proxy.ts';

// Shared by test/e2e/reliability-*.test.ts: run the installed CLI (optionally under faketime), look at
// the files it left, check the request log, and mint certificates with chosen names, keys and dates.

const run = promisify(execFile);

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never printed" checks. */
  all: string;
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** libfaketime spec for the CLI process only, e.g. '+2d', '-2d', '+90s', '+0 x300'. */
  faketime?: string;
  timeoutMs?: number;
  /** Called with each chunk of stdout as it arrives (the child keeps running). */
  onStdout?: (text: string, kill: () => void) => void;
}

/** True when the faketime command (Debian package faketime, installed by scripts/setup.sh) works here. */
export function hasFaketime(): boolean {
  return spawnSync('faketime', ['-f', '+1d', 'true']).status === 0;
}

/** Runs the installed `acmekit` with no inherited ACMEKIT_/LEGO_ variables, stdout and stderr piped (not a terminal). */
export function runAcmekit(bin: string, args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('ACMEKIT_') && !k.startsWith('LEGO_')),
  );
  const [file, argv] = opts.faketime ? ['faketime', ['-f', opts.faketime, bin, ...args]] : [bin, args];
  return new Promise((resolve) => {
    const child = spawn(file, argv, { env: { ...base, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let all = '';
    const kill = () => child.kill('SIGKILL');
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      all += d;
      opts.onStdout?.(stdout, kill);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      all += d;
    });
    const timer = setTimeout(kill, opts.timeoutMs ?? 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, all });
    });
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `acmekit-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface FileState {
  mode: number;
  sha256: string;
}

/** Every file under `dir` (hidden ones and .locks included): permission bits and a hash of the bytes. */
export async function snapshot(dir: string): Promise<Record<string, FileState>> {
  const out: Record<string, FileState> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else if (e.isFile()) {
        out[`${rel}${e.name}`] = {
          mode: (await stat(p)).mode & 0o777,
          sha256: createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        };
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** The files whose bytes or mode differ between two snapshots, plus those added or removed. */
export function changedFiles(before: Record<string, FileState>, after: Record<string, FileState>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => JSON.stringify(before[n]) !== JSON.stringify(after[n])).sort();
}

/** No temporary file of an atomic write survived (`.<name>.<hex>.tmp`). */
export function assertNoTempFiles(files: Record<string, FileState>): void {
  const temps = Object.keys(files).filter((f) => /(^|\/)\.[^/]*\.tmp$/.test(f));
  assert.deepEqual(temps, [], 'no temp file is left behind');
}

/** RFC 8555 §6.5 on the wire: every POST carries a nonce and none is sent twice. */
export function assertNoNonceTwice(log: readonly ProxyLogEntry[]): void {
  const seen = new Set<string>();
  for (const e of log) {
    if (e.method !== 'POST') continue;
    assert.ok(e.nonce, `POST ${e.path} (#${e.seq}) carries a nonce`);
    assert.ok(!seen.has(e.nonce), `the nonce of POST ${e.path} (#${e.seq}) was sent before`);
    seen.add(e.nonce);
  }
}

/** The "acmekit" part of a certificate record (.json) under a lego folder, as the tests read it. */
export interface StoredState {
  serial?: string;
  notAfter?: string;
  lastRenewalAttempt?: { at: string; failures: number; error?: string };
  pending?: { orderUrl: string; since: string };
}

export async function readState(lego: string, name: string): Promise<StoredState> {
  const record = JSON.parse(await readFile(join(lego, 'certificates', `${name}.json`), 'utf8'));
  return (record as { acmekit?: StoredState }).acmekit ?? {};
}

// ---------- certificates with chosen names, keys and dates (openssl ca) ----------

export interface TestIssuer {
  dir: string;
  /** PEM of the issuing CA certificate (self-signed). */
  caPem: string;
  caPath: string;
  /** Signs a CSR: names in the SAN, validity from `notBefore` to `notAfter`. Returns the leaf PEM. */
  sign(opts: {
    csrPem: string;
    names: string[];
    notBefore: Date;
    notAfter: Date;
    server?: boolean;
  }): Promise<string>;
  /** A new P-256 key (PEM, kept in `dir`, never printed) and a CSR for it. */
  newCsr(names: string[]): Promise<{ csrPem: string; keyPath: string }>;
  /** A CSR for an existing private key file. */
  csrFor(keyPath: string, names: string[]): Promise<string>;
}

const CA_CNF = (dir: string) => `
[ca]
default_ca = ca_here
[ca_here]
database = ${dir}/index.txt
new_certs_dir = ${dir}/issued
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = optional
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** openssl's -startdate/-enddate form. */
function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * A small CA made with `openssl ca`, which (unlike `openssl x509` in OpenSSL 3.0) sets any validity
 * dates: certificates valid only in the future or the past, and a TLS server certificate backdated so
 * a client whose clock is days slow still trusts it.
 */
export async function createTestIssuer(opts: { notBefore: Date; notAfter: Date }): Promise<TestIssuer> {
  const dir = await tempDir('issuer');
  const cnf = join(dir, 'ca.cnf');
  await writeFile(cnf, CA_CNF(dir));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), `${createHash('sha1').update(dir).digest('hex').slice(0, 16)}\n`);
  await mkdir(join(dir, 'issued'));
  const caKey = join(dir, 'ca.key');
  const caCsr = join(dir, 'ca.csr');
  const caPath = join(dir, 'ca.pem');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', [
    'req',
    '-new',
    '-config',
    cnf,
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caCsr,
    '-subj',
    `/CN=acmekit reliability CA ${dir.slice(-6)}`,
  ]);
  await run('openssl', [
    ...[
      'ca',
      '-batch',
      '-config',
      cnf,
      '-selfsign',
      '-notext',
      '-keyfile',
      caKey,
      '-in',
      caCsr,
      '-out',
      caPath,
    ],
    ...['-startdate', asn1Time(opts.notBefore), '-enddate', asn1Time(opts.notAfter), '-extensions', 'root'],
  ]);
  let n = 0;
  const issuer: TestIssuer = {
    dir,
    caPem: await readFile(caPath, 'utf8'),
    caPath,
    async sign({ csrPem, names, notBefore, notAfter, server }) {
      const i = ++n;
      const csrPath = join(dir, `leaf${i}.csr`);
      const ext = join(dir, `leaf${i}.ext`);
      const out = join(dir, `leaf${i}.pem`);
      await writeFile(csrPath, csrPem);
      const san = names.map((x) => (/^[\d.]+$|:/.test(x) ? `IP:${x}` : `DNS:${x}`)).join(', ');
      await writeFile(
        ext,
        [
          '[leaf]',
          'basicConstraints = critical, CA:FALSE',
          'keyUsage = critical, digitalSignature',
          `extendedKeyUsage = ${server === false ? 'serverAuth, clientAuth' : 'serverAuth'}`,
          `subjectAltName = ${san}`,
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid',
          '',
        ].join('\n'),
      );
      await run('openssl', [
        ...['ca', '-batch', '-config', cnf, '-notext', '-cert', caPath, '-keyfile', caKey, '-in', csrPath],
        ...['-out', out, '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter)],
        ...['-extfile', ext, '-extensions', 'leaf', '-subj', `/CN=${names[0]}`],
      ]);
      return readFile(out, 'utf8');
    },
    async newCsr(names) {
      const i = ++n;
      const keyPath = join(dir, `key${i}.pem`);
      const csrPath = join(dir, `key${i}.csr`);
      await run('openssl', [
        'req',
        '-new',
        '-config',
        cnf,
        ...ec,
        '-keyout',
        keyPath,
        '-out',
        csrPath,
        '-subj',
        `/CN=${names[0]}`,
      ]);
      return { csrPem: await readFile(csrPath, 'utf8'), keyPath };
    },
    async csrFor(keyPath, names) {
      const csrPath = join(dir, `csr${++n}.csr`);
      await run('openssl', [
        'req',
        '-new',
        '-config',
        cnf,
        '-key',
        keyPath,
        '-out',
        csrPath,
        '-subj',
        `/CN=${names[0]}`,
      ]);
      return readFile(csrPath, 'utf8');
    },
  };
  return issuer;
}

export const DAY_MS = 86_400_000;
