import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  type Account,
  AcmeClient,
  type ChallengeContext,
  Http01ListenerSolver,
  obtainCertificate,
  TimeoutError,
} from '../../../src/index.ts';
import {
  combine,
  effective,
  type FaultProxy,
  mutateJson,
  type ProxyLogEntry,
  type ProxyRequest,
  setHeader,
  startFaultProxy,
} from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

// RELIABILITY A4: Pebble's VA sleeps before each of its 3 concurrent validation requests, 0–14 s each
// (PEBBLE_VA_SLEEPTIME=15), so an authorization stays pending for as long as the longest of the three.
// Two flows run at once against one Pebble, through the fault proxy (which only adds a Retry-After):
// obtain() with the default poll policy, and Authorization.wait() on a client with a short
// polling.timeoutMs. Requests are told apart by the account (the JWS kid).

/** Retry-After (s) put on the first order poll of obtain(). */
const RETRY_AFTER_S = 3;
/** polling.timeoutMs of the impatient client. */
const SHORT_TIMEOUT_MS = 1000;
/** Timer and event-loop tolerance for gaps measured at the proxy (as in retries.test.ts). */
const SLACK_MS = 15;

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble({ vaSleep: true, env: { PEBBLE_VA_SLEEPTIME: '15' }, authzReuse: 0 });
});
after(() => pebble?.stop());

const byAccount = (log: readonly ProxyLogEntry[], account: Account) =>
  log.filter((e) => e.kid === account.url);

