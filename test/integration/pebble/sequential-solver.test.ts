import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AcmeClient,
  AuthorizationFailedError,
  Http01ListenerSolver,
  obtainCertificate,
} from '../../../src/index.ts';
import type { ChallengeContext, Solver } from '../../../src/solvers/solver.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

// A solver that holds one proof per name at a time (DuckDNS keeps one TXT value): its challenges are
// solved one after another, each validated and removed before the next is published.

let pebble: PebbleServer;
let client: AcmeClient;
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

/** http-01 through one listener, flagged sequential, recording what happens and when. */
function oneAtATime(intervalMs: number, serveWrong?: string) {
  const inner = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
  const events: { at: number; what: string }[] = [];
  let live = 0;
  let most = 0;
  const note = (what: string, ctx: ChallengeContext) =>
    events.push({ at: Date.now(), what: `${what} ${ctx.identifier.value}` });
  const solver: Solver = {
    type: 'http-01',
    sequential: { intervalMs },
    async present(ctx, signal) {
      note('present', ctx);
      most = Math.max(most, ++live);
      // The refused one is never served: the CA's check finds nothing there.
      if (ctx.identifier.value !== serveWrong) await inner.present(ctx, signal);
    },
    async cleanup(ctx, signal) {
      note('cleanup', ctx);
      live = Math.max(0, live - 1);
      await inner.cleanup(ctx, signal);
    },
  };
  return { solver, events, most: () => most };
}

test('challenges of a sequential solver are solved one after another, the interval apart', async () => {
  const account = await client.createAccount({ acceptTos: true });
  const { solver, events, most } = oneAtATime(300);
  const result = await obtainCertificate(account, {
    names: ['a.seq.example', 'b.seq.example'],
    solvers: [solver],
  });
  assert.deepEqual(
    result.identifiers.map((i) => i.value),
    ['a.seq.example', 'b.seq.example'],
  );
  assert.equal(most(), 1, 'never two proofs published at once');
  assert.deepEqual(
    events.map((e) => e.what.split(' ')[0]),
    ['present', 'cleanup', 'present', 'cleanup'],
  );
  assert.ok(events[2]!.at - events[1]!.at >= 290, `${events[2]!.at - events[1]!.at} ms between the two`);
});

test('a sequential challenge the CA refuses stops the order with its reason; the next is not published', async () => {
  const account = await client.createAccount({ acceptTos: true });
  const { solver, events } = oneAtATime(10, 'bad.seq.example');
  await assert.rejects(
    obtainCertificate(account, { names: ['bad.seq.example', 'next.seq.example'], solvers: [solver] }),
    (err: unknown) =>
      err instanceof AuthorizationFailedError && /bad\.seq\.example/.test((err as Error).message),
  );
  // The CA lists authorizations in its own order: whatever came before was solved alone; nothing after.
  const whats = events.map((e) => e.what);
  assert.deepEqual(whats.slice(-2), ['present bad.seq.example', 'cleanup bad.seq.example']);
  for (let i = 0; i < whats.length; i += 2)
    assert.equal(whats[i]!.replace('present', 'cleanup'), whats[i + 1], 'each removed before the next');
});
