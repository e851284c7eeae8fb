/**
 * Issuance benchmark (a figure, not a test): acmekit against acme-client on one local Pebble.
 *
 *   npx tsx bench/issue.ts [--n 20]
 *
 * One Pebble 2.4.0 on loopback (its default 5 % badNonce rejection left on, PEBBLE_VA_NOSLEEP=1),
 * behind a counting HTTPS proxy that runs in a child process (so its CPU is not the clients'). Each
 * client registers one account (not counted), then issues N certificates, one fresh name each, with
 * http-01 answered on Pebble's validation port. See bench/README.md for what every figure means.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as acme from 'acme-client';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../src/index.ts';
import { startPebble } from '../test/support/pebble.ts';

// ---------------------------------------------------------------------------------------------
// What the proxy records
// ---------------------------------------------------------------------------------------------

const KINDS = [
  'directory',
  'newNonce',
  'newAccount',
  'newOrder',
  'authz',
  'challenge',
  'order poll',
  'finalize',
  'certificate',
  'account',
  'other',
] as const;
type Kind = (typeof KINDS)[number];

/** HEAD and GET as sent; POST split by payload: "POST-as-GET" has an empty JWS payload (RFC 8555 §6.3). */
const METHODS = ['HEAD', 'GET', 'POST', 'POST-as-GET'] as const;
type Method = (typeof METHODS)[number] | 'other';

interface Entry {
  kind: Kind;
  method: Method;
  status: number;
  /** The answer was a badNonce problem: the client must sign the request again (one retry). */
  badNonce: boolean;
}

type ToChild = { type: 'mark'; id: number } | { type: 'log'; id: number };
type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'mark'; id: number; requests: number; connections: number }
  | { type: 'log'; id: number; log: Entry[] };

// ---------------------------------------------------------------------------------------------
// The counting proxy (child process)
// ---------------------------------------------------------------------------------------------

// Pebble 2.4.0's URL layout for the objects it creates; directory resources are learnt from /dir.
const PATH_PREFIXES: readonly [string, Kind][] = [
  ['/my-account/', 'account'],
  ['/my-order/', 'order poll'],
  ['/authZ/', 'authz'],
  ['/chalZ/', 'challenge'],
  ['/finalize-order/', 'finalize'],
  ['/certZ/', 'certificate'],
];
const DIRECTORY_KINDS: readonly Kind[] = ['newNonce', 'newAccount', 'newOrder'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

/**
 * Forwards every request to Pebble keeping its Host header (Pebble builds its URLs from Host and
 * checks each JWS "url" against it), and rewrites Pebble's own origin to the proxy's in bodies and
 * Location/Link headers, so a client given the proxy's directory never leaves the proxy.
 */
async function runProxyChild(): Promise<void> {
  const target = new URL(process.env.BENCH_TARGET_DIRECTORY!);
  const ca = readFileSync(process.env.BENCH_CA_PATH!, 'utf8');
  const cert = readFileSync(process.env.BENCH_CERT_PATH!, 'utf8');
  const key = readFileSync(process.env.BENCH_KEY_PATH!, 'utf8');
  const agent = new HttpsAgent({ keepAlive: true, ca, maxSockets: 32 });
  const directoryPaths = new Map<string, Kind>([[target.pathname, 'directory']]);
  const log: Entry[] = [];
  let connections = 0;
  let origin = '';

  const classify = (path: string): Kind => {
    const pathname = path.split('?')[0] ?? path;
    const known = directoryPaths.get(pathname);
    if (known) return known;
    for (const [prefix, kind] of PATH_PREFIXES) if (pathname.startsWith(prefix)) return kind;
    return 'other';
  };
  const methodOf = (method: string, body: Buffer): Method => {
    if (method === 'HEAD' || method === 'GET') return method;
    if (method !== 'POST') return 'other';
    try {
      const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
      return jws.payload === '' ? 'POST-as-GET' : 'POST';
    } catch {
      return 'POST';
    }
  };
  const rewrite = (text: string): string => text.split(target.origin).join(origin);

  const forward = (
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      }
      if (body.length > 0 || method === 'POST') out['content-length'] = String(body.length);
      const up = httpsRequest(
        {
          hostname: target.hostname,
          port: target.port,
          method,
          path,
          headers: out,
          agent,
          // Pebble's certificate names localhost and 127.0.0.1, never the proxy's Host header.
          servername: 'localhost',
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const handle = async (inc: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of inc) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = (inc.method ?? 'GET').toUpperCase();
    const path = inc.url ?? '/';
    // Logged on arrival: by the time a client's call resolves, every request it made is in the log.
    const entry: Entry = { kind: classify(path), method: methodOf(method, body), status: 0, badNonce: false };
    log.push(entry);
    try {
      const up = await forward(method, path, inc.headers, body);
      entry.status = up.status;
      let text = up.body.toString('utf8');
      if (entry.kind === 'directory' && up.status === 200) {
        try {
          const dir = JSON.parse(text) as Record<string, unknown>;
          for (const kind of DIRECTORY_KINDS) {
            const url = dir[kind];
            if (typeof url === 'string') directoryPaths.set(new URL(url).pathname, kind);
          }
        } catch {
          // not JSON: nothing to learn
        }
      }
      entry.badNonce = up.status === 400 && text.includes('urn:ietf:params:acme:error:badNonce');
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) {
        if (HOP_BY_HOP.has(name) || value === undefined) continue;
        headers[name] =
          name === 'location' || name === 'link'
            ? Array.isArray(value)
              ? value.map(rewrite)
              : rewrite(value)
            : value;
      }
      if (method === 'HEAD' || up.status === 204 || up.status === 304) {
        res.writeHead(up.status, headers).end();
        return;
      }
      let out = up.body;
      if (text.includes(target.origin)) {
        text = rewrite(text);
        out = Buffer.from(text, 'utf8');
      }
      headers['content-length'] = String(out.length);
      res.writeHead(up.status, headers).end(out);
    } catch (err) {
      entry.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`bench proxy: ${String(err)}\n`);
    }
  };

  const server = createHttpsServer({ cert, key, keepAliveTimeout: 30_000 }, (inc, res) => {
    handle(inc, res).catch(() => res.destroy());
  });
  server.on('secureConnection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  process.on('message', (msg: ToChild) => {
    const reply: FromChild =
      msg.type === 'mark'
        ? { type: 'mark', id: msg.id, requests: log.length, connections }
        : { type: 'log', id: msg.id, log };
    process.send?.(reply);
  });
  // Without the parent there is nothing to do.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', port } satisfies FromChild);
}

