import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Account } from '../../src/acme/account.ts';
import { AcmeClient } from '../../src/acme/client.ts';
import { normalizeIdentifiers } from '../../src/acme/identifiers.ts';
import { planLine, resultLine } from '../../src/cli/renewal-lines.ts';
import type { Solver } from '../../src/index.ts';
import { systemClock } from '../../src/internal/clock.ts';
import { silentLogger } from '../../src/internal/logger.ts';
import { certificateFiles } from '../../src/lifecycle/certificate-files.ts';
import {
  carryOutRenewal,
  LEASE_LOST,
  type PlanOptions,
  planRenewal,
  RENEWED_ELSEWHERE,
  type RenewalOutcome,
  type RenewalTarget,
  renewCertificate,
} from '../../src/lifecycle/renew.ts';
import { AutoHttpsEmitter } from '../../src/server/events.ts';
import { Maintenance } from '../../src/server/maintenance.ts';
import { SniCache } from '../../src/server/sni-cache.ts';
import { Http01ListenerSolver } from '../../src/solvers/http01-listener.ts';
import { MemoryStore } from '../../src/storage/memory-store.ts';
import { deactivateValidAuthorizations } from '../support/authorizations.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// The one renewal job (src/lifecycle/renew.ts) drives every scenario once against Pebble; each outcome is
// then shown through the CLI's lines and the server's status and events, which must give the same reason.

const NAME = 'job.example';
let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
let http: Http01ListenerSolver;
const store = new MemoryStore();
const files = certificateFiles(NAME);

before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
  http = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

function target(names: string[] = [NAME], order: Partial<RenewalTarget['order']> = {}): RenewalTarget {
  return {
    files,
    identifiers: normalizeIdentifiers(names),
    namesRule: 'exact',
    order: { challenge: { type: 'http-01' }, keyType: 'ec256', server: pebble.directoryUrl, ...order },
  };
}

function run(t: RenewalTarget, opts: Partial<PlanOptions> = {}, solvers: Solver[] = [http]) {
  return renewCertificate(t, {
    store,
    clock: systemClock,
    ...opts,
    begin: async () => ({ account, solvers }),
  });
}

/** What the server makes of an outcome: the status fields and the events it emitted. */
async function serverView(outcome: RenewalOutcome, names: string[] = [NAME]) {
  const events = new AutoHttpsEmitter();
  const seen: { event: string; reason: string | undefined }[] = [];
  for (const event of ['obtained', 'renewed', 'failed'] as const)
    events.on(event, (e) => seen.push({ event, reason: e.reason }));
  const maintenance = new Maintenance({
    store,
    client,
    account: async () => account,
    solvers: [http],
    keyType: 'ec256',
    email: undefined,
    renewDays: undefined,
    ari: false,
    cache: new SniCache(),
    events,
    logger: silentLogger,
    clock: systemClock,
    retry: { minMs: 60_000, maxMs: 3_600_000 },
    checkIntervalMs: 3_600_000,
    random: Math.random,
  });
  try {
    const m = maintenance.add(normalizeIdentifiers(names));
    const result = await maintenance.apply(m, outcome);
    return { ok: result.ok, reason: m.reason, outcome: m.outcome, failures: m.failures, events: seen };
  } finally {
    await maintenance.close();
  }
}

/** The CLI's lines for an outcome: the plan's line, then the result's. */
function cliLines(outcome: RenewalOutcome): string {
  return 'plan' in outcome ? `${planLine(outcome.plan)}\n${resultLine(outcome)}` : planLine(outcome);
}

function assertSameReason(
  outcome: RenewalOutcome,
  view: Awaited<ReturnType<typeof serverView>>,
  want: RegExp,
) {
  assert.match(outcome.reason, want);
  assert.ok(cliLines(outcome).includes(outcome.reason), `the CLI says why: ${cliLines(outcome)}`);
  assert.equal(view.reason, outcome.reason, 'status() says the same');
  assert.equal(view.outcome, outcome.outcome);
}

/** A solver that fails to present, as with a closed port or a DNS API error. */
const failing: Solver = {
  type: 'http-01',
  present: async () => {
    throw new Error('port 80 is closed');
  },
  cleanup: async () => {},
};

