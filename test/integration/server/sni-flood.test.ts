import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { type OnDemandChild, startOnDemandChild } from './fixtures/on-demand-child.ts';
import { peek } from './support.ts';

// RELIABILITY E3: a flood of TLS handshakes with random SNI names against an on-demand server whose
// allow() knows 3 names. The server runs in a child process so its RSS is its own; the CA is reached
// through a recording proxy, so any ACME request the flood causes shows in proxy.log.
const HANDSHAKES = 10_000;
const CONCURRENCY = 50;
/** Names sent REPEATS times each, spread through the flood: allow() must still be asked once per TTL. */
const REPEATED = ['again-1.flood.example', 'again-2.flood.example', 'again-3.flood.example'];
const REPEATS = 20;
const ALLOWED = ['one.ok.example', 'two.ok.example', 'three.ok.example'];
/** How long a refusal is remembered (OnDemand's default, given explicitly). */
const DENY_CACHE_MS = 60_000;
/**
 * Ceiling on the server's RSS growth over the flood, measured after a full GC before and after. Measured
 * on Node 20 (2 cores, other tests running): −11 to +11 MB after the warm-up (RSS jumps by ~30 MB over the
 * first ~3,000 handshakes whatever the names, OpenSSL and allocator arenas, then stays flat; the JS heap
 * grows ~2 MB). 40 MB leaves room for that noise and still fails a leak of 4 KB per refused handshake
 * (tried: +49 MB).
 */
const RSS_CEILING = 40 * 1024 * 1024;
const WARM_UP = 3_000;
/** OnDemand's default bound on remembered refusals (maxTracked). */
const MAX_TRACKED = 10_000;

let pebble: PebbleServer;
let proxy: FaultProxy;
let server: OnDemandChild;
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  proxy = await startFaultProxy({ target: pebble });
  server = await startOnDemandChild({
    pebble,
    directoryUrl: proxy.directoryUrl,
    allow: ALLOWED,
    denyCacheMs: DENY_CACHE_MS,
  });
});
after(async () => {
  await server?.stop();
  await proxy?.stop();
  await pebble?.stop();
});

/** Runs `names` as handshakes, CONCURRENCY at a time; each must fail (refused), none may time out. */
async function flood(
  names: readonly string[],
): Promise<{ ok: number; failures: Map<string, number>; ms: number }> {
  const failures = new Map<string, number>();
  let ok = 0;
  let next = 0;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const servername = names[next++]!;
      try {
        await peek(server.port, { servername, timeoutMs: 10_000 });
        ok++;
      } catch (err) {
        const key = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ok, failures, ms: Date.now() - started };
}

const randomName = (): string => `${randomBytes(6).toString('hex')}.flood.example`;

test('E3: 10,000 handshakes with random SNI against an allowlist of 3: no ACME request, server RSS growth under 40 MB, allow() asked at most once per name per deny-cache period, the deny cache bounded', {
  timeout: 120_000,
}, async () => {
  // Warm-up: 3,000 handshakes with distinct names, so the RSS baseline is the steady state of the TLS
  // machinery (OpenSSL, allocator arenas grow over the first few thousand handshakes, whatever the names).
  const warmNames = Array.from({ length: WARM_UP }, randomName);
  const warm = await flood(warmNames);
  assert.equal(warm.ok, 0);
  const base = await server.memory();

  // 9,940 distinct random names plus 3 names repeated 20 times each at random places: 10,000 handshakes.
  const names = Array.from({ length: HANDSHAKES - REPEATED.length * REPEATS }, randomName);
  for (const name of REPEATED) {
    for (let i = 0; i < REPEATS; i++) names.splice(Math.floor(Math.random() * names.length), 0, name);
  }
  assert.equal(names.length, HANDSHAKES);
  const run = await flood(names);
  const end = await server.memory();
  const growth = end.rss - base.rss;
  const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
  console.log(
    `E3 flood: ${HANDSHAKES} handshakes in ${run.ms} ms (${Math.round((HANDSHAKES * 1000) / run.ms)}/s, ` +
      `${CONCURRENCY} in flight); server RSS ${mb(base.rss)} → ${mb(end.rss)} MB (growth ${mb(growth)} MB), ` +
      `heap ${mb(base.heapUsed)} → ${mb(end.heapUsed)} MB; client errors ${JSON.stringify(Object.fromEntries(run.failures))}`,
  );

  // Every handshake was refused, and refused at once (none ran into the 10 s client timeout).
  assert.equal(run.ok, 0, 'no random name got a certificate');
  assert.equal(run.failures.get('handshake timeout') ?? 0, 0, 'no refused handshake was left waiting');

  // Nothing reached the CA: no newOrder, no newAccount, not even the directory or a nonce.
  assert.deepEqual(
    proxy.log.map((e) => `${e.method} ${e.resource}`),
    [],
    'the flood caused no ACME request',
  );

  assert.ok(
    growth < RSS_CEILING,
    `server RSS grew ${mb(growth)} MB over ${HANDSHAKES} refused handshakes (ceiling ${mb(RSS_CEILING)} MB)`,
  );

  // allow() was asked about every name (the decision path ran), and never twice for one name within
  // the deny-cache period: the repeated names were asked once however often they came.
  const report = await server.report();
  const distinct = new Set([...names, ...REPEATED]);
  for (const name of distinct) {
    const calls = report.asked[name];
    assert.ok(calls && calls.length >= 1, `allow() was asked about ${name}`);
    for (let i = 1; i < calls.length; i++) {
      assert.ok(
        calls[i]! - calls[i - 1]! >= DENY_CACHE_MS,
        `allow() asked twice about ${name} within ${DENY_CACHE_MS} ms`,
      );
    }
  }
  if (run.ms < DENY_CACHE_MS) {
    for (const name of REPEATED)
      assert.equal(report.asked[name]?.length, 1, `${name}: ${REPEATS} handshakes, one allow()`);
  }
  assert.equal(report.status.onDemand?.ordersStarted, 0);
  assert.equal(report.status.certificates.length, 0, 'no refused name is managed');

  // The deny cache is bounded: warm-up and flood refused 12,943 distinct names, more than the 10,000
  // remembered, so the oldest (the first warm-up names) were forgotten and allow() is asked again,
  // while the flood's names (all younger) were kept. An unbounded cache would answer from memory here.
  assert.ok(warmNames.length + distinct.size > MAX_TRACKED);
  const first = warmNames[0]!;
  assert.equal(report.asked[first]?.length, 1);
  await assert.rejects(peek(server.port, { servername: first }));
  assert.equal(
    (await server.report()).asked[first]?.length,
    2,
    `${first} was forgotten past ${MAX_TRACKED} names`,
  );

  // Control: the same server does reach the CA through the proxy for an allowed name, so an empty log
  // above means "no request", not "requests went elsewhere".
  const roots = await pebble.roots();
  const served = await Promise.all(ALLOWED.map((servername) => peek(server.port, { servername, ca: roots })));
  for (const [i, h] of served.entries()) {
    assert.equal(h.authorized, true, h.authorizationError);
    assert.match(h.cert.subjectaltname ?? '', new RegExp(`DNS:${ALLOWED[i]!.replaceAll('.', '\\.')}`));
  }
  // Counted by Pebble's 201 answers: a request Pebble refused with its random badNonce is sent again.
  const created = (resource: 'newOrder' | 'newAccount') =>
    proxy.requests(resource).filter((e) => e.status === 201).length;
  assert.equal(created('newOrder'), ALLOWED.length);
  assert.equal(created('newAccount'), 1);
});
