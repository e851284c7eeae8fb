import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { AuthorizationFailedError } from '../../../src/errors/authorization.ts';
import { NetworkError } from '../../../src/errors/base.ts';
import { silentLogger } from '../../../src/internal/logger.ts';
import { AutoHttpsEmitter } from '../../../src/server/events.ts';
import { createServerMetrics, errorReason, METRICS } from '../../../src/server/metrics.ts';
import { OnDemand } from '../../../src/server/on-demand.ts';
import { type CachedCertificate, SniCache } from '../../../src/server/sni-cache.ts';
import type { ChallengeContext, Solver } from '../../../src/solvers/solver.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { freePort } from '../../support/free-port.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

async function setup() {
  const registry = new Registry();
  const events = new AutoHttpsEmitter();
  const cache = new SniCache();
  const metrics = await createServerMetrics({ registry }, { events, cache, logger: silentLogger });
  return { registry, events, cache, metrics };
}

/** The value of one series, or undefined when it has none with exactly these labels. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = await metric.get();
  const same = (l: object): boolean =>
    JSON.stringify(Object.entries(l).sort()) === JSON.stringify(Object.entries(labels).sort());
  return values.find((v) => same(v.labels))?.value;
}

function certificate(id: string, notAfter: Date): CachedCertificate {
  return { id, names: [id], serial: '01', notBefore: new Date(0), notAfter, chainPem: '', keyPem: '' };
}

function context(name: string): ChallengeContext {
  return { identifier: { type: 'dns', value: name }, challenge: {}, authorization: {} } as ChallengeContext;
}

function solver(type: 'http-01' | 'dns-01', present: () => Promise<void> = async () => {}): Solver {
  return { type, present, cleanup: async () => {} };
}

test('the expiry gauge follows the SNI cache: set on put, replaced on swap, gone on delete and on close', async () => {
  const { registry, cache, metrics } = await setup();
  const name = METRICS.expiry.name;
  cache.set(certificate('a.test', new Date('2030-01-01T00:00:00Z')));
  cache.set(certificate('b.test', new Date('2031-01-01T00:00:00Z')));
  assert.equal(await value(registry, name, { id: 'a.test' }), Date.parse('2030-01-01T00:00:00Z') / 1000);
  cache.set(certificate('a.test', new Date('2030-06-01T00:00:00Z')));
  assert.equal(await value(registry, name, { id: 'a.test' }), Date.parse('2030-06-01T00:00:00Z') / 1000);
  cache.delete('a.test');
  assert.equal(await value(registry, name, { id: 'a.test' }), undefined);
  metrics.close();
  assert.equal(await value(registry, name, { id: 'b.test' }), undefined);
  cache.set(certificate('c.test', new Date('2032-01-01T00:00:00Z')));
  assert.equal(await value(registry, name, { id: 'c.test' }), undefined, 'a closed manager reports nothing');
});

test('renewals and first obtains are told apart, and failures carry the error code as reason', async () => {
  const { registry, events, cache } = await setup();
  const cert = {
    id: 'a.test',
    names: ['a.test'],
    serial: '01',
    notAfter: new Date(),
    onDemand: false,
    reason: 'no certificate yet',
  };
  events.emit('failed', {
    ...cert,
    error: new NetworkError('refused', 'https://ca/dir'),
    failures: 1,
    retryAt: undefined,
  });
  events.emit('obtained', { ...cert, onDemand: true, reason: 'no certificate yet' });
  cache.set(certificate('a.test', new Date()));
  events.emit('renewed', cert);
  events.emit('failed', { ...cert, error: new Error('plain'), failures: 1, retryAt: undefined });
  assert.equal(await value(registry, METRICS.obtainFailures.name, { reason: 'ERR_NETWORK' }), 1);
  assert.equal(await value(registry, METRICS.obtained.name, { on_demand: 'true' }), 1);
  assert.equal(await value(registry, METRICS.renewals.name, { result: 'success' }), 1);
  assert.equal(await value(registry, METRICS.renewals.name, { result: 'failure', reason: 'ERR_UNKNOWN' }), 1);
});

test('errorReason keeps stable codes only, so the label cannot grow without bound', () => {
  assert.equal(errorReason(new NetworkError('x', 'u')), 'ERR_NETWORK');
  assert.equal(errorReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'ERR_UNKNOWN');
  assert.equal(errorReason(Object.assign(new Error('x'), { code: 'ERR_made up by a user' })), 'ERR_UNKNOWN');
  assert.equal(errorReason(undefined), 'ERR_UNKNOWN');
});

test('challenge outcomes: valid when the attempt succeeds, invalid for the one the CA refused, error when present failed, abandoned otherwise', async () => {
  const { registry, events, metrics } = await setup();
  const store = new MemoryStore();
  const signal = AbortSignal.timeout(1000);
  const cert = {
    names: ['a.test'],
    serial: '01',
    notAfter: new Date(),
    onDemand: false,
    reason: 'no certificate yet',
  };
  const count = (type: string, result: string) => value(registry, METRICS.challenges.name, { type, result });

  let [watched] = metrics.instrument('a.test', store, [solver('http-01')]).solvers;
  await watched!.present(context('a.test'), signal);
  events.emit('obtained', { ...cert, id: 'a.test' });
  assert.equal(await count('http-01', 'valid'), 1);

  [watched] = metrics.instrument('b.test', store, [solver('http-01')]).solvers;
  await watched!.present(context('b.test'), signal);
  await watched!.present(context('www.b.test'), signal);
  const refused = new AuthorizationFailedError('www.b.test', 'http-01', undefined);
  events.emit('failed', { ...cert, id: 'b.test', error: refused, failures: 1, retryAt: undefined });
  assert.equal(await count('http-01', 'invalid'), 1);
  assert.equal(await count('http-01', 'abandoned'), 1);

  const broken = solver('dns-01', async () => {
    throw new Error('zone not found');
  });
  [watched] = metrics.instrument('c.test', store, [broken]).solvers;
  await assert.rejects(watched!.present(context('c.test'), signal), /zone not found/);
  const error = new Error('zone not found');
  events.emit('failed', { ...cert, id: 'c.test', error, failures: 1, retryAt: undefined });
  assert.equal(await count('dns-01', 'error'), 1);

  // A failure with no attempt running (the account could not be loaded) counts no challenge.
  events.emit('failed', {
    ...cert,
    id: 'a.test',
    error: new Error('no account'),
    failures: 1,
    retryAt: undefined,
  });
  assert.equal(await count('http-01', 'valid'), 1);
});

test('watched solvers keep type and optional capabilities as they were', async () => {
  const { metrics } = await setup();
  const plain = solver('http-01');
  const rich: Solver = { ...solver('dns-01'), wait: async () => {}, handles: (id) => id.value === 'a.test' };
  const [a, b] = metrics.instrument('a.test', new MemoryStore(), [plain, rich]).solvers;
  assert.equal(a!.type, 'http-01');
  assert.equal('wait' in a!, false);
  assert.equal('handles' in a!, false);
  assert.equal(b!.type, 'dns-01');
  assert.equal(typeof b!.wait, 'function');
  assert.equal(b!.handles!({ type: 'dns', value: 'a.test' }), true);
  assert.equal(b!.handles!({ type: 'dns', value: 'b.test' }), false);
});

test('lock waits: the time until the certificate lease was granted, or until waiting gave up', async () => {
  const { registry, metrics } = await setup();
  const store = new MemoryStore();
  const timed = metrics.instrument('a.test', store, []).store;
  const held = await store.lock('certificate-a', { ttlMs: 10_000 });
  setTimeout(() => void held.release(), 150);
  const lease = await timed.lock('certificate-a', { ttlMs: 10_000, waitMs: 5_000 });
  await lease.release();
  const other = await store.lock('certificate-b', { ttlMs: 10_000 });
  await assert.rejects(timed.lock('certificate-b', { ttlMs: 10_000, waitMs: 50 }));
  await other.release();

  const histogram = registry.getSingleMetric(METRICS.lockWait.name)!;
  const { values } = await histogram.get();
  const named = values as { labels: { result?: string }; metricName?: string; value: number }[];
  const of = (result: string, suffix: string) =>
    named.find((v) => v.labels.result === result && v.metricName === `${METRICS.lockWait.name}_${suffix}`)
      ?.value;
  assert.equal(of('acquired', 'count'), 1);
  assert.ok(of('acquired', 'sum')! >= 0.14, `waited ${of('acquired', 'sum')} s`);
  assert.equal(of('failed', 'count'), 1);
  // The proxy passes everything else through to the store itself.
  await timed.put('k', 'v');
  assert.equal(Buffer.from((await store.get('k'))!).toString(), 'v');
});

test('on-demand outcomes: one count per attempt, by how it ended', async () => {
  const { registry, metrics } = await setup();
  let now = 0;
  const allowed = new Set([
    'stored.example.com',
    'new.example.com',
    'second.example.com',
    'fails.example.com',
  ]);
  const od = new OnDemand(
    { allow: (name) => allowed.has(name), rateLimit: { orders: 2, intervalMs: 60_000 } },
    {
      logger: silentLogger,
      clock: { now: () => now, sleep: async () => {} },
      loadStored: async (name) => name === 'stored.example.com',
      obtain: async (name) => {
        if (name === 'fails.example.com') throw new Error('CA said no');
      },
      onOutcome: metrics.onDemandOutcome,
    },
  );
  const names = [
    'localhost',
    'evil.example.com',
    'evil.example.com',
    'stored.example.com',
    'new.example.com',
    'fails.example.com',
    'fails.example.com',
    'second.example.com',
  ];
  for (const name of names) {
    await od.certificateFor(name).catch(() => {});
    now += 1;
  }
  const outcomes: Record<string, number | undefined> = {};
  for (const outcome of [
    'invalid_name',
    'denied',
    'denied_cached',
    'stored',
    'ordered',
    'backoff',
    'rate_limited',
  ]) {
    outcomes[outcome] = await value(registry, METRICS.onDemand.name, { outcome });
  }
  assert.deepEqual(outcomes, {
    invalid_name: 1,
    denied: 1,
    denied_cached: 1,
    stored: 1,
    ordered: 2,
    backoff: 1,
    rate_limited: 1,
  });
});

test('two managers on one registry share the series instead of failing to register them twice', async () => {
  const registry = new Registry();
  const deps = () => ({ events: new AutoHttpsEmitter(), cache: new SniCache(), logger: silentLogger });
  const first = deps();
  const second = deps();
  await createServerMetrics({ registry }, first);
  await createServerMetrics({ registry }, second);
  first.cache.set(certificate('a.test', new Date('2030-01-01T00:00:00Z')));
  second.cache.set(certificate('b.test', new Date('2031-01-01T00:00:00Z')));
  const text = await registry.metrics();
  assert.match(text, /acmekit_certificate_expiry_timestamp_seconds\{id="a\.test"\} 1893456000/);
  assert.match(text, /acmekit_certificate_expiry_timestamp_seconds\{id="b\.test"\} 1924992000/);
});

test('a registry that is not one is refused with a clear error', async () => {
  const deps = { events: new AutoHttpsEmitter(), cache: new SniCache(), logger: silentLogger };
  await assert.rejects(createServerMetrics({ registry: {} as never }, deps), /prom-client Registry/);
});

/** Runs a script in a child Node whose module resolution refuses prom-client, as if it were not installed. */
async function withoutPromClient(script: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-no-prom-'));
  try {
    const log = join(dir, 'asked.log');
    await writeFile(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'prom-client' || specifier.startsWith('prom-client/')) {
    appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
    throw Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
`,
    );
    await writeFile(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
    await writeFile(join(dir, 'child.mts'), script);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, join(dir, 'child.mts')],
      { cwd: ROOT, timeout: 60_000 },
    );
    const asked = await readFile(log, 'utf8').catch(() => '');
    return { ...JSON.parse(stdout.trim().split('\n').at(-1)!), asked };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('without metrics autoHttps never imports prom-client, and works where it is not installed; asking for metrics there fails clearly', async () => {
  const caPort = await freePort(); // nothing listens: the background first check fails at once, on loopback
  const src = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);
  const result = await withoutPromClient(`
import { autoHttps } from ${src('src/server/index.ts')};
import { MemoryStore } from ${src('src/storage/memory-store.ts')};
const base = { domains: ['a.test'], acceptTos: true, directory: 'https://127.0.0.1:${caPort}/dir', challenges: ['http-01'] as const };
const tls = await autoHttps({ ...base, store: new MemoryStore() });
const works = typeof tls.serverOptions.SNICallback === 'function' && tls.status().certificates.length === 1;
await tls.close();
const registry = { registerMetric() {}, getSingleMetric() { return undefined; } };
const error = await autoHttps({ ...base, store: new MemoryStore(), metrics: { registry } }).then(
  async (t) => { await t.close(); return 'no error'; },
  (err: Error & { code?: string }) => ({ code: err.code, message: err.message }),
);
console.log(JSON.stringify({ works, error }));
`);
  assert.equal(result.works, true);
  assert.deepEqual(result.error, {
    code: 'ERR_INVALID_INPUT',
    message: 'metrics need the prom-client package: npm install prom-client',
  });
  // prom-client was asked for once, by the call that wanted metrics, never by the one without.
  assert.equal(result.asked, 'prom-client\n');
});

test('docs/server.md lists every series with its type and labels', async () => {
  const docs = await readFile(join(ROOT, 'docs/server.md'), 'utf8');
  for (const spec of Object.values(METRICS)) {
    const row = `| \`${spec.name}\` | ${spec.kind.toLowerCase()} | ${spec.labelNames.map((l) => `\`${l}\``).join(', ')} |`;
    assert.ok(docs.includes(row), `docs/server.md has the row: ${row}`);
  }
  const rows = docs.match(/^\| `acmekit_[a-z_]+` \|/gm) ?? [];
  assert.equal(rows.length, Object.keys(METRICS).length, 'and no series that does not exist');
});