test('every scenario of the renewal job reads the same in the CLI and in the server', async (t) => {
  await t.test('no certificate yet → obtained', async () => {
    const outcome = await run(target());
    assert.equal(outcome.outcome, 'obtained');
    const view = await serverView(outcome);
    assertSameReason(outcome, view, /^no certificate yet$/);
    assert.deepEqual(view.events, [{ event: 'obtained', reason: 'no certificate yet' }]);
  });

  await t.test('not due → nothing ordered', async () => {
    const outcome = await run(target());
    assert.equal(outcome.outcome, 'not-due');
    const view = await serverView(outcome);
    assertSameReason(outcome, view, /lifetime left/);
    assert.match(cliLines(outcome), /^job\.example: not due until \S+ \(/);
    assert.deepEqual(view.events, []);
  });

  await t.test('due (fewer days left than asked) → renewed', async () => {
    const outcome = await run(target(), { renewDays: 10_000 });
    assert.equal(outcome.outcome, 'renewed');
    const view = await serverView(outcome);
    assertSameReason(outcome, view, /10000 days/);
    assert.equal(view.events[0]?.event, 'renewed');
    assert.equal(view.events[0]?.reason, outcome.reason);
  });

  await t.test('forced → renewed', async () => {
    const outcome = await run(target(), { force: true });
    assert.equal(outcome.outcome, 'renewed');
    const view = await serverView(outcome);
    assertSameReason(outcome, view, /^renewal forced$/);
    assert.deepEqual(view.events, [{ event: 'renewed', reason: 'renewal forced' }]);
  });

  await t.test('names changed → a certificate for the new set', async () => {
    const names = [NAME, `www.${NAME}`];
    const outcome = await run(target(names));
    assert.equal(outcome.outcome, 'obtained');
    assert.ok(outcome.outcome === 'obtained');
    assert.deepEqual(
      outcome.saved.result.identifiers.map((i) => i.value),
      names,
    );
    const view = await serverView(outcome, names);
    assertSameReason(outcome, view, /^names changed \(\+www\.job\.example\)$/);
    // Back to one name: the CLI's rule (exact) drops the extra name; the server's (covered) keeps serving it.
    const back = await planRenewal(target(), { store, clock: systemClock });
    assert.equal(back.due && back.reason, 'names changed (-www.job.example)');
    const covered = await planRenewal({ ...target(), namesRule: 'covered' }, { store, clock: systemClock });
    assert.equal(covered.due, false);
    await run(target());
  });

  await t.test('failed, backing off, then retried → renewed', async () => {
    await deactivateValidAuthorizations(account); // so the order reaches the failing solver
    const failed = await run(target(), { force: true }, [failing]);
    assert.equal(failed.outcome, 'failed');
    assert.ok(failed.outcome === 'failed');
    assert.match(failed.error.message, /port 80 is closed/);
    const view = await serverView(failed);
    assertSameReason(failed, view, /^renewal forced$/);
    assert.equal(view.failures, 1);
    assert.deepEqual(view.events, [{ event: 'failed', reason: 'renewal forced' }]);
    assert.match(cliLines(failed), /job\.example: failed: .*port 80 is closed/);

    // The failure is in the record: the next plan backs off (a CLI run from cron) …
    const waiting = await run(target(), { renewDays: 10_000 });
    assert.equal(waiting.outcome, 'backoff');
    assertSameReason(waiting, await serverView(waiting), /1 failed attempt/);
    // … unless the caller keeps its own backoff (the server) or forces it.
    const retried = await run(target(), { renewDays: 10_000, ignorePersistedBackoff: true });
    assert.equal(retried.outcome, 'renewed');
    const after = await serverView(retried);
    assertSameReason(retried, after, /10000 days/);
    assert.equal(after.failures, 0);
    const record = await store.get(files.json);
    assert.doesNotMatch(
      Buffer.from(record!).toString(),
      /lastRenewalAttempt/,
      'the success cleared the failures',
    );
  });

  await t.test('another process renewed meanwhile → nothing ordered', async () => {
    const plan = await planRenewal(target(), { store, clock: systemClock, force: true });
    assert.ok(plan.due);
    const other = await run(target(), { force: true });
    assert.equal(other.outcome, 'renewed');
    let ordered = 0;
    const counting: Solver = {
      ...http,
      type: 'http-01',
      present: async () => void ordered++,
      cleanup: async () => {},
    };
    const outcome = await carryOutRenewal(plan, { store, account, solvers: [counting] });
    assert.equal(outcome.outcome, 'renewed-elsewhere');
    assert.equal(ordered, 0);
    const view = await serverView(outcome);
    assertSameReason(outcome, view, new RegExp(`^${RENEWED_ELSEWHERE}$`));
    assert.deepEqual(view.events, [], 'only the process that ordered it reports a renewal');
  });

  await t.test('lease lost while stalled → the other process’s certificate stands', async () => {
    await deactivateValidAuthorizations(account);
    const before = await store.get(files.crt);
    let taker: { release(): Promise<void> } | undefined;
    // Stalls in present until another process has taken the certificate's lease (its ttl is 200 ms here).
    const stalling: Solver = {
      type: 'http-01',
      present: async (ctx, signal) => {
        taker = await store.lock(files.lockName, { ttlMs: 60_000, waitMs: 10_000 });
        await http.present(ctx, signal);
      },
      cleanup: (ctx, signal) => http.cleanup(ctx, signal),
    };
    const outcome = await run(target([NAME], { lockTtlMs: 200 }), { force: true }, [stalling]);
    await taker?.release();
    assert.equal(outcome.outcome, 'lease-lost');
    assert.deepEqual(await store.get(files.crt), before, 'the stored certificate is untouched');
    const view = await serverView(outcome);
    assertSameReason(outcome, view, new RegExp(`^${LEASE_LOST}$`));
    assert.deepEqual(view.events, []);
  });
});