test('A4: slow validation (PEBBLE_VA_SLEEPTIME=15): issuance succeeds; obtain() polls its order and Authorization.wait() the authz URL, never the challenge; about 1 poll/s at most; Retry-After honoured; a short polling.timeoutMs gives TimeoutError', async (t) => {
  const proxy: FaultProxy = await startFaultProxy({ target: pebble });
  const client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle });
  const impatient = new AcmeClient(proxy.directoryUrl, {
    caBundle: pebble.caBundle,
    polling: { timeoutMs: SHORT_TIMEOUT_MS },
  });
  t.after(async () => {
    client.close();
    impatient.close();
    await proxy.stop();
  });
  const [account, other] = await Promise.all([
    client.createAccount({ acceptTos: true }),
    impatient.createAccount({ acceptTos: true }),
  ]);
  const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });

  // Pebble 2.4.0 sends no Retry-After on polls: the proxy adds one to obtain()'s first order poll, and
  // notes the status each order poll answered.
  const orderStatus = new Map<number, string>();
  const note = mutateJson((o: { status: string }, req) => {
    orderStatus.set(req.seq, o.status);
    return undefined;
  });
  const mine = (req: ProxyRequest) => req.jws?.kid === account.url;
  const retryAfter = proxy.rule({
    name: 'retry-after',
    resource: 'order',
    method: 'POST',
    when: mine,
    times: 1,
    action: combine(setHeader('retry-after', String(RETRY_AFTER_S)), note),
  });
  proxy.rule({ name: 'note', resource: 'order', method: 'POST', when: mine, action: note });

  const started = Date.now();
  const issue = obtainCertificate(account, { names: ['slow.example.com'], solvers: [solver] });
  const giveUp = (async () => {
    const order = await other.newOrder({ identifiers: ['impatient.example.com'] });
    const [authz] = await order.authorizations();
    const challenge = authz?.challenge('http-01');
    assert.ok(authz && challenge);
    const ctx: ChallengeContext = { identifier: authz.identifier, challenge, authorization: authz };
    await solver.present(ctx, AbortSignal.timeout(10_000));
    try {
      await challenge.respond();
      const from = Date.now();
      const outcome = await authz.wait().then(
        () => 'valid' as const,
        (err: unknown) => err,
      );
      return { authz, outcome, ms: Date.now() - from };
    } finally {
      await solver.cleanup(ctx, AbortSignal.timeout(10_000));
    }
  })();
  const [result, impatientRun] = await Promise.all([issue, giveUp]);
  const tookMs = Date.now() - started;
  await proxy.idle();

  // obtain(): issued, after polling the order (the resource that reflects the authorization).
  assert.match(new X509Certificate(result.certificate).subjectAltName ?? '', /DNS:slow\.example\.com/);
  const log = byAccount(proxy.log, account);
  // Counted as the client meant them: Pebble's random badNonce rejections, each sent again at once, left out.
  const respond = effective(log).filter((e) => e.resource === 'chall');
  assert.equal(respond.length, 1, 'the challenge was answered once');
  assert.equal(respond[0]!.status, 200);
  const answeredAt = respond[0]!;
  assert.deepEqual(
    log.filter((e) => e.resource === 'chall' && e.seq > answeredAt.seq).map((e) => e.seq),
    [],
    'obtain() never touches the challenge again after answering it',
  );
  const finalize = log.find((e) => e.resource === 'finalize');
  assert.ok(finalize);
  // The wait for validation: every request between the challenge answer and finalize. Polls Pebble
  // refused with its random badNonce (retried at once with the nonce of the answer) are left out.
  const waiting = log.filter((e) => e.seq > answeredAt.seq && e.seq < finalize.seq);
  const polls = effective(waiting);
  assert.ok(polls.length >= 1);
  const orderPath = new URL(result.orderUrl).pathname;
  for (const p of waiting) {
    assert.equal(p.resource, 'order', `#${p.seq} polls the order, not ${p.resource}`);
    assert.equal(p.path, orderPath);
  }
  assert.equal(orderStatus.get(polls.at(-1)!.seq), 'ready', 'the last poll found the order ready');
  // About one poll per second at most: the quick first look, then backoff. A fixed 250 ms poller would
  // make 4 per second of validation time.
  const windowS = (polls.at(-1)!.at - answeredAt.doneAt!) / 1000;
  assert.ok(
    polls.length <= 2 + windowS,
    `${polls.length} polls in ${windowS.toFixed(1)} s of validation: more than ~1 per second`,
  );
  // Retry-After: the poll after the one that asked for 3 s came no sooner.
  assert.equal(retryAfter.applied, 1);
  const asked = log.find((e) => e.rule === 'retry-after')!;
  if (orderStatus.get(asked.seq) === 'pending') {
    const next = log.find((e) => e.resource === 'order' && e.seq > asked.seq)!;
    const gap = next.at - asked.doneAt!;
    assert.ok(gap >= RETRY_AFTER_S * 1000 - SLACK_MS, `next poll ${gap} ms after Retry-After: 3`);
    assert.ok(gap < RETRY_AFTER_S * 1000 + 3000, `next poll not much later than asked (${gap} ms)`);
  } else {
    t.diagnostic(
      'the first poll already found the order ready (all VA sleeps 0 s): Retry-After not exercised',
    );
  }

  // Authorization.wait(): polls the authz URL, never the challenge, and gives up at polling.timeoutMs.
  const { authz, outcome, ms } = impatientRun;
  const otherLog = byAccount(proxy.log, other);
  const answered = otherLog.find((e) => e.resource === 'chall' && e.status === 200)!;
  const afterAnswer = otherLog.filter((e) => e.seq > answered.seq);
  // Polls counted as the client meant them (Pebble's random badNonce rejections left out).
  const authzPolls = effective(afterAnswer).length;
  assert.ok(authzPolls >= 1, 'polled');
  for (const e of afterAnswer) {
    assert.equal(e.resource, 'authz', `#${e.seq} polls the authorization, not ${e.resource}`);
    assert.equal(e.jwsUrl, authz.url);
  }
  if (outcome === 'valid') {
    // Only when Pebble's three sleeps were all 0 s (odds 1 in 3375): validation beat the deadline.
    assert.ok(ms < SHORT_TIMEOUT_MS + 1000, `wait() resolved after ${ms} ms, past polling.timeoutMs`);
    t.diagnostic('validation finished before polling.timeoutMs: the timeout was not exercised');
  } else {
    assert.ok(outcome instanceof TimeoutError, `wait() failed with ${String(outcome)}`);
    assert.ok(authzPolls >= 2, 'polled again before giving up');
    assert.match(outcome.message, /did not finish within 1 s/);
    assert.ok(ms >= SHORT_TIMEOUT_MS - SLACK_MS, `gave up after ${ms} ms, before polling.timeoutMs`);
    assert.ok(ms < SHORT_TIMEOUT_MS + 3000, `gave up ${ms} ms after it began, long after the deadline`);
  }

  const sleeps = [...pebble.logs().matchAll(/Sleeping for (\d+)s seconds/g)].map((m) => Number(m[1]));
  t.diagnostic(
    `A4: issued in ${(tookMs / 1000).toFixed(1)} s; VA sleeps ${sleeps.join(', ')} s; obtain() polled the order ${polls.length} times in ${windowS.toFixed(1)} s; wait() with polling.timeoutMs ${SHORT_TIMEOUT_MS}: ${outcome instanceof Error ? outcome.name : outcome} after ${ms} ms, ${authzPolls} authz polls`,
  );
});