/** Starts the proxy in a child process (this same file, with the same tsx loader) and talks to it over IPC. */
async function startProxy(opts: { directoryUrl: string; caPath: string; certPath: string; keyPath: string }) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: {
      ...process.env,
      BENCH_PROXY_CHILD: '1',
      BENCH_TARGET_DIRECTORY: opts.directoryUrl,
      BENCH_CA_PATH: opts.caPath,
      BENCH_CERT_PATH: opts.certPath,
      BENCH_KEY_PATH: opts.keyPath,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.on('exit', killChild);
  let nextId = 1;
  const waiting = new Map<number, (msg: FromChild) => void>();
  const ready = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench proxy exited (${code}) before it was ready`)));
    child.on('message', (msg: FromChild) => {
      if (msg.type === 'ready') resolve(msg.port);
      else waiting.get(msg.id)?.(msg);
    });
  });
  const port = await ready;
  const ask = <T extends FromChild>(type: ToChild['type']): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, (msg) => {
        waiting.delete(id);
        resolve(msg as T);
      });
      child.send({ type, id } satisfies ToChild);
    });
  const target = new URL(opts.directoryUrl);
  return {
    directoryUrl: `https://127.0.0.1:${port}${target.pathname}`,
    /** Number of requests seen so far (a boundary in the log). */
    mark: async (): Promise<Boundary> => {
      const { requests, connections } = await ask<Extract<FromChild, { type: 'mark' }>>('mark');
      return { requests, connections };
    },
    log: async () => (await ask<Extract<FromChild, { type: 'log' }>>('log')).log,
    stop: async () => {
      process.off('exit', killChild);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The two clients
// ---------------------------------------------------------------------------------------------

interface RunResult {
  name: string;
  /** Log indexes: [setupStart, loopStart, after issuance 1, ..., after issuance N]. */
  marks: Boundary[];
  wallMs: number[];
  /** process.cpuUsage() delta (user + system, µs) around each issuance call. */
  cpuMicros: number[];
  successes: number;
  errors: string[];
}

/** Counts at one point in the proxy's life: requests logged and TLS connections accepted so far. */
interface Boundary {
  requests: number;
  connections: number;
}
type Mark = () => Promise<Boundary>;

interface RunOptions {
  directoryUrl: string;
  caBundle: string;
  httpPort: number;
  n: number;
  mark: Mark;
  /** acmekit only: override its poll policy's first delay (default: the library's). */
  firstPollMs: number | undefined;
}

const newResult = async (name: string, mark: Mark): Promise<RunResult> => ({
  name,
  marks: [await mark()],
  wallMs: [],
  cpuMicros: [],
  successes: 0,
  errors: [],
});

/** Times one issuance: wall clock and this process's CPU (user + system) around the call only. */
async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; cpu: number; error?: string }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let error: string | undefined;
  try {
    await fn();
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpu: cpu.user + cpu.system, ...(error === undefined ? {} : { error }) };
}

async function loop(
  result: RunResult,
  n: number,
  mark: Mark,
  issue: (i: number) => Promise<unknown>,
): Promise<RunResult> {
  for (let i = 0; i < n; i++) {
    const t = await timed(() => issue(i));
    result.wallMs.push(t.ms);
    result.cpuMicros.push(t.cpu);
    if (t.error === undefined) result.successes++;
    else result.errors.push(t.error);
    result.marks.push(await mark()); // outside the timed window
  }
  return result;
}

const runId = randomBytes(3).toString('hex');
const nameFor = (client: string, i: number) => `bench-${runId}-${client}-${i + 1}.acmekit.test`;

async function runAcmekit(opts: RunOptions): Promise<RunResult> {
  const result = await newResult('acmekit', opts.mark);
  const client = new AcmeClient(opts.directoryUrl, {
    caBundle: opts.caBundle,
    ...(opts.firstPollMs === undefined ? {} : { polling: { firstDelayMs: opts.firstPollMs } }),
  });
  try {
    const account = await client.createAccount({ acceptTos: true });
    result.marks.push(await opts.mark());
    const solver = new Http01ListenerSolver({ port: opts.httpPort, host: '127.0.0.1' });
    return await loop(result, opts.n, opts.mark, (i) =>
      obtainCertificate(account, { names: [nameFor('acmekit', i)], solvers: [solver] }),
    );
  } finally {
    client.close();
  }
}

async function runAcmeClient(opts: RunOptions): Promise<RunResult> {
  const result = await newResult('acme-client', opts.mark);
  // acme-client sends everything through its exported axios instance: trust Pebble's root there.
  // Keep-alive as Node 20's global agent (axios' default) has it; verification stays on.
  const agent = new HttpsAgent({ ca: opts.caBundle, keepAlive: true });
  acme.axios.defaults.httpsAgent = agent;
  // Its own small http-01 responder on Pebble's validation port (acmekit's listener is closed by now).
  const answers = new Map<string, string>();
  const server = createHttpServer((req, res) => {
    const token = (req.url ?? '').startsWith('/.well-known/acme-challenge/')
      ? (req.url ?? '').slice('/.well-known/acme-challenge/'.length)
      : '';
    const answer = answers.get(token);
    if (answer === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.httpPort, '127.0.0.1', resolve);
  });
  try {
    // P-256 keys for the account and the certificates, as acmekit's defaults (acme-client's own is RSA 2048).
    const client = new acme.Client({
      directoryUrl: opts.directoryUrl,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
    });
    await client.createAccount({ termsOfServiceAgreed: true });
    result.marks.push(await opts.mark());
    return await loop(result, opts.n, opts.mark, async (i) => {
      const name = nameFor('acme-client', i);
      // Key and CSR are made inside the timed call, as acmekit's obtain() makes them.
      const [, csr] = await acme.crypto.createCsr(
        { commonName: name, altNames: [name] },
        await acme.crypto.createPrivateEcdsaKey(),
      );
      return client.auto({
        csr,
        termsOfServiceAgreed: true,
        // Its pre-check GETs http://<name>:80 through the system resolver, which cannot see Pebble's
        // DNS; it sends nothing to the CA, so the request counts are the same either way.
        skipChallengeVerification: true,
        challengePriority: ['http-01'],
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          answers.set(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          answers.delete(challenge.token);
        },
      });
    });
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/**
 * The fewest requests one issuance can take with this flow (one name, http-01, a new order each
 * time, an account that already exists, directory already fetched):
 *   1 newOrder            POST                 (its answer lists the authorization URL, not the token)
 *   1 authz fetch         POST-as-GET          (the only way to learn the http-01 token and challenge URL)
 *   1 challenge           POST {}              ("ready": the CA may now validate)
 *   ≥1 poll               POST-as-GET          (validation is asynchronous; the order or authz must be seen
 *                                               valid/ready before finalize, which otherwise fails orderNotReady)
 *   1 finalize            POST {csr}
 *   ≥0 poll               POST-as-GET          (0 if finalize answers "valid", ≥1 if it answers "processing")
 *   1 certificate         POST-as-GET
 *   = 6 by the RFC. Pebble 2.4.0 always answers finalize with "processing" and issues in the
 *   background, so against Pebble the floor is 7.
 * Nonces: every ACME answer carries a Replay-Nonce, so a client that keeps the last one needs a
 * newNonce (HEAD) only when its pool is empty, i.e. 0 per issuance in steady state (the account
 * creation left one). badNonce answers (Pebble rejects 5 % of good nonces on purpose) each force one
 * more request; they are counted separately and are not part of the minimum.
 */
const MINIMUM_RFC = 6;
const MINIMUM_PEBBLE = 7;

interface Summary {
  name: string;
  n: number;
  byKindMethod: Map<string, number>;
  byKind: Map<Kind, number>;
  byMethod: Map<Method, number>;
  perIssuance: number[];
  setupRequests: number;
  /** TLS connections the client opened to the proxy during the loop. */
  connections: number;
  badNonce: number;
  statusErrors: number;
  wallMedian: number;
  wallP90: number;
  wallMax: number;
  cpuMsPerIssuance: number;
  cpuMsMedian: number;
  successes: number;
  errors: string[];
}

const median = (xs: number[]) => percentile(xs, 0.5);
/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function summarise(run: RunResult, log: Entry[]): Summary {
  const [setupStart, loopStart] = run.marks as [Boundary, Boundary];
  const loopEnd = run.marks[run.marks.length - 1]!;
  const entries = log.slice(loopStart.requests, loopEnd.requests);
  const byKindMethod = new Map<string, number>();
  const byKind = new Map<Kind, number>();
  const byMethod = new Map<Method, number>();
  for (const e of entries) {
    const km = `${e.kind}\t${e.method}`;
    byKindMethod.set(km, (byKindMethod.get(km) ?? 0) + 1);
    byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    byMethod.set(e.method, (byMethod.get(e.method) ?? 0) + 1);
  }
  const perIssuance = run.marks.slice(2).map((end, i) => end.requests - run.marks[i + 1]!.requests);
  return {
    name: run.name,
    n: run.wallMs.length,
    byKindMethod,
    byKind,
    byMethod,
    perIssuance,
    setupRequests: loopStart.requests - setupStart.requests,
    connections: loopEnd.connections - loopStart.connections,
    badNonce: entries.filter((e) => e.badNonce).length,
    statusErrors: entries.filter((e) => e.status >= 400 && !e.badNonce).length,
    wallMedian: median(run.wallMs),
    wallP90: percentile(run.wallMs, 0.9),
    wallMax: Math.max(...run.wallMs),
    cpuMsPerIssuance: run.cpuMicros.reduce((sum, x) => sum + x, 0) / 1000 / Math.max(1, run.cpuMicros.length),
    cpuMsMedian: median(run.cpuMicros) / 1000,
    successes: run.successes,
    errors: run.errors,
  };
}

function printTable(summaries: [Summary, Summary]): void {
  const [a, b] = summaries;
  const labelWidth = 36;
  const colWidth = 14;
  const row = (label: string, x: string, y: string, z = '') =>
    console.log(
      label.padEnd(labelWidth) + x.padStart(colWidth) + y.padStart(colWidth) + z.padStart(colWidth),
    );
  const mean = (s: Summary, count: number) => (count / Math.max(1, s.n)).toFixed(2);
  const ratio = (x: number, y: number) => (y > 0 ? (x / y).toFixed(2) : 'n/a');

  row('', a.name, b.name, 'ratio');
  row('requests per issuance (mean)', '', '');
  for (const kind of KINDS) {
    for (const method of [...METHODS, 'other' as const]) {
      const key = `${kind}\t${method}`;
      const x = a.byKindMethod.get(key) ?? 0;
      const y = b.byKindMethod.get(key) ?? 0;
      if (x === 0 && y === 0) continue;
      row(`  ${kind} (${method})`, mean(a, x), mean(b, y));
    }
  }
  const totalA = a.perIssuance.reduce((s, x) => s + x, 0);
  const totalB = b.perIssuance.reduce((s, x) => s + x, 0);
  row('  total', mean(a, totalA), mean(b, totalB), ratio(totalA / a.n, totalB / b.n));
  row(
    '  total min / max',
    `${Math.min(...a.perIssuance)} / ${Math.max(...a.perIssuance)}`,
    `${Math.min(...b.perIssuance)} / ${Math.max(...b.perIssuance)}`,
  );
  row('by method (mean per issuance)', '', '');
  for (const method of [...METHODS, 'other' as const]) {
    const x = a.byMethod.get(method) ?? 0;
    const y = b.byMethod.get(method) ?? 0;
    if (x === 0 && y === 0) continue;
    row(`  ${method}`, mean(a, x), mean(b, y));
  }
  row('badNonce answers (each = 1 retry), total', String(a.badNonce), String(b.badNonce));
  row('other error answers (>= 400), total', String(a.statusErrors), String(b.statusErrors));
  row(
    'requests per issuance w/o badNonce retries',
    mean(a, totalA - a.badNonce),
    mean(b, totalB - b.badNonce),
    ratio((totalA - a.badNonce) / a.n, (totalB - b.badNonce) / b.n),
  );
  row(
    'wall time per issuance, median (ms)',
    a.wallMedian.toFixed(1),
    b.wallMedian.toFixed(1),
    ratio(a.wallMedian, b.wallMedian),
  );
  row(
    'wall time per issuance, p90 (ms)',
    a.wallP90.toFixed(1),
    b.wallP90.toFixed(1),
    ratio(a.wallP90, b.wallP90),
  );
  row(
    'wall time per issuance, max (ms)',
    a.wallMax.toFixed(1),
    b.wallMax.toFixed(1),
    ratio(a.wallMax, b.wallMax),
  );
  row(
    'client CPU per issuance, mean (ms)',
    a.cpuMsPerIssuance.toFixed(1),
    b.cpuMsPerIssuance.toFixed(1),
    ratio(a.cpuMsPerIssuance, b.cpuMsPerIssuance),
  );
  row(
    'client CPU per issuance, median (ms)',
    a.cpuMsMedian.toFixed(1),
    b.cpuMsMedian.toFixed(1),
    ratio(a.cpuMsMedian, b.cpuMsMedian),
  );
  row('TLS connections opened, total', String(a.connections), String(b.connections));
  row('successes', `${a.successes}/${a.n}`, `${b.successes}/${b.n}`);
  row('account setup requests (not counted)', String(a.setupRequests), String(b.setupRequests));
  console.log('');
  console.log(
    `acmekit / acme-client: wall time (median) ${ratio(a.wallMedian, b.wallMedian)}, ` +
      `requests per issuance ${ratio(totalA / a.n, totalB / b.n)}`,
  );
  console.log(
    `theoretical minimum per issuance: ${MINIMUM_RFC} requests by RFC 8555 (newOrder, authz, challenge, ` +
      `1 poll, finalize, certificate; 0 newNonce with a kept nonce), ${MINIMUM_PEBBLE} against Pebble ` +
      '(its finalize answers "processing", so 1 more poll); badNonce retries come on top',
  );
  for (const s of summaries) {
    if (s.errors.length > 0) {
      console.log(`${s.name} failures:`);
      for (const e of new Set(s.errors)) console.log(`  ${e}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '20' }, 'acmekit-first-poll-ms': { type: 'string' } },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got ${values.n}`);
  const firstPoll = values['acmekit-first-poll-ms'];
  const firstPollMs = firstPoll === undefined ? undefined : Number(firstPoll);
  if (firstPollMs !== undefined && !(firstPollMs >= 0)) {
    throw new Error(`--acmekit-first-poll-ms must be a number of milliseconds, got ${firstPoll}`);
  }

  const pebble = await startPebble(); // default nonce rejection (5 %), PEBBLE_VA_NOSLEEP=1
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  try {
    if (!pebble.tlsCertPath || !pebble.tlsKeyPath)
      throw new Error('startPebble did not expose its TLS cert/key');
    proxy = await startProxy({
      directoryUrl: pebble.directoryUrl,
      caPath: pebble.caBundlePath,
      certPath: pebble.tlsCertPath,
      keyPath: pebble.tlsKeyPath,
    });
    const common: RunOptions = {
      directoryUrl: proxy.directoryUrl,
      caBundle: pebble.caBundle,
      httpPort: pebble.httpPort,
      n,
      mark: proxy.mark,
      firstPollMs,
    };
    console.log(
      `Pebble 2.4.0 (default 5 % badNonce rejection, PEBBLE_VA_NOSLEEP=1) behind a counting proxy; ` +
        `N=${n} issuances per client, one new name each, http-01; Node ${process.version}` +
        (firstPollMs === undefined ? '' : `; acmekit first poll after ${firstPollMs} ms (not its default)`),
    );
    const kit = await runAcmekit(common);
    const other = await runAcmeClient(common);
    const log = await proxy.log();
    console.log('');
    printTable([summarise(kit, log), summarise(other, log)]);
  } finally {
    await proxy?.stop();
    await pebble.stop();
  }
}

if (process.env.BENCH_PROXY_CHILD === '1') {
  await runProxyChild();
} else {
  await main();
}
